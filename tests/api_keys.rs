//! API keys over real HTTP: the whole lifecycle, use through the verifier,
//! introspection and token exchange.

mod common;
#[allow(dead_code, reason = "the example's main is not used here")]
#[path = "../examples/resource_api.rs"]
mod resource_api;

use std::sync::Arc;

use common::keys::*;
use common::*;
use keyflow::clock::MockClock;
use keyflow::testing::{TestDb, TestServer};
use keyflow::verifier::Verifier;
use serde_json::json;

/// The example API, accepting API keys through keyflow's own checker.
async fn api(node: &TestServer) -> String {
    let verifier = Verifier::remote(&node.issuer, [format!("{}/v1", node.issuer)])
        .unwrap()
        .api_keys(node.app.api_keys.clone())
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/reports", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, resource_api::router(verifier)).await });
    url
}

async fn use_key(url: &str, key: &str, post: bool) -> Answer {
    let req = if post {
        http().post(url)
    } else {
        http().get(url)
    };
    answer(req.bearer_auth(key).send().await.unwrap()).await
}

#[tokio::test]
async fn the_lifecycle_of_a_key() {
    for db in TestDb::all().await {
        let clock = MockClock::new(1_800_000_000);
        let node =
            TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
        let ws = workspace(&node, "demo").await;
        let admin = token(&node, &ws, KEYS_SCOPES).await;
        let url = api(&node).await;

        let sk = create(
            &node,
            &ws,
            &admin,
            json!({"name": "backend", "type": "secret", "scopes": ["api:read", "api:write"]}),
        )
        .await;
        assert_eq!(sk.status, 201, "{}", sk.json);
        assert_eq!(sk.headers["cache-control"], "no-store");
        let sk_key = sk.json["key"].as_str().unwrap().to_owned();
        let sk_id = sk.json["id"].as_str().unwrap().to_owned();
        assert!(sk_key.starts_with(sk.json["prefix"].as_str().unwrap()));
        assert_eq!(sk.json["status"], "active");
        let ck = create(
            &node,
            &ws,
            &admin,
            json!({"name": "app", "type": "client", "scopes": "events:write"}),
        )
        .await;
        assert_eq!(ck.status, 201, "{}", ck.json);
        assert!(ck.json["key"].as_str().unwrap().starts_with("ck_"));
        let rk = create(&node, &ws, &admin, json!({"name": "ci", "type": "read_only", "scopes": ["api:read"], "expiresAt": keyflow::clock::rfc3339(1_800_000_060)})).await;
        assert_eq!(rk.status, 201, "{}", rk.json);
        let rk_key = rk.json["key"].as_str().unwrap().to_owned();

        for (body, why) in [
            (
                json!({"name": "x", "type": "read_only", "scopes": ["api:write"]}),
                "beyond the type",
            ),
            (
                json!({"name": "x", "type": "client", "scopes": ["api:read"]}),
                "client keys only write events",
            ),
            (
                json!({"name": "x", "type": "secret", "scopes": ["nope:x"]}),
                "unknown scope",
            ),
            (
                json!({"name": "", "type": "secret", "scopes": ["api:read"]}),
                "empty name",
            ),
            (
                json!({"name": "x", "type": "admin", "scopes": ["api:read"]}),
                "unknown type",
            ),
            (
                json!({"name": "x", "type": "secret", "scopes": ["api:read"], "expiresAt": "2000-01-01T00:00:00Z"}),
                "expired at birth",
            ),
            (json!({"type": "secret", "scopes": ["api:read"]}), "no name"),
        ] {
            assert_eq!(create(&node, &ws, &admin, body).await.status, 400, "{why}");
        }
        // Beyond the creator's own scopes: 403, naming the scope.
        let beyond = create(
            &node,
            &ws,
            &admin,
            json!({"name": "x", "type": "secret", "scopes": ["workspace:admin"]}),
        )
        .await;
        assert_eq!(beyond.status, 403, "{}", beyond.json);
        assert_eq!(beyond.json["error"], "insufficient_scope");
        assert_eq!(
            beyond.json["error_description"],
            "your credential does not hold workspace:admin; request it in the token or use a credential that has it"
        );

        // Use: the verifier accepts keys as Bearer tokens, scopes hold.
        let used = use_key(&url, &sk_key, true).await;
        assert_eq!(used.status, 201, "{}", used.json);
        let read = use_key(&url, &rk_key, false).await;
        assert_eq!(read.json["credential"], "api_key");
        assert_eq!(use_key(&url, &rk_key, true).await.status, 403);
        let mut typo: Vec<char> = sk_key.chars().collect();
        typo[15] = if typo[15] == 'a' { 'b' } else { 'a' };
        let typo: String = typo.into_iter().collect();
        let bad = use_key(&url, &typo, false).await;
        assert_eq!(bad.status, 401);
        assert!(
            bad.json["error_description"]
                .as_str()
                .unwrap()
                .contains("checksum")
        );

        // Listing shows usage (batched) and never the key.
        node.app.flush_usage().await;
        let list = send(&node, reqwest::Method::GET, &keys_path(&ws), &admin, None).await;
        assert_eq!(list.status, 200);
        assert!(!list.json.to_string().contains(&sk_key));
        let item = list.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == sk_id.as_str())
            .unwrap()
            .clone();
        assert_eq!(item["usageCount"], 1);
        assert!(item["lastUsedAt"].is_string());
        assert_eq!(item["createdBy"], ws.application_key.as_str());
        let prefix = item["prefix"].as_str().unwrap();
        let by_prefix = send(
            &node,
            reqwest::Method::GET,
            &format!("{}?prefix={prefix}", keys_path(&ws)),
            &admin,
            None,
        )
        .await;
        assert_eq!(by_prefix.json["items"].as_array().unwrap().len(), 1);

        // Deactivate, reactivate, rename.
        let key_path = format!("{}/{sk_id}", keys_path(&ws));
        let off = send(
            &node,
            reqwest::Method::PATCH,
            &key_path,
            &admin,
            Some(json!({"active": false, "name": "renamed"})),
        )
        .await;
        assert_eq!(
            (off.status, off.json["status"].as_str()),
            (200, Some("deactivated"))
        );
        assert_eq!(use_key(&url, &sk_key, false).await.status, 401);
        let on = send(
            &node,
            reqwest::Method::PATCH,
            &key_path,
            &admin,
            Some(json!({"active": true})),
        )
        .await;
        assert_eq!(on.json["name"], "renamed");
        assert_eq!(use_key(&url, &sk_key, false).await.status, 200);
        let narrower = send(
            &node,
            reqwest::Method::PATCH,
            &key_path,
            &admin,
            Some(json!({"scopes": ["api:read"]})),
        )
        .await;
        assert_eq!(narrower.json["scopes"], json!(["api:read"]));
        assert_eq!(use_key(&url, &sk_key, true).await.status, 403);

        // Roll with overlap: both work until the overlap ends.
        let rolled = send(
            &node,
            reqwest::Method::POST,
            &format!("{key_path}/roll"),
            &admin,
            Some(json!({"expiresOldInSeconds": 30})),
        )
        .await;
        assert_eq!(rolled.status, 201, "{}", rolled.json);
        let new_key = rolled.json["key"].as_str().unwrap().to_owned();
        assert_eq!(rolled.json["scopes"], json!(["api:read"]));
        assert_eq!(use_key(&url, &sk_key, false).await.status, 200);
        assert_eq!(use_key(&url, &new_key, false).await.status, 200);

        // Time passes: the old key's overlap and the read-only key run out.
        clock.advance(61);
        assert_eq!(use_key(&url, &sk_key, false).await.status, 401);
        assert_eq!(use_key(&url, &rk_key, false).await.status, 401);
        assert_eq!(use_key(&url, &new_key, false).await.status, 200);
        let list = send(&node, reqwest::Method::GET, &keys_path(&ws), &admin, None).await;
        let statuses: Vec<&str> = list.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == "expired").count(),
            2,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == "active").count(),
            2,
            "{statuses:?}"
        );
        let old = list.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == sk_id.as_str())
            .unwrap();
        assert_eq!(old["status"], "expired");
        assert!(
            old["lastUsedAt"].is_string(),
            "the rolled key's last use stays visible"
        );

        // Revoke for good.
        let new_id = rolled.json["id"].as_str().unwrap();
        let gone = send(
            &node,
            reqwest::Method::DELETE,
            &format!("{}/{new_id}", keys_path(&ws)),
            &admin,
            None,
        )
        .await;
        assert_eq!(gone.status, 204);
        assert_eq!(use_key(&url, &new_key, false).await.status, 401);
        let again = send(
            &node,
            reqwest::Method::DELETE,
            &format!("{}/{new_id}", keys_path(&ws)),
            &admin,
            None,
        )
        .await;
        assert_eq!(again.status, 409, "already revoked: {}", again.json);

        let audit = send(
            &node,
            reqwest::Method::GET,
            &format!("/v1/workspace/{}/audit-logs", ws.workspace.id),
            &token(&node, &ws, "workspace%3Aadmin").await,
            None,
        )
        .await;
        let events: Vec<&str> = audit.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["event"].as_str().unwrap())
            .collect();
        for e in [
            "api_key_created",
            "api_key_updated",
            "api_key_rolled",
            "api_key_revoked",
        ] {
            assert!(events.contains(&e), "{e} missing from {events:?}");
        }
    }
}

#[tokio::test]
async fn who_may_manage_keys() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let a = workspace(&node, "a").await;
    let b = workspace(&node, "b").await;
    let admin = token(&node, &a, KEYS_SCOPES).await;
    let sk = create(
        &node,
        &a,
        &admin,
        json!({"name": "s", "type": "secret", "scopes": ["api:read", "api:write", "keys:write"]}),
    )
    .await;
    let sk = sk.json["key"].as_str().unwrap().to_owned();
    let rk = create(
        &node,
        &a,
        &admin,
        json!({"name": "r", "type": "read_only", "scopes": ["api:read"]}),
    )
    .await;
    let rk = rk.json["key"].as_str().unwrap().to_owned();

    // A secret key with keys:write may create keys within its own scopes.
    let child = create(
        &node,
        &a,
        &sk,
        json!({"name": "child", "type": "read_only", "scopes": ["api:read"]}),
    )
    .await;
    assert_eq!(child.status, 201, "{}", child.json);
    assert_eq!(
        create(
            &node,
            &a,
            &sk,
            json!({"name": "c", "type": "client", "scopes": ["events:write"]})
        )
        .await
        .status,
        403
    );
    // A read-only key may not; nor a token without keys:write.
    assert_eq!(
        create(
            &node,
            &a,
            &rk,
            json!({"name": "x", "type": "read_only", "scopes": ["api:read"]})
        )
        .await
        .status,
        403
    );
    let reader = token(&node, &a, "api%3Aread").await;
    assert_eq!(
        create(
            &node,
            &a,
            &reader,
            json!({"name": "x", "type": "read_only", "scopes": ["api:read"]})
        )
        .await
        .status,
        403
    );
    // Another workspace sees nothing.
    let other = token(&node, &b, KEYS_SCOPES).await;
    assert_eq!(
        send(&node, reqwest::Method::GET, &keys_path(&a), &other, None)
            .await
            .status,
        404
    );
    assert_eq!(
        create(
            &node,
            &a,
            &other,
            json!({"name": "x", "type": "secret", "scopes": ["api:read"]})
        )
        .await
        .status,
        404
    );
    // API keys are not for the application-token API.
    let shown = send(
        &node,
        reqwest::Method::GET,
        &format!("/v1/workspace/{}/application-token", a.workspace.id),
        &sk,
        None,
    )
    .await;
    assert_eq!(shown.status, 401);
}

async fn introspect(node: &TestServer, auth: &str, token: &str) -> serde_json::Value {
    let a = answer(
        http()
            .post(node.url("/oauth/introspect"))
            .header("authorization", auth)
            .form(&[("token", token)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(a.json["active"], true, "{}", a.json);
    let members = a.json.as_object().unwrap();
    // RFC 7662 §2.2: optional members are left out, never null.
    assert!(members.values().all(|v| !v.is_null()), "{}", a.json);
    a.json
}

#[tokio::test]
async fn introspection_leaves_out_what_a_key_does_not_have() {
    for db in TestDb::all().await {
        let clock = MockClock::new(1_800_000_000);
        let node =
            TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
        let ws = workspace(&node, "demo").await;
        let admin = token(&node, &ws, KEYS_SCOPES).await;
        let rs = node
            .app
            .workspaces()
            .create_resource_server(
                "reports-api",
                node.app.clock.now(),
                &keyflow::domain::audit::AuditContext::cli(),
            )
            .await
            .unwrap();
        let rs_auth = basic(&rs.client_id, rs.secret.expose());
        let key = |body| {
            let (node, ws, admin) = (&node, &ws, &admin);
            async move {
                let made = create(node, ws, admin, body).await;
                assert_eq!(made.status, 201, "{}", made.json);
                made.json
            }
        };
        let forever = key(json!({"name": "f", "type": "secret", "scopes": ["api:read"]})).await;
        let until = 1_800_000_600;
        let expiring = key(
            json!({"name": "e", "type": "read_only", "scopes": ["api:read"],
            "expiresAt": keyflow::clock::rfc3339(until)}),
        )
        .await;

        let j = introspect(&node, &rs_auth, forever["key"].as_str().unwrap()).await;
        assert!(j.get("exp").is_none(), "{j}");
        assert!(j.get("jti").is_none(), "{j}");
        assert_eq!(j["sub"], forever["id"]);
        assert_eq!(j["iat"], 1_800_000_000);
        assert_eq!(j["workspace_id"], ws.workspace.id.as_str());

        let j = introspect(&node, &rs_auth, expiring["key"].as_str().unwrap()).await;
        assert_eq!(j["exp"], until, "{j}");
        assert!(j.get("jti").is_none(), "an API key has no jti: {j}");

        // An access token has every member.
        let j = introspect(&node, &rs_auth, &admin).await;
        for member in [
            "exp",
            "iat",
            "jti",
            "workspace_id",
            "sub",
            "client_id",
            "scope",
            "iss",
        ] {
            assert!(j.get(member).is_some(), "{member} missing: {j}");
        }
    }
}

#[tokio::test]
async fn keys_are_introspected_and_exchanged_for_access_tokens() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let ws = workspace(&node, "demo").await;
        let admin = token(&node, &ws, KEYS_SCOPES).await;
        let made = create(
            &node,
            &ws,
            &admin,
            json!({"name": "s", "type": "secret", "scopes": ["api:read", "api:write"]}),
        )
        .await;
        let key = made.json["key"].as_str().unwrap().to_owned();
        let app_auth = basic(&ws.application_key, ws.secret_key.expose());

        let intro = answer(
            http()
                .post(node.url("/oauth/introspect"))
                .header("authorization", &app_auth)
                .form(&[("token", key.as_str())])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(intro.json["active"], true, "{}", intro.json);
        assert_eq!(intro.json["token_type"], "api_key");
        assert_eq!(intro.json["scope"], "api:read api:write");
        assert_eq!(intro.json["workspace_id"], ws.workspace.id.as_str());

        let exchange = |scope: Option<&'static str>, subject: String| {
            let url = node.url("/oauth/token");
            async move {
                let mut form = vec![
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:token-exchange".to_owned(),
                    ),
                    ("subject_token", subject),
                    (
                        "subject_token_type",
                        "urn:keyflow:params:oauth:token-type:api_key".to_owned(),
                    ),
                ];
                if let Some(s) = scope {
                    form.push(("scope", s.to_owned()));
                }
                answer(http().post(url).form(&form).send().await.unwrap()).await
            }
        };
        let t = exchange(Some("api:read"), key.clone()).await;
        assert_eq!(t.status, 200, "{}", t.json);
        assert_eq!(
            t.json["issued_token_type"],
            "urn:ietf:params:oauth:token-type:access_token"
        );
        assert_eq!(t.json["scope"], "api:read");
        assert!(t.json["expires_in"].as_i64().unwrap() <= 900);
        let claims = verify(
            t.json["access_token"].as_str().unwrap(),
            &jwks(&node).await,
            &node.issuer,
            &format!("{}/v1", node.issuer),
        )
        .unwrap()
        .claims;
        assert_eq!(claims["workspace_id"], ws.workspace.id.as_str());
        assert_eq!(claims["client_id"], made.json["prefix"]);
        assert_eq!(
            exchange(Some("workspace:admin"), key.clone()).await.json["error"],
            "invalid_scope"
        );
        assert_eq!(
            exchange(None, "sk_garbage".into()).await.json["error"],
            "invalid_request"
        );

        let meta = get_json(node.url("/.well-known/oauth-authorization-server")).await;
        assert!(
            meta["grant_types_supported"]
                .as_array()
                .unwrap()
                .contains(&json!("urn:ietf:params:oauth:grant-type:token-exchange"))
        );

        let id = made.json["id"].as_str().unwrap();
        send(
            &node,
            reqwest::Method::DELETE,
            &format!("{}/{id}", keys_path(&ws)),
            &admin,
            None,
        )
        .await;
        let after = answer(
            http()
                .post(node.url("/oauth/introspect"))
                .header("authorization", &app_auth)
                .form(&[("token", key.as_str())])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(after.json, json!({"active": false}));
    }
}
