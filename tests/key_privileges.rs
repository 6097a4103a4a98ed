//! Who may manage which API key (docs/api-keys.md): a credential acts on a
//! key only when it holds every scope of that key, and managing keys needs
//! `keys:write` on a secret key or a token. Each operation is tried by a
//! weaker caller (403, nothing changed) and by an equal one (allowed).

mod common;

use common::keys::*;
use common::*;
use keyflow::service::workspaces::CreatedWorkspace;
use keyflow::testing::{TestDb, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN_SCOPES: &str = "keys%3Awrite+keys%3Aread+api%3Aread+api%3Awrite+workspace%3Aadmin";

async fn key(node: &TestServer, ws: &CreatedWorkspace, auth: &str, scopes: &[&str]) -> Value {
    let made = create(
        node,
        ws,
        auth,
        json!({"name": scopes.join(","), "type": "secret", "scopes": scopes}),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.json);
    made.json
}

fn secret(made: &Value) -> String {
    made["key"].as_str().unwrap().to_owned()
}

async fn listed(node: &TestServer, ws: &CreatedWorkspace, auth: &str) -> Vec<Value> {
    let list = send(node, Method::GET, &keys_path(ws), auth, None).await;
    assert_eq!(list.status, 200, "{}", list.json);
    list.json["items"].as_array().unwrap().clone()
}

fn refused(a: &Answer, what: &str) {
    assert_eq!(a.status, 403, "{what}: {}", a.json);
    assert_eq!(a.json["error"], "insufficient_scope", "{what}");
    let challenge = a.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("insufficient_scope"),
        "{what}: {challenge}"
    );
}

/// Every operation on `target` that `caller` may not do.
async fn every_operation_is_refused(
    node: &TestServer,
    ws: &CreatedWorkspace,
    caller: &str,
    target: &str,
) {
    let path = format!("{}/{target}", keys_path(ws));
    let roll = send(
        node,
        Method::POST,
        &format!("{path}/roll"),
        caller,
        Some(json!({"expiresOldInSeconds": 0})),
    )
    .await;
    refused(&roll, "roll");
    assert!(roll.json.get("key").is_none(), "no key is handed out");
    for (body, what) in [
        (json!({"active": false}), "deactivate"),
        (json!({"active": true}), "reactivate"),
        (json!({"name": "mine now"}), "rename"),
        (json!({"rateLimits": {"read": 1}}), "rate limits"),
        (json!({"scopes": ["api:read"]}), "narrow"),
    ] {
        refused(
            &send(node, Method::PATCH, &path, caller, Some(body)).await,
            what,
        );
    }
    refused(
        &send(node, Method::DELETE, &path, caller, None).await,
        "revoke",
    );
}

#[tokio::test]
async fn a_weaker_credential_cannot_touch_a_stronger_key() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let ws = workspace(&node, "demo").await;
        let admin = token(&node, &ws, ADMIN_SCOPES).await;
        let strong = key(
            &node,
            &ws,
            &admin,
            &["workspace:admin", "keys:write", "api:read"],
        )
        .await;
        let strong_id = strong["id"].as_str().unwrap().to_owned();
        let weak_key = secret(&key(&node, &ws, &admin, &["keys:write", "api:read"]).await);
        let weak_token = token(&node, &ws, "keys%3Awrite").await;
        let before = listed(&node, &ws, &admin).await;

        for caller in [&weak_key, &weak_token] {
            every_operation_is_refused(&node, &ws, caller, &strong_id).await;
        }
        // Also while the strong key is deactivated: no one weaker revives it.
        let path = format!("{}/{strong_id}", keys_path(&ws));
        let off = send(
            &node,
            Method::PATCH,
            &path,
            &admin,
            Some(json!({"active": false})),
        )
        .await;
        assert_eq!(off.status, 200, "{}", off.json);
        let on = send(
            &node,
            Method::PATCH,
            &path,
            &weak_key,
            Some(json!({"active": true})),
        )
        .await;
        refused(&on, "reactivate a deactivated key");
        let on = send(
            &node,
            Method::PATCH,
            &path,
            &admin,
            Some(json!({"active": true})),
        )
        .await;
        assert_eq!(on.status, 200, "{}", on.json);

        // Nothing changed: the same keys, names, prefixes, scopes and limits.
        let strip = |items: Vec<Value>| -> Vec<Value> {
            items
                .into_iter()
                .map(|mut k| {
                    k.as_object_mut().unwrap().remove("lastUsedAt");
                    k.as_object_mut().unwrap().remove("usageCount");
                    k
                })
                .collect()
        };
        assert_eq!(strip(listed(&node, &ws, &admin).await), strip(before));

        // Nor may it mint a key stronger than itself.
        let beyond = create(
            &node,
            &ws,
            &weak_key,
            json!({"name": "x", "type": "secret", "scopes": ["workspace:admin"]}),
        )
        .await;
        refused(&beyond, "create beyond the caller");
        assert!(
            beyond.json["error_description"]
                .as_str()
                .unwrap()
                .contains("does not hold workspace:admin")
        );
    }
}

#[tokio::test]
async fn an_equal_credential_may_do_everything() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let ws = workspace(&node, "demo").await;
        let admin = token(&node, &ws, ADMIN_SCOPES).await;
        let scopes = ["keys:write", "api:read"];
        let peer = secret(&key(&node, &ws, &admin, &scopes).await);
        let target = key(&node, &ws, &admin, &scopes).await;
        let id = target["id"].as_str().unwrap();
        let path = format!("{}/{id}", keys_path(&ws));

        for body in [
            json!({"active": false}),
            json!({"active": true}),
            json!({"name": "renamed", "rateLimits": {"read": 10}}),
            json!({"scopes": ["api:read", "keys:write"]}),
        ] {
            let changed = send(&node, Method::PATCH, &path, &peer, Some(body)).await;
            assert_eq!(changed.status, 200, "{}", changed.json);
        }
        let rolled = send(&node, Method::POST, &format!("{path}/roll"), &peer, None).await;
        assert_eq!(rolled.status, 201, "{}", rolled.json);
        let new_id = rolled.json["id"].as_str().unwrap();
        let revoked = send(
            &node,
            Method::DELETE,
            &format!("{}/{new_id}", keys_path(&ws)),
            &peer,
            None,
        )
        .await;
        assert_eq!(revoked.status, 204);
        let child = create(
            &node,
            &ws,
            &peer,
            json!({"name": "child", "type": "read_only", "scopes": ["api:read"]}),
        )
        .await;
        assert_eq!(child.status, 201, "{}", child.json);
    }
}

#[tokio::test]
async fn rolling_a_stronger_key_cannot_escalate_through_token_exchange() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&node, "demo").await;
    let admin = token(&node, &ws, ADMIN_SCOPES).await;
    let strong = key(&node, &ws, &admin, &["workspace:admin", "api:read"]).await;
    let strong_key = secret(&strong);
    // The review's case: a key that only reads, and a token that only
    // manages keys, each tried to roll the admin key.
    let reader = secret(&key(&node, &ws, &admin, &["api:read"]).await);
    let manager = token(&node, &ws, "keys%3Awrite").await;
    let roll = format!("{}/{}/roll", keys_path(&ws), strong["id"].as_str().unwrap());
    for caller in [&reader, &manager] {
        let a = send(
            &node,
            Method::POST,
            &roll,
            caller,
            Some(json!({"expiresOldInSeconds": 0})),
        )
        .await;
        refused(&a, "roll");
    }
    // The real holder is not locked out.
    let exchanged = post_form(
        &node,
        None,
        &format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange\
             &subject_token_type=urn%3Akeyflow%3Aparams%3Aoauth%3Atoken-type%3Aapi_key\
             &subject_token={strong_key}"
        ),
    )
    .await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.json);
}

#[tokio::test]
async fn managing_needs_keys_write_and_listing_keys_read() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let ws = workspace(&node, "demo").await;
        let admin = token(&node, &ws, ADMIN_SCOPES).await;
        let lister = secret(&key(&node, &ws, &admin, &["keys:read", "api:read"]).await);
        let read_only = create(
            &node,
            &ws,
            &admin,
            json!({"name": "ro", "type": "read_only", "scopes": ["keys:read", "api:read"]}),
        )
        .await;
        assert_eq!(read_only.status, 201, "{}", read_only.json);
        let read_only = secret(&read_only.json);
        let reading_token = token(&node, &ws, "keys%3Aread+api%3Aread").await;

        // keys:read lists, whichever credential carries it.
        let by_token = listed(&node, &ws, &reading_token).await;
        assert_eq!(listed(&node, &ws, &read_only).await, by_token);
        assert_eq!(listed(&node, &ws, &lister).await, by_token);
        assert_eq!(by_token.len(), 2);

        // keys:read does not manage.
        for caller in [&lister, &read_only, &reading_token] {
            let made = create(
                &node,
                &ws,
                caller,
                json!({"name": "x", "type": "read_only", "scopes": ["api:read"]}),
            )
            .await;
            refused(&made, "create without keys:write");
            let challenge = made.headers["www-authenticate"].to_str().unwrap();
            assert!(challenge.contains("scope=\"keys:write\""), "{challenge}");
        }
        // Without keys:read or keys:write nothing is listed.
        let neither = token(&node, &ws, "api%3Aread").await;
        let list = send(&node, Method::GET, &keys_path(&ws), &neither, None).await;
        refused(&list, "list without keys:read");
        assert_eq!(listed(&node, &ws, &admin).await.len(), 2);
    }
}
