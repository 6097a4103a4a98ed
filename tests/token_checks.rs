//! How keyflow checks its own tokens: `/v1` takes only tokens meant for
//! the management API (RFC 8707, RFC 9068 §4), and introspection ends a
//! token exactly at its `exp` (RFC 7662 §2.2).

mod common;

use std::sync::Arc;

use common::*;
use keyflow::clock::MockClock;
use keyflow::testing::{TestDb, TestServer};

const REPORTS: &str = "https://reports.example/api";

async fn application_token(node: &TestServer, ws_id: &str, token: &str) -> reqwest::Response {
    http()
        .get(node.url(&format!("/v1/workspace/{ws_id}/application-token")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_management_api_refuses_tokens_for_another_resource() {
    let db = TestDb::sqlite();
    for args in [
        vec!["--resource", REPORTS],
        // With a default audience of its own, /v1 still takes {issuer}/v1.
        vec![
            "--resource",
            REPORTS,
            "--default-audience",
            "https://api.example/v1",
        ],
    ] {
        let node = TestServer::start(&db.url, MASTER, &args).await;
        let ws = workspace(&node, "demo").await;
        let auth = basic(&ws.application_key, ws.secret_key.expose());
        let for_reports = post_form(
            &node,
            Some(&auth),
            "grant_type=client_credentials&scope=workspace%3Aadmin&resource=https%3A%2F%2Freports.example%2Fapi",
        )
        .await;
        assert_eq!(for_reports.status, 200, "{}", for_reports.json);
        let reports_token = for_reports.json["access_token"].as_str().unwrap();
        let refused = application_token(&node, &ws.workspace.id, reports_token).await;
        assert_eq!(refused.status(), 401);
        let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("invalid_token"), "{challenge}");
        assert!(challenge.contains("aud"), "{challenge}");

        let default = token(&node, &ws, "workspace%3Aadmin").await;
        let shown = application_token(&node, &ws.workspace.id, &default).await;
        assert_eq!(shown.status(), 200, "{args:?}");
        node.stop().await;
    }
}

#[tokio::test]
async fn introspection_says_inactive_from_exp_on() {
    for db in TestDb::all().await {
        let clock = MockClock::new(1_800_000_000);
        let node = TestServer::start_with_clock(
            &db.url,
            MASTER,
            &["--access-token-ttl", "60"],
            Arc::new(clock.clone()),
        )
        .await;
        let ws = workspace(&node, "demo").await;
        let auth = basic(&ws.application_key, ws.secret_key.expose());
        let access = token(&node, &ws, "api%3Aread").await;
        let introspect = || async {
            let res = http()
                .post(node.url("/oauth/introspect"))
                .header("authorization", &auth)
                .form(&[("token", access.as_str())])
                .send()
                .await
                .unwrap();
            answer(res).await.json
        };
        clock.advance(59);
        let live = introspect().await;
        assert_eq!(live["active"], true, "{live}");
        assert_eq!(live["exp"], 1_800_000_060);
        clock.advance(1);
        assert_eq!(introspect().await["active"], false, "at exp");
        clock.advance(10);
        assert_eq!(introspect().await["active"], false, "within the old leeway");
        node.stop().await;
    }
}
