//! The management API, introspection, revocation and the audit log, over
//! real HTTP against running nodes.

mod common;

use std::sync::Arc;

use common::*;
use keyflow::clock::MockClock;
use keyflow::domain::audit::AuditContext;
use keyflow::service::workspaces::CreatedWorkspace;
use keyflow::testing::{TestDb, TestServer};
use serde_json::{Value, json};

fn app_path(ws: &CreatedWorkspace, rest: &str) -> String {
    format!("/v1/workspace/{}/{rest}", ws.workspace.id)
}

async fn get(node: &TestServer, path: &str, token: &str) -> Answer {
    answer(
        http()
            .get(node.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn regenerate(
    node: &TestServer,
    ws: &CreatedWorkspace,
    token: &str,
    body: Option<Value>,
) -> Answer {
    let mut req = http()
        .post(node.url(&app_path(ws, "application-token/regenerate")))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    answer(req.send().await.unwrap()).await
}

async fn status_with(node: &TestServer, key: &str, secret: &str) -> u16 {
    post_form(
        node,
        Some(&basic(key, secret)),
        "grant_type=client_credentials",
    )
    .await
    .status
}

#[tokio::test]
async fn the_application_token_is_shown_without_its_secret_to_its_own_admins_only() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let a = workspace(&node, "a").await;
        let b = workspace(&node, "b").await;
        let admin = token(&node, &a, "workspace%3Aadmin").await;
        let shown = get(&node, &app_path(&a, "application-token"), &admin).await;
        assert_eq!(shown.status, 200, "{}", shown.json);
        assert_eq!(shown.json["workspaceId"], a.workspace.id.as_str());
        assert_eq!(shown.json["applicationKey"], a.application_key.as_str());
        assert_eq!(
            shown.json["apiUrl"],
            format!("{}/v1/workspace/{}", node.issuer, a.workspace.id)
        );
        assert_eq!(shown.json["rotationDue"], false);
        assert!(shown.json["lastRotatedAt"].as_str().unwrap().ends_with('Z'));
        assert!(!shown.json.to_string().contains(a.secret_key.expose()));
        assert_eq!(shown.headers["cache-control"], "no-store");

        let reader = token(&node, &a, "api%3Aread").await;
        let weak = get(&node, &app_path(&a, "application-token"), &reader).await;
        assert_eq!(weak.status, 403);
        assert_eq!(weak.json["error"], "insufficient_scope");
        // Another workspace's admin learns nothing, not even that it exists.
        let other = token(&node, &b, "workspace%3Aadmin").await;
        for path in [
            app_path(&a, "application-token"),
            app_path(&a, "audit-logs"),
            "/v1/workspace/no-such-id/application-token".into(),
        ] {
            assert_eq!(get(&node, &path, &other).await.status, 404, "{path}");
        }
        let cross = regenerate(&node, &a, &other, None).await;
        assert_eq!(cross.status, 404);
        let anonymous = answer(
            http()
                .get(node.url(&app_path(&a, "application-token")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(anonymous.status, 401);
        assert_eq!(
            anonymous.headers["www-authenticate"],
            "Bearer realm=\"keyflow\""
        );
        let legacy = answer(
            http()
                .get(node.url(&app_path(&a, "application-token")))
                .header("appkey", &a.application_key)
                .header("secretkey", a.secret_key.expose())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            legacy.status, 401,
            "the management API takes access tokens only"
        );
    }
}

#[tokio::test]
async fn regenerate_cuts_the_old_secret_off_on_every_node_before_answering() {
    for db in TestDb::all().await {
        // Two nodes of one deployment share the issuer.
        let shared = ["--issuer", "http://keyflow.localhost"];
        let n1 = TestServer::start(&db.url, MASTER, &shared).await;
        let n2 = TestServer::start(&db.url, MASTER, &shared).await;
        let ws = workspace(&n1, "demo").await;
        let old = ws.secret_key.expose().to_owned();
        // Warm both nodes' caches with the old secret.
        assert_eq!(status_with(&n1, &ws.application_key, &old).await, 200);
        assert_eq!(status_with(&n2, &ws.application_key, &old).await, 200);
        let admin = token(&n1, &ws, "workspace%3Aadmin").await;
        let r = regenerate(&n1, &ws, &admin, None).await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert_eq!(r.headers["cache-control"], "no-store");
        let new = r.json["secretKey"].as_str().unwrap().to_owned();
        assert!(new.starts_with("sec_") && new != old);
        for node in [&n1, &n2] {
            assert_eq!(status_with(node, &ws.application_key, &old).await, 401);
            assert_eq!(status_with(node, &ws.application_key, &new).await, 200);
        }
        // Tokens issued before stay valid unless revocation was asked for.
        assert_eq!(
            get(&n2, &app_path(&ws, "application-token"), &admin)
                .await
                .status,
            200
        );
    }
}

#[tokio::test]
async fn a_grace_period_keeps_the_old_secret_until_it_ends_and_shows_its_use() {
    let db = TestDb::sqlite();
    let clock = MockClock::new(1_800_000_000);
    let node = TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
    let ws = workspace(&node, "demo").await;
    let admin = token(&node, &ws, "workspace%3Aadmin").await;
    let r = regenerate(&node, &ws, &admin, Some(json!({"gracePeriodSeconds": 60}))).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let new = r.json["secretKey"].as_str().unwrap().to_owned();
    let old = ws.secret_key.expose();
    assert_eq!(status_with(&node, &ws.application_key, old).await, 200);
    node.app.flush_usage().await;
    let shown = get(&node, &app_path(&ws, "application-token"), &admin).await;
    assert_eq!(
        shown.json["previousSecretExpiresAt"],
        keyflow::clock::rfc3339(1_800_000_060)
    );
    assert!(
        shown.json["previousSecretLastUsedAt"].is_string(),
        "{}",
        shown.json
    );
    clock.advance(60);
    assert_eq!(status_with(&node, &ws.application_key, old).await, 401);
    assert_eq!(status_with(&node, &ws.application_key, &new).await, 200);

    for (body, what) in [
        (json!({"gracePeriodSeconds": 700_000}), "too long"),
        (json!({"gracePeriodSeconds": -1}), "negative"),
        (json!({"nope": true}), "unknown field"),
    ] {
        let bad = regenerate(&node, &ws, &admin, Some(body)).await;
        assert_eq!(bad.status, 400, "{what}");
        assert_eq!(bad.json["error"], "invalid_request");
    }
    let garbage = answer(
        http()
            .post(node.url(&app_path(&ws, "application-token/regenerate")))
            .bearer_auth(&admin)
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(garbage.status, 400);
}

#[tokio::test]
async fn every_old_secret_in_its_grace_period_is_listed_and_works_until_a_regenerate_without_grace()
{
    for db in TestDb::all().await {
        let t0 = 1_800_000_000;
        let clock = MockClock::new(t0);
        let node =
            TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
        let ws = workspace(&node, "demo").await;
        let admin = token(&node, &ws, "workspace%3Aadmin").await;
        let path = app_path(&ws, "application-token");
        let shown = || get(&node, &path, &admin);
        assert_eq!(shown().await.json["previousSecrets"], json!([]));

        let grace = Some(json!({"gracePeriodSeconds": 600}));
        let first = regenerate(&node, &ws, &admin, grace.clone()).await;
        assert_eq!(first.status, 200, "{}", first.json);
        clock.advance(10);
        let second = regenerate(&node, &ws, &admin, grace).await;
        assert_eq!(second.status, 200, "{}", second.json);
        let secrets = [
            ws.secret_key.expose(),
            first.json["secretKey"].as_str().unwrap(),
            second.json["secretKey"].as_str().unwrap(),
        ];

        // The second regenerate left the first one's grace period running:
        // both old secrets are listed, newest first, with their own expiry.
        // Only the original secret has been used (for `admin`).
        node.app.flush_usage().await;
        let both = shown().await;
        assert_eq!(both.status, 200, "{}", both.json);
        let at = keyflow::clock::rfc3339;
        assert_eq!(
            both.json["previousSecrets"],
            json!([
                {"createdAt": at(t0), "expiresAt": at(t0 + 610), "lastUsedAt": null},
                {"createdAt": at(t0), "expiresAt": at(t0 + 600), "lastUsedAt": at(t0)},
            ])
        );
        // The members from before `previousSecrets` describe the newest one.
        assert_eq!(both.json["previousSecretExpiresAt"], at(t0 + 610));
        assert_eq!(both.json["previousSecretLastUsedAt"], Value::Null);
        assert_eq!(both.json["lastRotatedAt"], at(t0 + 10));
        for s in secrets {
            assert_eq!(status_with(&node, &ws.application_key, s).await, 200);
        }
        node.app.flush_usage().await;
        let used = shown().await;
        for item in used.json["previousSecrets"].as_array().unwrap() {
            assert_eq!(item["lastUsedAt"], at(t0 + 10), "{}", used.json);
        }

        // Without a grace period every older secret ends, including the two
        // still inside their grace periods.
        let last = regenerate(&node, &ws, &admin, None).await;
        assert_eq!(last.status, 200, "{}", last.json);
        let none = shown().await;
        assert_eq!(none.json["previousSecrets"], json!([]), "{}", none.json);
        assert!(none.json.get("previousSecretExpiresAt").is_none());
        for s in secrets {
            let refused = post_form(
                &node,
                Some(&basic(&ws.application_key, s)),
                "grant_type=client_credentials",
            )
            .await;
            assert_eq!(refused.status, 401, "{}", refused.json);
            assert_eq!(refused.json["error"], "invalid_client");
        }
        let newest = last.json["secretKey"].as_str().unwrap();
        assert_eq!(status_with(&node, &ws.application_key, newest).await, 200);
    }
}

#[tokio::test]
async fn revoke_issued_tokens_invalidates_earlier_tokens() {
    let db = TestDb::sqlite();
    let clock = MockClock::new(1_800_000_000);
    let node = TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
    let ws = workspace(&node, "demo").await;
    let admin = token(&node, &ws, "workspace%3Aadmin").await;
    let r = regenerate(
        &node,
        &ws,
        &admin,
        Some(json!({"revokeIssuedTokens": true})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        get(&node, &app_path(&ws, "application-token"), &admin)
            .await
            .status,
        401
    );
    // The cut-off covers the whole second of the rotation (iat has second
    // precision), so a token from the next second is the first that works.
    clock.advance(1);
    let later = post_form(
        &node,
        Some(&basic(
            &ws.application_key,
            r.json["secretKey"].as_str().unwrap(),
        )),
        "grant_type=client_credentials&scope=workspace%3Aadmin",
    )
    .await;
    let t = later.json["access_token"].as_str().unwrap();
    assert_eq!(
        get(&node, &app_path(&ws, "application-token"), t)
            .await
            .status,
        200
    );
}

async fn introspect(node: &TestServer, auth: &str, token: &str) -> Answer {
    answer(
        http()
            .post(node.url("/oauth/introspect"))
            .header("authorization", auth)
            .form(&[("token", token)])
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn introspection_and_revocation_round_trip() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let a = workspace(&node, "a").await;
        let b = workspace(&node, "b").await;
        let rs = node
            .app
            .workspaces()
            .create_resource_server("reports-api", node.app.clock.now(), &AuditContext::cli())
            .await
            .unwrap();
        let rs_auth = basic(&rs.client_id, rs.secret.expose());
        let a_auth = basic(&a.application_key, a.secret_key.expose());
        let b_auth = basic(&b.application_key, b.secret_key.expose());
        let t = token(&node, &a, "api%3Aread").await;

        let active = introspect(&node, &rs_auth, &t).await;
        assert_eq!(active.status, 200);
        assert_eq!(active.headers["cache-control"], "no-store");
        let j = &active.json;
        assert_eq!(j["active"], true);
        assert_eq!(j["scope"], "api:read");
        assert_eq!(j["client_id"], a.application_key.as_str());
        assert_eq!(j["sub"], a.application_key.as_str());
        assert_eq!(j["workspace_id"], a.workspace.id.as_str());
        assert_eq!(j["token_type"], "Bearer");
        assert_eq!(j["iss"], node.issuer);
        assert!(j["exp"].as_i64().unwrap() > j["iat"].as_i64().unwrap());
        assert_eq!(introspect(&node, &a_auth, &t).await.json["active"], true);
        assert_eq!(
            introspect(&node, &b_auth, &t).await.json,
            json!({"active": false})
        );
        assert_eq!(
            introspect(&node, &rs_auth, "garbage").await.json,
            json!({"active": false})
        );
        assert_eq!(
            introspect(&node, &basic(&rs.client_id, "wrong"), &t)
                .await
                .status,
            401
        );
        // A resource server gets no tokens of its own.
        let own = post_form(&node, Some(&rs_auth), "grant_type=client_credentials").await;
        assert_eq!(own.json["error"], "unauthorized_client");

        let revoke = |auth: String, token: String| {
            let url = node.url("/oauth/revoke");
            async move {
                answer(
                    http()
                        .post(url)
                        .header("authorization", auth)
                        .form(&[("token", token)])
                        .send()
                        .await
                        .unwrap(),
                )
                .await
            }
        };
        let foreign = revoke(b_auth.clone(), t.clone()).await;
        assert_eq!(
            (foreign.status, foreign.json["error"].as_str()),
            (400, Some("unauthorized_client"))
        );
        assert_eq!(
            revoke(a_auth.clone(), "not-a-token".into()).await.status,
            200
        );
        assert_eq!(revoke(a_auth.clone(), t.clone()).await.status, 200);
        assert_eq!(
            revoke(a_auth.clone(), t.clone()).await.status,
            200,
            "idempotent"
        );
        assert_eq!(
            introspect(&node, &rs_auth, &t).await.json,
            json!({"active": false})
        );
        let list = get_json(node.url("/oauth/revocations")).await;
        let payload = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            t.split('.').nth(1).unwrap(),
        )
        .unwrap();
        let jti = serde_json::from_slice::<Value>(&payload).unwrap()["jti"].clone();
        assert_eq!(list["revokedTokens"][0]["jti"], jti);
        let missing = answer(
            http()
                .post(node.url("/oauth/revoke"))
                .header("authorization", &a_auth)
                .form(&[("x", "y")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(missing.json["error"], "invalid_request");
    }
}

#[tokio::test]
async fn audit_entries_are_written_filtered_and_paginated() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let ws = workspace(&node, "demo").await;
        let admin = token(&node, &ws, "workspace%3Aadmin").await;
        let r = answer(
            http()
                .post(node.url(&app_path(&ws, "application-token/regenerate")))
                .bearer_auth(&admin)
                .header("user-agent", "audit-test/1.0")
                .send()
                .await
                .unwrap(),
        )
        .await;
        let new_secret = r.json["secretKey"].as_str().unwrap().to_owned();
        let t = post_form(
            &node,
            Some(&basic(&ws.application_key, &new_secret)),
            "grant_type=client_credentials&scope=workspace%3Aadmin",
        )
        .await;
        let t = t.json["access_token"].as_str().unwrap().to_owned();
        let revoked = http()
            .post(node.url("/oauth/revoke"))
            .header("authorization", basic(&ws.application_key, &new_secret))
            .form(&[("token", admin.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);

        let all = get(&node, &app_path(&ws, "audit-logs"), &t).await;
        assert_eq!(all.status, 200, "{}", all.json);
        let events: Vec<&str> = all.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["event"].as_str().unwrap())
            .collect();
        assert_eq!(
            events,
            vec!["token_revoked", "secret_regenerated", "workspace_created"]
        );
        let regen = &all.json["items"][1];
        assert_eq!(
            regen["actor"],
            json!({"type": "client", "id": ws.application_key})
        );
        assert_eq!(regen["ip"], "127.0.0.1");
        assert_eq!(regen["userAgent"], "audit-test/1.0");
        let text = all.json.to_string();
        assert!(
            !text.contains(&new_secret)
                && !text.contains(ws.secret_key.expose())
                && !text.contains(&admin)
        );

        let only = get(
            &node,
            &format!("{}?event=secret_regenerated", app_path(&ws, "audit-logs")),
            &t,
        )
        .await;
        assert_eq!(only.json["items"].as_array().unwrap().len(), 1);
        let page1 = get(
            &node,
            &format!("{}?limit=2", app_path(&ws, "audit-logs")),
            &t,
        )
        .await;
        assert_eq!(page1.json["items"].as_array().unwrap().len(), 2);
        let cursor = page1.json["nextCursor"].as_str().unwrap();
        let page2 = get(
            &node,
            &format!("{}?limit=2&cursor={cursor}", app_path(&ws, "audit-logs")),
            &t,
        )
        .await;
        assert_eq!(page2.json["items"][0]["event"], "workspace_created");
        assert_eq!(page2.json["nextCursor"], Value::Null);
        let future = get(
            &node,
            &format!("{}?since=2999-01-01T00:00:00Z", app_path(&ws, "audit-logs")),
            &t,
        )
        .await;
        assert_eq!(future.json["items"], json!([]));
        for bad in [
            "?event=nope",
            "?since=yesterday",
            "?cursor=zzz",
            "?limit=0",
            "?limit=9999",
            "?other=1",
        ] {
            let a = get(&node, &format!("{}{bad}", app_path(&ws, "audit-logs")), &t).await;
            assert_eq!(a.status, 400, "{bad}");
        }
    }
}
