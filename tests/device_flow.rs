//! The device authorization grant (RFC 8628) over real HTTP: the `oauth2`
//! crate as the device, a cookie-keeping browser client as the person on
//! `/device`, and the token endpoint's answers while the person decides.

mod common;

use std::time::Duration;

use common::browser::{Browser, Page, cli_client, poll_device as poll, start_device as start};
use common::console::{T0, person};
use common::{MASTER, answer, get_json, http, post_form, workspace};
use keyflow::clock::MockClock;
use keyflow::domain::user::Role;
use keyflow::testing::{TestDb, TestServer};
use oauth2::basic::BasicClient;
use oauth2::{
    ClientId, DeviceAuthorizationUrl, Scope, StandardDeviceAuthorizationResponse, TokenResponse,
    TokenUrl,
};
use serde_json::Value;

const EMAIL: &str = "dev@example.com";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn error(a: &common::Answer) -> &str {
    a.json["error"].as_str().unwrap_or_default()
}

/// The person enters `user_code` on `/device`; the confirmation page.
async fn enter(node: &TestServer, browser: &Browser, user_code: &str) -> Page {
    let form = browser.get(&node.url("/device")).await;
    assert_eq!(form.status, 200, "{}", form.html);
    browser
        .post(
            &node.url("/device"),
            &[("csrf", &form.field("csrf")), ("user_code", user_code)],
        )
        .await
}

async fn decide(node: &TestServer, browser: &Browser, confirm: &Page, decision: &str) -> Page {
    browser
        .post(
            &node.url("/device/decision"),
            &[
                ("csrf", &confirm.field("csrf")),
                ("user_code", &confirm.field("user_code")),
                ("decision", decision),
            ],
        )
        .await
}

async fn setup(db: &TestDb) -> (TestServer, MockClock, Browser, String) {
    let clock = MockClock::new(T0);
    let node =
        TestServer::start_with_clock(&db.url, MASTER, &[], std::sync::Arc::new(clock.clone()))
            .await;
    let ws = workspace(&node, "Acme").await;
    let browser = person(&node, EMAIL, &[(&ws.workspace.id, Role::Owner)]).await;
    let client_id = cli_client(&node, true).await;
    (node, clock, browser, client_id)
}

#[tokio::test]
async fn the_oauth2_crate_signs_in_through_the_device_flow() {
    for db in TestDb::all().await {
        let (node, _clock, browser, client_id) = setup(&db).await;
        // RFC 8628 §4: discovery names the endpoint and the grant.
        let meta: Value = get_json(node.url("/.well-known/openid-configuration")).await;
        let endpoint = meta["device_authorization_endpoint"].as_str().unwrap();
        assert_eq!(endpoint, node.url("/oauth/device_authorization"));
        let grants = meta["grant_types_supported"].as_array().unwrap();
        assert!(grants.iter().any(|g| g == DEVICE_GRANT), "{grants:?}");

        let device = BasicClient::new(ClientId::new(client_id.clone()))
            .set_device_authorization_url(DeviceAuthorizationUrl::new(endpoint.into()).unwrap())
            .set_token_uri(TokenUrl::new(meta["token_endpoint"].as_str().unwrap().into()).unwrap());
        let details: StandardDeviceAuthorizationResponse = device
            .exchange_device_code()
            .add_scope(Scope::new("openid".into()))
            .add_scope(Scope::new("offline_access".into()))
            .add_scope(Scope::new("api:read".into()))
            .request_async(&http())
            .await
            .expect("device authorization");
        let user_code = details.user_code().secret().clone();
        // RFC 8628 §6.1: XXXX-XXXX from the consonant alphabet.
        assert_eq!(user_code.len(), 9, "{user_code}");
        assert_eq!(&user_code[4..5], "-");
        assert!(
            user_code
                .chars()
                .filter(|c| *c != '-')
                .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c))
        );
        assert_eq!(details.verification_uri().as_str(), node.url("/device"));
        assert_eq!(
            details.verification_uri_complete().unwrap().secret(),
            &format!("{}?user_code={user_code}", node.url("/device"))
        );
        assert_eq!(details.expires_in(), Duration::from_secs(600));
        assert_eq!(details.interval(), Duration::from_secs(5));

        // The person arrives from verification_uri_complete, confirms.
        let complete = details
            .verification_uri_complete()
            .unwrap()
            .secret()
            .clone();
        let confirm = browser.get(&complete).await;
        assert_eq!(confirm.status, 200, "{}", confirm.html);
        assert!(confirm.html.contains("Reflow CLI"), "{}", confirm.html);
        assert!(confirm.html.contains(&user_code));
        assert!(
            confirm
                .html
                .contains("If someone sent you this code, deny it")
        );
        assert!(confirm.html.contains("name=\"decision\" value=\"allow\""));
        let done = decide(&node, &browser, &confirm, "allow").await;
        assert_eq!(done.status, 200, "{}", done.html);
        assert!(done.html.contains("return to your device"), "{}", done.html);

        // The crate's poll loop gets the tokens on its first poll.
        let tokens = device
            .exchange_device_access_token(&details)
            .request_async(&http(), |_| async {}, None)
            .await
            .expect("tokens");
        let scopes: Vec<String> = tokens
            .scopes()
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            scopes,
            ["api:read", "offline_access", "openid"],
            "{:?}",
            db.backend
        );
        let refresh = tokens
            .refresh_token()
            .expect("a refresh token")
            .secret()
            .clone();

        // Behaves as a code grant's: the refresh token rotates, and the
        // app is among the person's connected apps.
        let rotated = post_form(
            &node,
            None,
            &format!("grant_type=refresh_token&client_id={client_id}&refresh_token={refresh}"),
        )
        .await;
        assert_eq!(rotated.status, 200, "{}", rotated.json);
        let apps = browser.get(&node.url("/account/apps")).await;
        assert!(apps.html.contains("Reflow CLI"), "{}", apps.html);

        // Spent: a second redemption gets invalid_grant.
        let again = poll(&node, &client_id, details.device_code().secret()).await;
        assert_eq!((again.status, error(&again)), (400, "invalid_grant"));
    }
}

#[tokio::test]
async fn polls_are_answered_pending_slow_down_denied_and_expired() {
    let db = TestDb::sqlite();
    let (node, clock, browser, client_id) = setup(&db).await;
    let started = start(&node, &client_id, "openid api:read").await;
    assert_eq!(started.status, 200, "{}", started.json);
    assert_eq!(
        started.headers["cache-control"], "no-store",
        "codes are never cached"
    );
    let device_code = started.json["device_code"].as_str().unwrap().to_owned();

    // RFC 8628 §3.5: pending; too soon is slow_down; at the interval,
    // pending again; the interval then stays grown.
    let first = poll(&node, &client_id, &device_code).await;
    assert_eq!(
        (first.status, error(&first)),
        (400, "authorization_pending")
    );
    let fast = poll(&node, &client_id, &device_code).await;
    assert_eq!(error(&fast), "slow_down", "{}", fast.json);
    clock.advance(5);
    assert_eq!(
        error(&poll(&node, &client_id, &device_code).await),
        "slow_down",
        "the interval grew to 10 s"
    );
    clock.advance(15);
    assert_eq!(
        error(&poll(&node, &client_id, &device_code).await),
        "authorization_pending"
    );

    // Another client's device code looks unknown.
    let other = cli_client(&node, true).await;
    let stolen = poll(&node, &other, &device_code).await;
    assert_eq!(error(&stolen), "invalid_grant");

    // Denied on /device: access_denied.
    let user_code = started.json["user_code"].as_str().unwrap();
    let confirm = enter(&node, &browser, &user_code.to_lowercase().replace('-', "")).await;
    assert_eq!(
        confirm.status, 200,
        "typed in lower case without the dash: {}",
        confirm.html
    );
    let done = decide(&node, &browser, &confirm, "deny").await;
    assert!(done.html.contains("Denied"), "{}", done.html);
    clock.advance(30);
    let denied = poll(&node, &client_id, &device_code).await;
    assert_eq!(error(&denied), "access_denied");

    // Expired: expired_token, and the code can no longer be entered.
    let late = start(&node, &client_id, "api:read").await;
    let late_code = late.json["device_code"].as_str().unwrap().to_owned();
    clock.advance(601);
    let expired = poll(&node, &client_id, &late_code).await;
    assert_eq!(error(&expired), "expired_token");
    let gone = enter(&node, &browser, late.json["user_code"].as_str().unwrap()).await;
    assert_eq!(gone.status, 400);
    assert!(
        gone.html.contains("not valid, or it has expired"),
        "{}",
        gone.html
    );
}

#[tokio::test]
async fn of_concurrent_polls_after_approval_exactly_one_gets_tokens() {
    let db = TestDb::sqlite();
    let (node, _clock, browser, client_id) = setup(&db).await;
    let started = start(&node, &client_id, "api:read").await;
    let device_code = started.json["device_code"].as_str().unwrap().to_owned();
    let confirm = enter(&node, &browser, started.json["user_code"].as_str().unwrap()).await;
    decide(&node, &browser, &confirm, "allow").await;
    let (a, b, c, d) = tokio::join!(
        poll(&node, &client_id, &device_code),
        poll(&node, &client_id, &device_code),
        poll(&node, &client_id, &device_code),
        poll(&node, &client_id, &device_code),
    );
    let answers = [a, b, c, d];
    let issued = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(
        issued,
        1,
        "{:?}",
        answers.iter().map(|a| &a.json).collect::<Vec<_>>()
    );
    assert!(
        answers
            .iter()
            .filter(|a| a.status != 200)
            .all(|a| error(a) == "invalid_grant")
    );
}

#[tokio::test]
async fn bad_device_requests_get_the_standard_errors() {
    let db = TestDb::sqlite();
    let (node, _clock, _browser, client_id) = setup(&db).await;
    let not_registered = cli_client(&node, false).await;
    for (who, scope, status, code) in [
        ("nobody", "api:read", 401, "invalid_client"),
        (
            not_registered.as_str(),
            "api:read",
            400,
            "unauthorized_client",
        ),
        (client_id.as_str(), "api:write", 400, "invalid_scope"),
        (client_id.as_str(), "no_such_scope", 400, "invalid_scope"),
    ] {
        let a = start(&node, who, scope).await;
        assert_eq!(
            (a.status, error(&a)),
            (status, code),
            "{who} {scope}: {}",
            a.json
        );
    }
    // Malformed: no client, a parameter twice, an unknown device code, a
    // poll from a client not registered for the grant.
    let bare = answer(
        http()
            .post(node.url("/oauth/device_authorization"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("scope=api:read")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (bare.status, error(&bare)),
        (401, "invalid_client"),
        "{}",
        bare.json
    );
    let twice = start(
        &node,
        &format!("{client_id}&client_id={client_id}"),
        "api:read",
    )
    .await;
    assert_eq!((twice.status, error(&twice)), (400, "invalid_request"));
    let unknown = poll(&node, &client_id, "no-such-code").await;
    assert_eq!((unknown.status, error(&unknown)), (400, "invalid_grant"));
    let missing = post_form(
        &node,
        None,
        &format!("grant_type={DEVICE_GRANT}&client_id={client_id}"),
    )
    .await;
    assert_eq!((missing.status, error(&missing)), (400, "invalid_request"));
    let refused = poll(&node, &not_registered, "whatever").await;
    assert_eq!(error(&refused), "unauthorized_client");
}

#[tokio::test]
async fn wrong_codes_are_throttled_and_the_page_needs_a_sign_in() {
    let db = TestDb::sqlite();
    let (node, _clock, browser, _client_id) = setup(&db).await;
    // Signed out, /device sends the person to sign in and back.
    let stranger = Browser::new();
    let anonymous = stranger.get(&node.url("/device?user_code=BCDF-GHJK")).await;
    assert_eq!(anonymous.status, 303);
    let location = anonymous.location.unwrap();
    assert!(
        location.starts_with("/login?return_to=%2Fdevice%3Fuser%5Fcode%3DBCDF"),
        "{location}"
    );
    let login = stranger.get(&node.url(&location)).await;
    let back = stranger
        .sign_in(&node, &login, EMAIL, common::browser::PASSWORD)
        .await;
    assert_eq!(
        back.location.as_deref(),
        Some("/device?user_code=BCDF-GHJK"),
        "signed in, back to the code"
    );
    // Five wrong codes, then the sixth is refused before it is looked up.
    for _ in 0..5 {
        let wrong = enter(&node, &browser, "BCDF-GHJK").await;
        assert!(wrong.html.contains("not valid"), "{}", wrong.html);
    }
    let throttled = enter(&node, &browser, "BCDF-GHJK").await;
    assert!(
        throttled.html.contains("Too many wrong codes"),
        "{}",
        throttled.html
    );
}
