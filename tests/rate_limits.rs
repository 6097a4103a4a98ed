//! Rate limits: per API key and category, per client on the token
//! endpoint, held exactly, and shared by nodes on one PostgreSQL.

mod common;
#[allow(dead_code, reason = "the example's main is not used here")]
#[path = "../examples/resource_api.rs"]
mod resource_api;

use std::sync::Arc;

use common::*;
use keyflow::node::rate_limit::RateLimiter;
use keyflow::service::workspaces::CreatedWorkspace;
use keyflow::testing::{TestDb, TestServer};
use keyflow::verifier::Verifier;
use serde_json::{Value, json};

/// A token that holds every scope of the keys made here, so it may manage them.
const ADMIN: &str = "keys%3Awrite+keys%3Aread+api%3Aread+api%3Awrite";

async fn new_key(node: &TestServer, ws: &CreatedWorkspace, limits: Value) -> Value {
    let admin = token(node, ws, ADMIN).await;
    let res = http()
        .post(node.url(&format!("/v1/workspace/{}/api-keys", ws.workspace.id)))
        .bearer_auth(admin)
        .json(&json!({"name": "k", "type": "secret", "scopes": ["api:read", "api:write", "keys:read"], "rateLimits": limits}))
        .send()
        .await
        .unwrap();
    let a = answer(res).await;
    assert_eq!(a.status, 201, "{}", a.json);
    a.json
}

fn header(a: &Answer, name: &str) -> String {
    a.headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_keys_limit_is_held_exactly_with_the_draft_headers() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&node, "demo").await;
    let key = new_key(&node, &ws, json!({"read": 5})).await;
    assert_eq!(
        key["rateLimits"],
        json!({"read": 5, "write": 1200, "token": 120})
    );
    let key = key["key"].as_str().unwrap().to_owned();
    let verifier = Verifier::remote(&node.issuer, [format!("{}/v1", node.issuer)])
        .unwrap()
        .api_keys(node.app.api_keys.clone())
        .rate_limiter(Arc::new(RateLimiter::in_memory()))
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/reports", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, resource_api::router(verifier)).await });

    for remaining in (0..5).rev() {
        let a = answer(http().get(&url).bearer_auth(&key).send().await.unwrap()).await;
        assert_eq!(a.status, 200);
        assert_eq!(header(&a, "ratelimit-policy"), "\"read\";q=5;w=60");
        assert!(
            header(&a, "ratelimit").starts_with(&format!("\"read\";r={remaining};t=")),
            "{}",
            header(&a, "ratelimit")
        );
    }
    let refused = answer(http().get(&url).bearer_auth(&key).send().await.unwrap()).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json["error"], "rate_limited");
    let retry: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!((1..=12).contains(&retry), "{retry}");
    // Writing has a budget of its own.
    let write = answer(http().post(&url).bearer_auth(&key).send().await.unwrap()).await;
    assert_eq!(write.status, 201);
    assert_eq!(header(&write, "ratelimit-policy"), "\"write\";q=1200;w=60");
}

#[tokio::test]
async fn nodes_sharing_postgresql_share_a_keys_budget() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let a = TestServer::start(&db.url, MASTER, &[]).await;
    let b = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&a, "demo").await;
    let key = new_key(&a, &ws, json!({"read": 4})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/workspace/{}/api-keys", ws.workspace.id);
    let mut statuses = Vec::new();
    for i in 0..6 {
        let node = if i % 2 == 0 { &a } else { &b };
        statuses.push(
            http()
                .get(node.url(&path))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 429, 429]);
}

#[tokio::test]
async fn the_token_endpoint_limits_each_client() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &["--token-rate-limit", "3"]).await;
    let ws = workspace(&node, "demo").await;
    let other = workspace(&node, "other").await;
    let auth = basic(&ws.application_key, ws.secret_key.expose());
    for remaining in (0..3).rev() {
        let a = post_form(&node, Some(&auth), "grant_type=client_credentials").await;
        assert_eq!(a.status, 200);
        assert_eq!(header(&a, "ratelimit-policy"), "\"token\";q=3;w=60");
        assert!(header(&a, "ratelimit").starts_with(&format!("\"token\";r={remaining};")));
    }
    let refused = post_form(&node, Some(&auth), "grant_type=client_credentials").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json["error"], "temporarily_unavailable");
    // 60 s / 3 = 20 s until the next token (19 if the test was slow).
    let retry: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!((19..=20).contains(&retry), "{retry}");
    // Another client is not affected.
    let theirs = basic(&other.application_key, other.secret_key.expose());
    assert_eq!(
        post_form(&node, Some(&theirs), "grant_type=client_credentials")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn limits_are_changed_per_key_and_validated() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&node, "demo").await;
    let key = new_key(&node, &ws, json!({"token": 2})).await;
    let admin = token(&node, &ws, ADMIN).await;
    let path = format!(
        "/v1/workspace/{}/api-keys/{}",
        ws.workspace.id,
        key["id"].as_str().unwrap()
    );
    let patch = |body: Value| {
        let req = http()
            .patch(node.url(&path))
            .bearer_auth(&admin)
            .json(&body);
        async move { answer(req.send().await.unwrap()).await }
    };
    assert_eq!(patch(json!({"rateLimits": {"read": 0}})).await.status, 400);
    assert_eq!(patch(json!({"rateLimits": {"reads": 1}})).await.status, 400);
    let changed = patch(json!({"rateLimits": {"read": 7}})).await;
    assert_eq!(changed.json["rateLimits"]["read"], 7);
    let reset = patch(json!({"rateLimits": null})).await;
    assert_eq!(reset.json["rateLimits"]["read"], 6000);
    assert_eq!(reset.json["rateLimits"]["token"], 120);
    let two = patch(json!({"rateLimits": {"token": 2}})).await;
    assert_eq!(two.json["rateLimits"]["token"], 2);

    // Token exchange spends the key's token budget.
    let secret = key["key"].as_str().unwrap();
    let exchange = || {
        let form = [
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", secret),
            (
                "subject_token_type",
                "urn:keyflow:params:oauth:token-type:api_key",
            ),
        ];
        let req = http().post(node.url("/oauth/token")).form(&form);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        (exchange().await, exchange().await, exchange().await),
        (200, 200, 429)
    );
}
