//! A browser for the login and consent pages: a real HTTP client that
//! keeps cookies, does not follow redirects, and reads the forms' fields
//! from the HTML the way a browser submits them.

use keyflow::crypto::signing::Algorithm;
use keyflow::domain::audit::AuditContext;
use keyflow::domain::user::Role;
use keyflow::service::accounts::{self, NewUser};
use keyflow::service::integrations::{self, NewClient};
use keyflow::testing::TestServer;

pub const PASSWORD: &str = "correct horse battery";

pub struct Browser {
    pub http: reqwest::Client,
}

/// What came back: status, `Location` (if any) and the body.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub retry_after: Option<String>,
    pub html: String,
}

impl Page {
    /// The value of the form field `name` (hidden inputs), unescaped.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\"");
        let at = self
            .html
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in page:\n{}", self.html));
        let tag_end = at + self.html[at..].find('>').expect("tag end");
        let tag = &self.html[..tag_end];
        let tag_start = tag.rfind('<').expect("tag start");
        let tag = &tag[tag_start..];
        let v = tag.find("value=\"").expect("value attribute") + 7;
        let end = v + tag[v..].find('"').expect("value end");
        unescape(&tag[v..end])
    }

    /// The values of a `<select>`'s options, in order.
    pub fn options(&self, name: &str) -> Vec<String> {
        let at = self
            .html
            .find(&format!("<select id=\"{name}\" name=\"{name}\""))
            .or_else(|| self.html.find(&format!("name=\"{name}\" ")))
            .expect("select");
        let end = at + self.html[at..].find("</select>").expect("select end");
        self.html[at..end]
            .split("<option value=\"")
            .skip(1)
            .map(|o| unescape(&o[..o.find('"').expect("option value end")]))
            .collect()
    }

    pub fn has_select(&self, name: &str) -> bool {
        self.html
            .contains(&format!("<select id=\"{name}\" name=\"{name}\""))
    }

    /// The query parameters of the redirect.
    pub fn redirect_params(&self) -> std::collections::HashMap<String, String> {
        let location = self.location.as_deref().expect("a redirect");
        url::Url::parse(location)
            .expect("absolute redirect")
            .query_pairs()
            .into_owned()
            .collect()
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

impl Browser {
    pub fn new() -> Self {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("browser client"),
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        page(self.http.get(url).send().await.expect("GET")).await
    }

    pub async fn post(&self, url: &str, fields: &[(&str, &str)]) -> Page {
        page(self.http.post(url).form(fields).send().await.expect("POST")).await
    }

    /// Posts the login form on `login` with the user's credentials.
    pub async fn sign_in(
        &self,
        node: &TestServer,
        login: &Page,
        email: &str,
        password: &str,
    ) -> Page {
        let csrf = login.field("csrf");
        let request = login.field("request");
        let return_to = login.field("return_to");
        self.post(
            &node.url("/login"),
            &[
                ("username", email),
                ("password", password),
                ("csrf", &csrf),
                ("request", &request),
                ("return_to", &return_to),
            ],
        )
        .await
    }

    /// Answers the consent page.
    pub async fn decide(
        &self,
        node: &TestServer,
        consent: &Page,
        decision: &str,
        workspace: Option<&str>,
    ) -> Page {
        let csrf = consent.field("csrf");
        let request = consent.field("request");
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("request", request.as_str()),
            ("decision", decision),
        ];
        if let Some(w) = workspace {
            fields.push(("workspace", w));
        }
        self.post(&node.url("/oauth/authorize/decision"), &fields)
            .await
    }
}

async fn page(res: reqwest::Response) -> Page {
    let header = |n: &str| {
        res.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header("location");
    let retry_after = header("retry-after");
    Page {
        status: res.status().as_u16(),
        location,
        retry_after,
        html: res.text().await.expect("body"),
    }
}

/// An authorization request for `client_id` with PKCE (the S256 challenge
/// of `verifier`).
pub fn authorize_url(
    node: &TestServer,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    verifier: &str,
) -> url::Url {
    let mut url = url::Url::parse(&node.url("/oauth/authorize")).expect("authorize URL");
    url.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        (
            "code_challenge",
            &keyflow::domain::pkce::s256_challenge(verifier),
        ),
        ("code_challenge_method", "S256"),
    ]);
    url
}

/// A user in one workspace with `role`.
pub async fn user(node: &TestServer, email: &str, workspaces: &[(&str, Role)]) -> String {
    accounts::create_user(
        node.app.store.as_ref(),
        NewUser {
            email,
            password: PASSWORD,
            name: Some("Ann Example"),
            memberships: workspaces
                .iter()
                .map(|(w, r)| (w.to_string(), *r))
                .collect(),
        },
        node.app.clock.now(),
        &AuditContext::system(),
    )
    .await
    .expect("create user")
}

/// A registered third-party client: (client_id, secret if confidential).
pub async fn client(
    node: &TestServer,
    redirect_uri: &str,
    public: bool,
    scopes: &[&str],
) -> (String, Option<String>) {
    client_signing_with(node, redirect_uri, public, scopes, Algorithm::RS256).await
}

/// A registered client whose ID tokens use `alg`.
pub async fn client_signing_with(
    node: &TestServer,
    redirect_uri: &str,
    public: bool,
    scopes: &[&str],
    alg: Algorithm,
) -> (String, Option<String>) {
    let created = integrations::create_client(
        node.app.store.as_ref(),
        node.app.clients.hasher(),
        &node.app.settings.scopes,
        NewClient {
            name: "Make".into(),
            redirect_uris: vec![redirect_uri.into()],
            post_logout_redirect_uris: vec!["https://make.example/signed-out".into()],
            public,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            logo_uri: None,
            id_token_alg: alg,
            device_grant: false,
        },
        node.app.clock.now(),
        &AuditContext::system(),
    )
    .await
    .expect("create client");
    (
        created.client_id,
        created.secret.map(|s| s.expose().to_owned()),
    )
}

/// A public client (a CLI) allowed `openid offline_access api:read
/// workspace:admin`, registered for the device grant (RFC 8628) when
/// `device_grant`.
pub async fn cli_client(node: &TestServer, device_grant: bool) -> String {
    integrations::create_client(
        node.app.store.as_ref(),
        node.app.clients.hasher(),
        &node.app.settings.scopes,
        NewClient {
            name: "Reflow CLI".into(),
            redirect_uris: vec!["http://127.0.0.1/callback".into()],
            post_logout_redirect_uris: vec![],
            public: true,
            scopes: ["openid", "offline_access", "api:read", "workspace:admin"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            logo_uri: None,
            id_token_alg: Algorithm::ES256,
            device_grant,
        },
        node.app.clock.now(),
        &AuditContext::system(),
    )
    .await
    .expect("create client")
    .client_id
}

/// `POST /oauth/device_authorization` as the public client `client_id`.
pub async fn start_device(node: &TestServer, client_id: &str, scope: &str) -> super::Answer {
    let body = format!("client_id={client_id}&scope={}", scope.replace(' ', "+"));
    let res = super::http()
        .post(node.url("/oauth/device_authorization"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    super::answer(res).await
}

/// One poll of the token endpoint with a device code.
pub async fn poll_device(node: &TestServer, client_id: &str, device_code: &str) -> super::Answer {
    super::post_form(
        node,
        None,
        &format!(
            "grant_type=urn:ietf:params:oauth:grant-type:device_code\
             &client_id={client_id}&device_code={device_code}"
        ),
    )
    .await
}
