//! The `/v1` API as a person drives it: an access token a person made
//! through the authorization code flow (so `user_id` is set), and JSON
//! calls with any method.

use reqwest::Method;
use serde_json::Value;

use super::browser::{Browser, PASSWORD, client};
use super::connected::{REDIRECT, authorize_url, redeem};
use super::{Answer, answer, http};
use keyflow::domain::audit::{AuditContext, Origin};
use keyflow::domain::user::Role;
use keyflow::service::accounts;
use keyflow::service::signup::NewAccount;
use keyflow::testing::TestServer;

/// The platform administrator, made by first-run setup (so before any
/// other user), and a member of `ws` with `role`. Returns their id.
pub async fn platform_admin(node: &TestServer, email: &str, ws: &str, role: Role) -> String {
    let signup = node.app.signup();
    let link = signup
        .first_run_link()
        .await
        .unwrap()
        .expect("no users yet");
    let account = NewAccount {
        email,
        name: "Root",
        password: PASSWORD,
    };
    let signed_in = signup
        .complete_setup(link.expose(), account, Origin::default())
        .await
        .expect("setup");
    let id = signed_in.user.id.clone();
    accounts::set_membership(
        node.app.store.as_ref(),
        &id,
        ws,
        role,
        node.app.clock.now(),
        &AuditContext::system(),
    )
    .await
    .expect("membership");
    id
}

/// A `/v1` token that `email` authorized, in workspace `ws`, with
/// `workspace:admin`: the person must be an owner or admin there.
pub async fn person_token(node: &TestServer, email: &str, ws: &str) -> String {
    person_token_with(node, email, ws, "openid workspace:admin").await
}

/// The same with `scope` (space-separated), all of which must be granted.
pub async fn person_token_with(node: &TestServer, email: &str, ws: &str, scope: &str) -> String {
    let scopes: Vec<&str> = scope.split(' ').collect();
    let (client_id, secret) = client(node, REDIRECT, false, &scopes).await;
    let browser = Browser::new();
    let url = authorize_url(node, &client_id, scope);
    let login = browser.get(url.as_str()).await;
    let consent = browser.sign_in(node, &login, email, PASSWORD).await;
    assert_eq!(consent.status, 200, "consent page: {}", consent.html);
    let back = browser.decide(node, &consent, "allow", Some(ws)).await;
    let code = back.redirect_params()["code"].clone();
    let a = redeem(node, &client_id, secret.as_deref().unwrap(), &code).await;
    assert_eq!(a.status, 200, "{}", a.json);
    let mut granted: Vec<&str> = a.json["scope"].as_str().unwrap().split(' ').collect();
    let mut asked = scopes.clone();
    granted.sort_unstable();
    asked.sort_unstable();
    assert_eq!(granted, asked, "{}", a.json);
    a.json["access_token"].as_str().unwrap().to_owned()
}

/// A `/v1` call with a bearer token (if any) and a JSON body (if any).
pub async fn call(
    node: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut req = http().request(method, node.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    answer_or_empty(req.send().await.expect("request")).await
}

/// A call whose body is sent as it is (for malformed JSON).
pub async fn call_raw(
    node: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: &'static str,
) -> Answer {
    let req = http()
        .request(method, node.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body);
    answer_or_empty(req.send().await.expect("request")).await
}

/// As [`answer`], with an empty body (204) read as JSON `null`.
pub async fn answer_or_empty(res: reqwest::Response) -> Answer {
    if res.status() == reqwest::StatusCode::NO_CONTENT {
        return Answer {
            status: 204,
            headers: res.headers().clone(),
            json: Value::Null,
        };
    }
    answer(res).await
}

/// Asserts the status and the `error` code of a refusal.
#[track_caller]
pub fn refused(a: &Answer, status: u16, error: &str) {
    assert_eq!(a.status, status, "{}", a.json);
    assert_eq!(a.json["error"], error, "{}", a.json);
    assert!(
        a.json["error_description"].is_string(),
        "a description: {}",
        a.json
    );
}
