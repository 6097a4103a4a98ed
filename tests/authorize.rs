//! The authorization endpoint and the authorization_code grant on bad
//! input: every failure gets its precise error, and none redirects before
//! the client and redirect URI are known good.

mod common;

use std::sync::Arc;

use common::browser::{Browser, PASSWORD, Page, client, user};
use common::{Answer, MASTER, basic, post_form, workspace};
use keyflow::clock::{Clock, MockClock, SystemClock};
use keyflow::domain::pkce::s256_challenge;
use keyflow::domain::user::Role;
use keyflow::testing::{TestDb, TestServer};

const REDIRECT: &str = "https://make.example/cb";
const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";
const EMAIL: &str = "ann@example.com";

struct Setup {
    node: TestServer,
    clock: Arc<MockClock>,
    workspace_id: String,
    client_id: String,
    secret: String,
    browser: Browser,
    _db: TestDb,
}

async fn setup() -> Setup {
    setup_with(&[]).await
}

async fn setup_with(args: &[&str]) -> Setup {
    let db = TestDb::sqlite();
    let clock = Arc::new(MockClock::new(SystemClock.now()));
    let node = TestServer::start_with_clock(&db.url, MASTER, args, clock.clone()).await;
    let ws = workspace(&node, "Acme").await;
    user(&node, EMAIL, &[(&ws.workspace.id, Role::Owner)]).await;
    let (client_id, secret) = client(
        &node,
        REDIRECT,
        false,
        &["openid", "email", "offline_access", "api:read", "api:write"],
    )
    .await;
    Setup {
        node,
        clock,
        workspace_id: ws.workspace.id,
        client_id,
        secret: secret.unwrap(),
        browser: Browser::new(),
        _db: db,
    }
}

/// An authorization URL with sound defaults; `extra` adds or, when the
/// value is empty, removes parameters.
fn authorize_url(s: &Setup, extra: &[(&str, &str)]) -> String {
    let challenge = s256_challenge(VERIFIER);
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", &s.client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid api:read"),
        ("state", "st-1"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        params.retain(|(p, _)| p != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    let mut url = url::Url::parse(&s.node.url("/oauth/authorize")).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

/// Signs in (if needed) and allows; returns the final redirect.
async fn allow(s: &Setup, extra: &[(&str, &str)]) -> Page {
    let mut page = s.browser.get(&authorize_url(s, extra)).await;
    if page.html.contains("name=\"password\"") {
        page = s.browser.sign_in(&s.node, &page, EMAIL, PASSWORD).await;
    }
    if page.status == 200 {
        page = s.browser.decide(&s.node, &page, "allow", None).await;
    }
    assert_eq!(page.status, 303, "{}", page.html);
    page
}

async fn code(s: &Setup) -> String {
    allow(s, &[]).await.redirect_params()["code"].clone()
}

async fn exchange(s: &Setup, auth: Option<&str>, body: &str) -> Answer {
    let auth = auth
        .map(str::to_owned)
        .unwrap_or_else(|| basic(&s.client_id, &s.secret));
    post_form(&s.node, Some(&auth), body).await
}

fn redeem_body(code: &str, verifier: &str) -> String {
    format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={verifier}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    )
}

fn assert_error(a: &Answer, status: u16, error: &str) {
    assert_eq!(a.status, status, "{}", a.json);
    assert_eq!(a.json["error"], error, "{}", a.json);
}

fn assert_redirect_error(p: &Page, error: &str, node: &TestServer) {
    assert_eq!(p.status, 303, "{}", p.html);
    assert!(p.location.as_deref().unwrap().starts_with(REDIRECT));
    let q = p.redirect_params();
    assert_eq!(q["error"], error, "{q:?}");
    assert_eq!(q["state"], "st-1");
    assert_eq!(q["iss"], node.issuer);
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn pkce_is_required_and_plain_is_refused() {
    let s = setup().await;
    for extra in [
        vec![("code_challenge", ""), ("code_challenge_method", "")],
        vec![("code_challenge_method", "plain")],
        vec![("code_challenge_method", "")],
    ] {
        let p = s.browser.get(&authorize_url(&s, &extra)).await;
        assert_redirect_error(&p, "invalid_request", &s.node);
    }
}

#[tokio::test]
async fn a_bad_client_or_redirect_uri_never_redirects() {
    let s = setup().await;
    for extra in [
        vec![("redirect_uri", "https://evil.example/cb")],
        vec![("redirect_uri", "https://make.example/cb/")],
        vec![("redirect_uri", "")],
        vec![("client_id", "cli_unknown")],
        vec![("client_id", "")],
    ] {
        let p = s.browser.get(&authorize_url(&s, &extra)).await;
        assert_eq!(p.status, 400, "{extra:?}");
        assert_eq!(p.location, None, "no redirect for {extra:?}");
        assert!(p.html.contains("not"), "an error page: {}", p.html);
    }
    // A workspace's application key is not a third-party client.
    let ws = workspace(&s.node, "Other").await;
    let p = s
        .browser
        .get(&authorize_url(&s, &[("client_id", &ws.application_key)]))
        .await;
    assert_eq!((p.status, p.location), (400, None));
}

#[tokio::test]
async fn other_request_errors_go_back_to_the_client() {
    let s = setup().await;
    for (extra, error) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("scope", "openid workspace:admin")], "invalid_scope"),
        (vec![("scope", "openid nonsense")], "invalid_scope"),
        (vec![("request", "eyJhbGciOi")], "request_not_supported"),
        (vec![("prompt", "none login")], "invalid_request"),
        (
            vec![("resource", "https://elsewhere.example/")],
            "invalid_target",
        ),
    ] {
        let p = s.browser.get(&authorize_url(&s, &extra)).await;
        assert_redirect_error(&p, error, &s.node);
    }
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let s = setup().await;
    let p = s
        .browser
        .get(&authorize_url(&s, &[("prompt", "none")]))
        .await;
    assert_redirect_error(&p, "login_required", &s.node);
}

#[tokio::test]
async fn deny_is_access_denied() {
    let s = setup().await;
    let login = s.browser.get(&authorize_url(&s, &[])).await;
    let consent = s.browser.sign_in(&s.node, &login, EMAIL, PASSWORD).await;
    let p = s.browser.decide(&s.node, &consent, "deny", None).await;
    assert_redirect_error(&p, "access_denied", &s.node);
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused() {
    let s = setup().await;
    let login = s.browser.get(&authorize_url(&s, &[])).await;
    let request = login.field("request");
    let p = s
        .browser
        .post(
            &s.node.url("/login"),
            &[
                ("username", EMAIL),
                ("password", PASSWORD),
                ("request", &request),
            ],
        )
        .await;
    assert_eq!(p.status, 403, "login without CSRF token");
    // A token from another browser does not fit this one's cookie.
    let other = Browser::new().get(&authorize_url(&s, &[])).await;
    let forged = other.field("csrf");
    let p = s
        .browser
        .post(
            &s.node.url("/login"),
            &[
                ("username", EMAIL),
                ("password", PASSWORD),
                ("request", &request),
                ("csrf", &forged),
            ],
        )
        .await;
    assert_eq!(p.status, 403, "login with another browser's token");

    let consent = s.browser.sign_in(&s.node, &login, EMAIL, PASSWORD).await;
    assert_eq!(consent.status, 200);
    let request = consent.field("request");
    let p = s
        .browser
        .post(
            &s.node.url("/oauth/authorize/decision"),
            &[("request", request.as_str()), ("decision", "allow")],
        )
        .await;
    assert_eq!(p.status, 403, "consent without CSRF token");
    assert_eq!(p.location, None);
}

#[tokio::test]
async fn codes_are_single_use_bound_and_short_lived() {
    let s = setup().await;
    // A wrong verifier.
    let c = code(&s).await;
    let wrong = "b".repeat(43);
    assert_error(
        &exchange(&s, None, &redeem_body(&c, &wrong)).await,
        400,
        "invalid_grant",
    );
    // The redirect_uri is required and must match.
    let a = exchange(
        &s,
        None,
        &format!("grant_type=authorization_code&code={c}&code_verifier={VERIFIER}"),
    )
    .await;
    assert_error(&a, 400, "invalid_request");
    let a = exchange(
        &s,
        None,
        &format!(
            "grant_type=authorization_code&code={c}&code_verifier={VERIFIER}&redirect_uri=https%3A%2F%2Fmake.example%2Fother"
        ),
    )
    .await;
    assert_error(&a, 400, "invalid_grant");
    // The code_verifier is required.
    let a = exchange(
        &s,
        None,
        &format!(
            "grant_type=authorization_code&code={c}&redirect_uri=https%3A%2F%2Fmake.example%2Fcb"
        ),
    )
    .await;
    assert_error(&a, 400, "invalid_request");

    // Redeemed once; a replay fails and revokes what the code gave.
    let first = exchange(&s, None, &redeem_body(&c, VERIFIER)).await;
    assert_eq!(first.status, 200, "{}", first.json);
    let at = first.json["access_token"].as_str().unwrap().to_owned();
    assert!(first.json["id_token"].is_string());
    assert!(
        first.json.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let info = common::http()
        .get(s.node.url("/oauth/userinfo"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);
    assert_error(
        &exchange(&s, None, &redeem_body(&c, VERIFIER)).await,
        400,
        "invalid_grant",
    );
    let info = common::http()
        .get(s.node.url("/oauth/userinfo"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 401, "the replay revoked the access token");

    // Expired after 60 s.
    let c = code(&s).await;
    s.clock.advance(61);
    assert_error(
        &exchange(&s, None, &redeem_body(&c, VERIFIER)).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn a_code_stolen_by_another_client_is_useless() {
    let s = setup().await;
    let (thief, thief_secret) =
        client(&s.node, "https://thief.example/cb", false, &["openid"]).await;
    let c = code(&s).await;
    let a = exchange(
        &s,
        Some(&basic(&thief, thief_secret.as_deref().unwrap())),
        &redeem_body(&c, VERIFIER),
    )
    .await;
    assert_error(&a, 400, "invalid_grant");
    // The rightful client can still redeem it.
    assert_eq!(
        exchange(&s, None, &redeem_body(&c, VERIFIER)).await.status,
        200
    );
    // Workspace application clients may not use this grant at all.
    let ws = workspace(&s.node, "Other").await;
    let a = exchange(
        &s,
        Some(&basic(&ws.application_key, ws.secret_key.expose())),
        &redeem_body("whatever", VERIFIER),
    )
    .await;
    assert_error(&a, 400, "unauthorized_client");
}

#[tokio::test]
async fn public_clients_use_none_and_any_loopback_port() {
    let s = setup().await;
    let (public_id, secret) = client(
        &s.node,
        "http://127.0.0.1/callback",
        true,
        &["openid", "api:read"],
    )
    .await;
    assert!(secret.is_none());
    let redirect = "http://127.0.0.1:53412/callback";
    let page = allow(&s, &[("client_id", &public_id), ("redirect_uri", redirect)]).await;
    assert!(page.location.as_deref().unwrap().starts_with(redirect));
    let c = page.redirect_params()["code"].clone();
    let body = format!(
        "grant_type=authorization_code&client_id={public_id}&code={c}&code_verifier={VERIFIER}&redirect_uri={}",
        url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
    );
    let a = post_form(&s.node, None, &body).await;
    assert_eq!(a.status, 200, "{}", a.json);
    // A confidential client cannot leave its secret out.
    let c = code(&s).await;
    let body = format!("{}&client_id={}", redeem_body(&c, VERIFIER), s.client_id);
    assert_error(
        &post_form(&s.node, None, &body).await,
        401,
        "invalid_client",
    );
}

#[tokio::test]
async fn consent_is_remembered_until_new_scopes_or_prompt_consent() {
    let s = setup().await;
    allow(&s, &[]).await;
    // Same scopes: straight back with a code, no page.
    let p = s.browser.get(&authorize_url(&s, &[])).await;
    assert_eq!(p.status, 303);
    assert!(p.redirect_params().contains_key("code"));
    let p = s
        .browser
        .get(&authorize_url(&s, &[("prompt", "none")]))
        .await;
    assert!(
        p.redirect_params().contains_key("code"),
        "prompt=none with consent"
    );
    // New scopes ask again; prompt=consent always asks.
    let p = s
        .browser
        .get(&authorize_url(
            &s,
            &[("scope", "openid api:read api:write")],
        ))
        .await;
    assert_eq!(p.status, 200);
    assert!(p.html.contains("value=\"allow\""));
    let p = s
        .browser
        .get(&authorize_url(
            &s,
            &[("scope", "openid api:write"), ("prompt", "none")],
        ))
        .await;
    assert_redirect_error(&p, "consent_required", &s.node);
    let p = s
        .browser
        .get(&authorize_url(&s, &[("prompt", "consent")]))
        .await;
    assert_eq!(p.status, 200);
    // prompt=login shows the login form despite the session.
    let p = s
        .browser
        .get(&authorize_url(&s, &[("prompt", "login")]))
        .await;
    assert!(p.html.contains("name=\"password\""));
}

#[tokio::test]
async fn several_workspaces_give_a_choice_and_members_cannot_grant_admin_scopes() {
    let s = setup().await;
    let second = workspace(&s.node, "Beta").await;
    let other_user = "bob@example.com";
    user(
        &s.node,
        other_user,
        &[
            (&s.workspace_id, Role::Member),
            (&second.workspace.id, Role::Admin),
        ],
    )
    .await;
    let (cid, secret) = client(
        &s.node,
        REDIRECT,
        false,
        &["openid", "api:read", "keys:write"],
    )
    .await;
    let url = authorize_url(&s, &[("client_id", &cid), ("scope", "openid keys:write")]);
    let login = s.browser.get(&url).await;
    let consent = s
        .browser
        .sign_in(&s.node, &login, other_user, PASSWORD)
        .await;
    assert!(consent.has_select("workspace"), "{}", consent.html);
    let options = consent.options("workspace");
    assert_eq!(options.len(), 2);
    let p = s
        .browser
        .decide(&s.node, &consent, "allow", Some(&s.workspace_id))
        .await;
    let c = p.redirect_params()["code"].clone();
    let a = exchange(
        &s,
        Some(&basic(&cid, secret.as_deref().unwrap())),
        &redeem_body(&c, VERIFIER),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(
        a.json["scope"], "openid",
        "a member cannot hand out keys:write"
    );
    // A workspace the user does not belong to is refused.
    let consent = s
        .browser
        .get(&authorize_url(
            &s,
            &[
                ("client_id", &cid),
                ("scope", "openid keys:write"),
                ("prompt", "consent"),
            ],
        ))
        .await;
    let p = s
        .browser
        .decide(&s.node, &consent, "allow", Some("ws_not_mine"))
        .await;
    assert_eq!((p.status, p.location), (400, None));
}

#[tokio::test]
async fn repeated_login_failures_are_throttled() {
    let s = setup().await;
    let login = s.browser.get(&authorize_url(&s, &[])).await;
    for _ in 0..5 {
        let p = s
            .browser
            .sign_in(&s.node, &login, EMAIL, "wrong password!")
            .await;
        assert_eq!(p.status, 401);
        assert!(p.html.contains("Wrong email or password"));
    }
    let p = s.browser.sign_in(&s.node, &login, EMAIL, PASSWORD).await;
    assert_eq!(p.status, 429, "even the right password waits");
    let wait: u64 = p.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(p.html.contains("Try again in"), "{}", p.html);
    // Unknown accounts are throttled the same way, and answer the same.
    let p = s
        .browser
        .sign_in(&s.node, &login, "nobody@example.com", "whatever1")
        .await;
    assert_eq!(p.status, 401);
}

#[tokio::test]
async fn the_authorization_endpoint_also_takes_post() {
    let s = setup().await;
    let url = authorize_url(&s, &[]);
    let (_, query) = url.split_once('?').unwrap();
    let res = s
        .browser
        .http
        .post(s.node.url("/oauth/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("name=\"password\""));
}

/// RFC 8707 §2.2: the token request may name the authorization request's
/// resources or fewer, never others; refreshes keep the same bound.
#[tokio::test]
async fn resources_named_at_authorization_bound_the_tokens() {
    const REPORTS: &str = "https://reports.example/";
    const BILLING: &str = "https://billing.example/";
    let s = setup_with(&["--resource", &format!("{REPORTS},{BILLING}")]).await;
    let c = allow(&s, &[("resource", REPORTS)]).await.redirect_params()["code"].clone();
    let other = format!(
        "{}&resource={}",
        redeem_body(&c, VERIFIER),
        "https%3A%2F%2Fbilling.example%2F"
    );
    assert_error(&exchange(&s, None, &other).await, 400, "invalid_target");
    let a = exchange(&s, None, &redeem_body(&c, VERIFIER)).await;
    assert_eq!(a.status, 200, "{}", a.json);
    let set = common::jwks(&s.node).await;
    let at = common::verify(
        a.json["access_token"].as_str().unwrap(),
        &set,
        &s.node.issuer,
        REPORTS,
    )
    .expect("the audience is the resource named at authorization");
    assert_eq!(at.claims["aud"], REPORTS);
}
