//! Several nodes on one database behave as one: shared signing keys, and a
//! secret rotation that no node's cache outlives.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use keyflow::clock::MockClock;
use keyflow::crypto::keyring::create_key;
use keyflow::crypto::master_key::MasterKey;
use keyflow::crypto::signing::Algorithm;
use keyflow::domain::audit::AuditContext;
use keyflow::service::workspaces::RotationOptions;
use keyflow::testing::{TestDb, TestServer};

const CC: &str = "grant_type=client_credentials";

#[tokio::test]
async fn a_token_from_one_node_verifies_with_the_other_nodes_jwks() {
    for db in TestDb::all().await {
        let a = TestServer::start(&db.url, MASTER, &["--issuer", "http://keyflow.localhost"]).await;
        let b = TestServer::start(&db.url, MASTER, &["--issuer", "http://keyflow.localhost"]).await;
        let ws = workspace(&a, "demo").await;
        let from_a = token(&a, &ws, "api%3Aread").await;
        let from_b = token(&b, &ws, "api%3Aread").await;
        let b_keys = jwks(&b).await;
        let a_keys = jwks(&a).await;
        let aud = "http://keyflow.localhost/v1";
        verify(&from_a, &b_keys, "http://keyflow.localhost", aud).expect("A's token with B's JWKS");
        verify(&from_b, &a_keys, "http://keyflow.localhost", aud).expect("B's token with A's JWKS");
        assert_eq!(
            jsonwebtoken::decode_header(&from_a).unwrap().kid,
            jsonwebtoken::decode_header(&from_b).unwrap().kid
        );
    }
}

/// Keeps requesting tokens with one secret on both nodes until told to stop.
fn hammer(
    nodes: [String; 2],
    auth: String,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let client = http();
        let mut ok = 0;
        while !stop.load(Ordering::Relaxed) {
            for url in &nodes {
                let res = client
                    .post(url)
                    .header("authorization", &auth)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(CC)
                    .send()
                    .await
                    .unwrap();
                ok += usize::from(res.status() == 200);
            }
        }
        ok
    })
}

async fn status(url: &str, auth: &str) -> u16 {
    http()
        .post(url)
        .header("authorization", auth)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(CC)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn after_regeneration_the_old_secret_fails_on_every_node_at_once() {
    for db in TestDb::all().await {
        let a = TestServer::start(&db.url, MASTER, &[]).await;
        let b = TestServer::start(&db.url, MASTER, &[]).await;
        let ws = workspace(&a, "demo").await;
        let old = basic(&ws.application_key, ws.secret_key.expose());
        let admin = token(&a, &ws, "workspace%3Aadmin").await;
        let urls = [a.url("/oauth/token"), b.url("/oauth/token")];
        // Warm both caches (the pollers flush them once after the workspace
        // was created, so retry until both hold the client), then keep them
        // busy while the secret changes.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            assert_eq!(status(&urls[0], &old).await, 200);
            assert_eq!(status(&urls[1], &old).await, 200);
            if a.app.clients.cached_len() > 0 && b.app.clients.cached_len() > 0 {
                break;
            }
            assert!(Instant::now() < deadline, "the caches never warmed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let load: Vec<_> = (0..4)
            .map(|_| hammer(urls.clone(), old.clone(), Arc::clone(&stop)))
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;

        // Regenerate through the management API, as a workspace admin would.
        let res = http()
            .post(a.url(&format!(
                "/v1/workspace/{}/application-token/regenerate",
                ws.workspace.id
            )))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let rotated: serde_json::Value = res.json().await.unwrap();

        // From the moment regenerate returns, not one old-secret request passes.
        let failures = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + Duration::from_millis(700);
        while Instant::now() < deadline {
            for url in &urls {
                if status(url, &old).await == 200 {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        let mut before = 0;
        for l in load {
            before += l.await.unwrap();
        }
        assert!(before > 0, "the old secret worked before the rotation");
        assert_eq!(
            failures.load(Ordering::Relaxed),
            0,
            "{:?}: old secret accepted after rotation",
            db.backend
        );
        let new = basic(&ws.application_key, rotated["secretKey"].as_str().unwrap());
        assert_eq!(status(&urls[0], &new).await, 200);
        assert_eq!(status(&urls[1], &new).await, 200);
    }
}

#[tokio::test]
async fn a_grace_period_keeps_both_secrets_until_it_ends() {
    for db in TestDb::all().await {
        let clock = MockClock::new(1_800_000_000);
        let a = TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
        let b = TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
        let ws = workspace(&a, "demo").await;
        let old = basic(&ws.application_key, ws.secret_key.expose());
        let rotated = a
            .app
            .workspaces()
            .rotate_secret(
                &ws.workspace.id,
                RotationOptions {
                    grace_seconds: 60,
                    ..Default::default()
                },
                a.app.clock.now(),
                &AuditContext::cli(),
            )
            .await
            .unwrap();
        let new = basic(&rotated.application_key, rotated.secret_key.expose());
        for node in [&a, &b] {
            let url = node.url("/oauth/token");
            assert_eq!(status(&url, &old).await, 200);
            assert_eq!(status(&url, &new).await, 200);
        }
        clock.advance(60);
        for node in [&a, &b] {
            let url = node.url("/oauth/token");
            assert_eq!(status(&url, &old).await, 401, "grace over");
            assert_eq!(status(&url, &new).await, 200);
        }
    }
}

#[tokio::test]
async fn rotated_signing_keys_reach_every_node_and_old_tokens_still_verify() {
    for db in TestDb::all().await {
        let a = TestServer::start(&db.url, MASTER, &[]).await;
        let b = TestServer::start(&db.url, MASTER, &[]).await;
        let ws = workspace(&a, "demo").await;
        let old_token = token(&a, &ws, "api%3Aread").await;
        let old_kid = jsonwebtoken::decode_header(&old_token)
            .unwrap()
            .kid
            .unwrap();

        // As `keyflow keys rotate` does, from outside either node.
        let store = db.store().await;
        let new = create_key(
            store.as_ref(),
            &MasterKey::from_bytes(MASTER),
            Algorithm::ES256,
            a.app.clock.now(),
            true,
            &AuditContext::cli(),
        )
        .await
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        for node in [&a, &b] {
            loop {
                let t = token(node, &ws, "api%3Aread").await;
                if jsonwebtoken::decode_header(&t).unwrap().kid.as_deref() == Some(new.kid.as_str())
                {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node never picked up the new key"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let set = jwks(node).await;
            assert!(set.find(&new.kid).is_some() && set.find(&old_kid).is_some());
            verify(&old_token, &set, &a.issuer, &format!("{}/v1", a.issuer))
                .expect("old token still verifies");
        }
    }
}

/// Sessions live in the database and CSRF tokens are keyed by the shared
/// master key, so each step of the flow may land on a different node.
#[tokio::test]
async fn each_step_of_the_browser_flow_can_hit_a_different_node() {
    use common::browser::{Browser, PASSWORD, client, user};
    use keyflow::domain::user::Role;
    for db in TestDb::all().await {
        let issuer = ["--issuer", "http://keyflow.localhost"];
        let a = TestServer::start(&db.url, MASTER, &issuer).await;
        let b = TestServer::start(&db.url, MASTER, &issuer).await;
        let ws = workspace(&a, "demo").await;
        user(&a, "ann@example.com", &[(&ws.workspace.id, Role::Member)]).await;
        let (client_id, _) = client(&a, "https://make.example/cb", false, &["openid"]).await;
        let url = common::browser::authorize_url(
            &a,
            &client_id,
            "https://make.example/cb",
            "openid",
            &"v".repeat(43),
        );
        let browser = Browser::new();
        let login = browser.get(url.as_str()).await;
        // The login form from A is posted to B, and the consent from B to A.
        let consent = browser
            .sign_in(&b, &login, "ann@example.com", PASSWORD)
            .await;
        assert_eq!(consent.status, 200, "{}", consent.html);
        let back = browser.decide(&a, &consent, "allow", None).await;
        assert_eq!(back.status, 303, "{}", back.html);
        assert!(back.redirect_params().contains_key("code"));
    }
}

/// Usage counts are exact across nodes: each node counts in memory and
/// adds its batch to the shared rows, per UTC day and outcome.
#[tokio::test]
async fn usage_counted_on_two_nodes_adds_up_exactly() {
    use keyflow::domain::usage::{Outcome, day_of};
    use keyflow::service::usage::DayRange;
    const T0: i64 = 1_800_000_000;
    for db in TestDb::all().await {
        let clock = MockClock::new(T0);
        let a = TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
        let b = TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
        let ws = workspace(&a, "usage").await;
        let id = &ws.workspace.id;
        let creator = keyflow::service::api_keys::Creator {
            id: "test".into(),
            scopes: keyflow::domain::scope::ScopeSet::parse("api:read").unwrap(),
            audit: AuditContext::system(),
        };
        let made = a
            .app
            .api_keys
            .create(
                id,
                keyflow::service::api_keys::NewKey {
                    name: "shared".into(),
                    key_type: keyflow::domain::api_key::ApiKeyType::Secret,
                    scopes: keyflow::domain::scope::ScopeSet::parse("api:read").unwrap(),
                    expires_at: None,
                    rate_limits: None,
                },
                &creator,
            )
            .await
            .unwrap();
        let key = made.key.expose().to_owned();
        let prefix = key.split('.').next().unwrap();
        let wrong =
            keyflow::domain::api_key::with_checksum(&format!("{prefix}.{}", "B".repeat(43)));
        let whoami = |node: &TestServer, key: &str| {
            let req = http().get(node.url("/v1/whoami")).bearer_auth(key).send();
            async move { req.await.unwrap().status().as_u16() }
        };
        for _ in 0..7 {
            assert_eq!(whoami(&a, &key).await, 200);
        }
        for _ in 0..5 {
            assert_eq!(whoami(&b, &key).await, 200);
        }
        for _ in 0..2 {
            assert_eq!(whoami(&b, &wrong).await, 401);
        }
        let good = basic(&ws.application_key, ws.secret_key.expose());
        for node in [&a, &a, &a, &a, &b, &b, &b] {
            assert_eq!(post_form(node, Some(&good), CC).await.status, 200);
        }
        let bad = basic(&ws.application_key, "wrong");
        assert_eq!(post_form(&a, Some(&bad), CC).await.status, 401);
        // A flush on each node in between, then the next UTC day.
        a.app.flush_usage().await;
        clock.advance(86_400);
        for _ in 0..3 {
            assert_eq!(whoami(&a, &key).await, 200);
        }
        a.app.flush_usage().await;
        b.app.flush_usage().await;

        let range = DayRange::last(2, keyflow::clock::Clock::now(&clock));
        let keys = b
            .app
            .usage_reports()
            .api_key(id, &made.record.id, range)
            .await
            .unwrap();
        let day1 = day_of(T0) - range.from;
        assert_eq!(day1, 0, "{:?}", db.backend);
        let of = |day: usize, o: Outcome| keys.days[day][o.index()];
        assert_eq!(
            (
                of(0, Outcome::Success),
                of(0, Outcome::Invalid),
                of(1, Outcome::Success)
            ),
            (12, 2, 3),
            "{:?}",
            db.backend
        );
        assert_eq!(keys.all_outcomes_total(), 17);
        let apps = a
            .app
            .usage_reports()
            .client(&ws.application_key, range)
            .await
            .unwrap();
        assert_eq!(
            (apps.total(Outcome::Success), apps.total(Outcome::Invalid)),
            (7, 1),
            "{:?}",
            db.backend
        );
        let listed = a.app.api_keys.get(id, &made.record.id).await.unwrap();
        assert_eq!(
            listed.usage_count, 15,
            "every authenticated use, from both nodes"
        );
    }
}

/// Nodes cache a client's OAuth registration under the same lease as its
/// secrets: once `update_client` returns, no node still honours a grant
/// type the client lost.
#[tokio::test]
async fn a_withdrawn_grant_type_is_refused_on_every_node_once_the_update_returns() {
    use common::browser::{cli_client, poll_device};
    use keyflow::service::integrations::{ClientChanges, update_client};
    for db in TestDb::all().await {
        let a = TestServer::start(&db.url, MASTER, &[]).await;
        let b = TestServer::start(&db.url, MASTER, &[]).await;
        let client_id = cli_client(&a, true).await;
        // B reads the registration and keeps it: the device grant is
        // allowed, and only the unknown code is refused.
        for _ in 0..2 {
            let poll = poll_device(&b, &client_id, "no-such-code").await;
            assert_eq!(poll.json["error"], "invalid_grant", "{:?}", poll.json);
        }
        update_client(
            a.app.store.as_ref(),
            &a.app.settings.scopes,
            &client_id,
            ClientChanges {
                device_grant: Some(false),
                ..ClientChanges::default()
            },
            a.app.clock.now(),
            &AuditContext::system(),
        )
        .await
        .expect("updating the client");
        let poll = poll_device(&b, &client_id, "no-such-code").await;
        assert_eq!(poll.status, 400);
        assert_eq!(poll.json["error"], "unauthorized_client", "{:?}", poll.json);
    }
}
