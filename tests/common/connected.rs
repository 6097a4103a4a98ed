//! A user who signed in and connected a third-party client, with the
//! tokens of the code exchange: the starting point of the tests of what
//! comes after the flow (disconnecting, signing out, operator actions).

use super::browser::{Browser, PASSWORD, Page, client, user};
use super::{MASTER, basic, post_form, workspace};
use keyflow::domain::user::Role;
use keyflow::testing::{TestDb, TestServer};

pub const REDIRECT: &str = "https://make.example/cb";
pub const SIGNED_OUT: &str = "https://make.example/signed-out";
pub const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";
pub const EMAIL: &str = "ann@example.com";

pub struct Connected {
    pub node: TestServer,
    pub browser: Browser,
    pub client_id: String,
    pub secret: String,
    pub tokens: serde_json::Value,
    pub _db: TestDb,
}

/// An authorization request for `client_id`, with PKCE (`VERIFIER`).
pub fn authorize_url(node: &TestServer, client_id: &str, scope: &str) -> url::Url {
    super::browser::authorize_url(node, client_id, REDIRECT, scope, VERIFIER)
}

/// Redeems `code` at the token endpoint with HTTP Basic.
pub async fn redeem(node: &TestServer, client_id: &str, secret: &str, code: &str) -> super::Answer {
    post_form(
        node,
        Some(&basic(client_id, secret)),
        &format!(
            "grant_type=authorization_code&code={code}&code_verifier={VERIFIER}&redirect_uri={}",
            url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
        ),
    )
    .await
}

/// A user who connected the client, with tokens from the code exchange.
pub async fn connected() -> Connected {
    connected_on(TestDb::sqlite()).await
}

/// The same on `db`.
pub async fn connected_on(db: TestDb) -> Connected {
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&node, "Acme").await;
    user(&node, EMAIL, &[(&ws.workspace.id, Role::Owner)]).await;
    let (client_id, secret) = client(
        &node,
        REDIRECT,
        false,
        &["openid", "offline_access", "api:read"],
    )
    .await;
    let secret = secret.unwrap();
    let browser = Browser::new();
    let mut url = authorize_url(&node, &client_id, "openid offline_access api:read");
    url.query_pairs_mut().append_pair("nonce", "n-1");
    let login = browser.get(url.as_str()).await;
    let consent = browser.sign_in(&node, &login, EMAIL, PASSWORD).await;
    let back = browser.decide(&node, &consent, "allow", None).await;
    let a = redeem(&node, &client_id, &secret, &back.redirect_params()["code"]).await;
    assert_eq!(a.status, 200, "{}", a.json);
    Connected {
        node,
        browser,
        client_id,
        secret,
        tokens: a.json,
        _db: db,
    }
}

impl Connected {
    pub async fn refresh(&self) -> super::Answer {
        post_form(
            &self.node,
            Some(&basic(&self.client_id, &self.secret)),
            &format!(
                "grant_type=refresh_token&refresh_token={}",
                self.tokens["refresh_token"].as_str().unwrap()
            ),
        )
        .await
    }

    pub async fn apps(&self) -> Page {
        self.browser.get(&self.node.url("/account/apps")).await
    }

    /// Presses Disconnect on the connected apps page.
    pub async fn disconnect(&self) -> Page {
        let apps = self.apps().await;
        let (csrf, workspace) = (apps.field("csrf"), apps.field("workspace"));
        self.browser
            .post(
                &self.node.url("/account/apps/disconnect"),
                &[
                    ("csrf", csrf.as_str()),
                    ("client_id", &self.client_id),
                    ("workspace", &workspace),
                ],
            )
            .await
    }
}
