//! After the flow: the connected apps page, disconnecting, signing out
//! (RP-Initiated Logout) and the UserInfo endpoint's refusals.

mod common;

use common::browser::{Browser, PASSWORD, client, user};
use common::connected::{EMAIL, REDIRECT, SIGNED_OUT, authorize_url, connected, redeem};
use common::{MASTER, basic, workspace};
use keyflow::domain::user::Role;
use keyflow::testing::{TestDb, TestServer};

#[tokio::test]
async fn connected_apps_lists_and_disconnects_revoking_refresh_tokens() {
    let c = connected().await;
    let page = c.apps().await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Make"), "{}", page.html);
    assert!(page.html.contains("Acme"));
    assert!(page.html.contains("offline_access"));
    let workspace_id = page.field("workspace");
    // Without the CSRF token nothing happens.
    let p = c
        .browser
        .post(
            &c.node.url("/account/apps/disconnect"),
            &[
                ("client_id", c.client_id.as_str()),
                ("workspace", &workspace_id),
            ],
        )
        .await;
    assert_eq!(p.status, 403);
    assert_eq!(c.refresh().await.status, 200, "still connected");
    let p = c.disconnect().await;
    assert_eq!(p.status, 303);
    let page = c.apps().await;
    assert!(!page.html.contains("name=\"client_id\""), "{}", page.html);
    let a = c.refresh().await;
    assert_eq!(a.json["error"], "invalid_grant", "{}", a.json);
    // A signed-out browser is sent to the login page.
    let p = Browser::new().get(&c.node.url("/account/apps")).await;
    assert_eq!(p.status, 303);
    assert!(p.location.unwrap().starts_with("/login"));
}

#[tokio::test]
async fn logout_with_a_hint_ends_the_session_and_returns_to_the_client() {
    let c = connected().await;
    let id_token = c.tokens["id_token"].as_str().unwrap();
    let mut url = url::Url::parse(&c.node.url("/oauth/logout")).unwrap();
    url.query_pairs_mut().extend_pairs([
        ("id_token_hint", id_token),
        ("post_logout_redirect_uri", SIGNED_OUT),
        ("state", "bye"),
    ]);
    let p = c.browser.get(url.as_str()).await;
    assert_eq!(p.status, 303, "{}", p.html);
    assert_eq!(
        p.location.as_deref(),
        Some(&*format!("{SIGNED_OUT}?state=bye"))
    );
    // The session is gone: the account page asks for a login again.
    assert_eq!(c.apps().await.status, 303);
}

#[tokio::test]
async fn logout_refuses_unregistered_redirects_and_confirms_without_a_hint() {
    let c = connected().await;
    let mut url = url::Url::parse(&c.node.url("/oauth/logout")).unwrap();
    url.query_pairs_mut().extend_pairs([
        ("client_id", c.client_id.as_str()),
        ("post_logout_redirect_uri", "https://evil.example/"),
    ]);
    let p = c.browser.get(url.as_str()).await;
    assert_eq!((p.status, p.location), (400, None));
    let p = c
        .browser
        .get(&c.node.url("/oauth/logout?id_token_hint=not.a.token"))
        .await;
    assert_eq!(p.status, 400);
    // No hint: the user confirms, so another site cannot sign them out.
    let confirm = c.browser.get(&c.node.url("/oauth/logout")).await;
    assert_eq!(confirm.status, 200);
    assert_eq!(c.apps().await.status, 200, "still signed in");
    let csrf = confirm.field("csrf");
    let p = c
        .browser
        .post(
            &c.node.url("/oauth/logout/confirm"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(p.status, 200);
    assert!(p.html.contains("signed out"), "{}", p.html);
    assert_eq!(c.apps().await.status, 303);
}

#[tokio::test]
async fn userinfo_needs_an_openid_access_token() {
    let c = connected().await;
    let at = c.tokens["access_token"].as_str().unwrap();
    let http = common::http();
    let res = http
        .post(c.node.url("/oauth/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "POST works as GET");
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body.get("email").is_none(), "no email scope, no email");
    let res = http
        .get(c.node.url("/oauth/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let ws = workspace(&c.node, "Machines").await;
    let cc = common::token(&c.node, &ws, "api:read").await;
    let res = http
        .get(c.node.url("/oauth/userinfo"))
        .bearer_auth(cc)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_grant() {
    let c = connected().await;
    let rt = c.tokens["refresh_token"].as_str().unwrap();
    let res = common::http()
        .post(c.node.url("/oauth/revoke"))
        .header("authorization", basic(&c.client_id, &c.secret))
        .form(&[("token", rt)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(c.refresh().await.json["error"], "invalid_grant");
    let res = common::http()
        .get(c.node.url("/oauth/userinfo"))
        .bearer_auth(c.tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "the grant's access token is revoked too");
}

#[tokio::test]
async fn discovery_describes_the_oidc_provider() {
    let c = connected().await;
    let m = common::get_json(c.node.url("/.well-known/openid-configuration")).await;
    let issuer = &c.node.issuer;
    assert_eq!(
        m["authorization_endpoint"],
        format!("{issuer}/oauth/authorize")
    );
    assert_eq!(m["userinfo_endpoint"], format!("{issuer}/oauth/userinfo"));
    assert_eq!(m["end_session_endpoint"], format!("{issuer}/oauth/logout"));
    assert_eq!(m["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        m["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    assert_eq!(m["subject_types_supported"], serde_json::json!(["public"]));
    assert_eq!(m["id_token_signing_alg_values_supported"][0], "RS256");
    for g in ["authorization_code", "refresh_token", "client_credentials"] {
        assert!(
            m["grant_types_supported"]
                .as_array()
                .unwrap()
                .contains(&g.into()),
            "{g}"
        );
    }
}

#[tokio::test]
async fn signing_in_outside_a_flow_lands_on_keyflows_own_pages_only() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&node, "Acme").await;
    user(&node, EMAIL, &[(&ws.workspace.id, Role::Member)]).await;
    for (return_to, lands) in [
        ("/account/apps", "/account/apps"),
        ("/console/account", "/console/account"),
        ("https://evil.example/", "/console"),
        ("//evil.example/account/", "/console"),
        ("/console//evil.example", "/console"),
    ] {
        let browser = Browser::new();
        let mut url = url::Url::parse(&node.url("/login")).unwrap();
        url.query_pairs_mut().append_pair("return_to", return_to);
        let login = browser.get(url.as_str()).await;
        assert_eq!(login.status, 200);
        let p = browser.sign_in(&node, &login, EMAIL, PASSWORD).await;
        assert_eq!(p.status, 303, "{}", p.html);
        assert_eq!(p.location.as_deref(), Some(lands), "{return_to}");
        let apps = browser.get(&node.url("/account/apps")).await;
        assert_eq!(apps.status, 200);
        assert!(apps.html.contains(EMAIL));
    }
}

#[tokio::test]
async fn max_age_asks_for_the_password_again() {
    let c = connected().await;
    let mut url = authorize_url(&c.node, &c.client_id, "openid api:read");
    // Consent is remembered: straight back with a code.
    let p = c.browser.get(url.as_str()).await;
    assert_eq!(p.status, 303);
    // max_age=0: the session is too old, whatever its age.
    url.query_pairs_mut().append_pair("max_age", "0");
    let login = c.browser.get(url.as_str()).await;
    assert_eq!(login.status, 200);
    assert!(login.html.contains("name=\"password\""));
    let p = c.browser.sign_in(&c.node, &login, EMAIL, PASSWORD).await;
    assert_eq!(p.status, 303, "after a fresh login the flow goes on");
    assert!(p.redirect_params().contains_key("code"));
}

#[tokio::test]
async fn disconnecting_revokes_codes_not_yet_redeemed() {
    let c = connected().await;
    let url = authorize_url(&c.node, &c.client_id, "openid api:read");
    let code = c.browser.get(url.as_str()).await.redirect_params()["code"].clone();
    assert_eq!(c.disconnect().await.status, 303);
    let a = redeem(&c.node, &c.client_id, &c.secret, &code).await;
    assert_eq!(a.json["error"], "invalid_grant", "{}", a.json);
    assert!(
        a.json["error_description"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
}

/// An owner may hand an integration the workspace's administrative scope;
/// the management API then acts for that user, and audits them as actor.
#[tokio::test]
async fn integrations_acting_for_an_owner_use_the_management_api() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&node, "Acme").await;
    let owner = user(&node, EMAIL, &[(&ws.workspace.id, Role::Owner)]).await;
    let (client_id, secret) = client(&node, REDIRECT, false, &["openid", "workspace:admin"]).await;
    let browser = Browser::new();
    let url = authorize_url(&node, &client_id, "workspace:admin");
    let login = browser.get(url.as_str()).await;
    let consent = browser.sign_in(&node, &login, EMAIL, PASSWORD).await;
    assert!(
        consent
            .html
            .contains("Only in workspaces where you are an owner or admin")
    );
    let back = browser.decide(&node, &consent, "allow", None).await;
    let code = back.redirect_params()["code"].clone();
    let a = redeem(&node, &client_id, secret.as_deref().unwrap(), &code).await;
    assert_eq!(a.json["scope"], "workspace:admin", "{}", a.json);
    let token = a.json["access_token"].as_str().unwrap();
    let path = format!(
        "/v1/workspace/{}/application-token/regenerate",
        ws.workspace.id
    );
    let res = common::http()
        .post(node.url(&path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let log = common::http()
        .get(node.url(&format!(
            "/v1/workspace/{}/audit-logs?event=secret_regenerated",
            ws.workspace.id
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let entry = &log["items"][0];
    assert_eq!(entry["actor"]["type"], "user", "{log}");
    assert_eq!(entry["actor"]["id"], owner);
}
