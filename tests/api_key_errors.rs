//! What the API-key endpoints answer for a key they cannot act on: one that
//! does not exist (or is another workspace's) and one that is revoked, over
//! real HTTP and through the CLI.

mod common;

use std::process::Command;
use std::sync::Arc;

use common::binary::*;
use common::keys::*;
use common::*;
use keyflow::clock::{MockClock, rfc3339};
use keyflow::service::workspaces::CreatedWorkspace;
use keyflow::testing::{TestDb, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

async fn new_key(node: &TestServer, ws: &CreatedWorkspace, auth: &str) -> String {
    let made = create(
        node,
        ws,
        auth,
        json!({"name": "k", "type": "secret", "scopes": ["api:read"]}),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.json);
    made.json["id"].as_str().unwrap().to_owned()
}

/// PATCH, DELETE and roll of `path`, each with its answer.
async fn every_operation(node: &TestServer, path: &str, auth: &str) -> Vec<(&'static str, Answer)> {
    vec![
        (
            "PATCH",
            send(node, Method::PATCH, path, auth, Some(json!({"name": "x"}))).await,
        ),
        ("DELETE", send(node, Method::DELETE, path, auth, None).await),
        (
            "roll",
            send(node, Method::POST, &format!("{path}/roll"), auth, None).await,
        ),
    ]
}

#[tokio::test]
async fn an_unknown_or_foreign_key_id_is_no_such_api_key() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let a = workspace(&node, "a").await;
        let b = workspace(&node, "b").await;
        let a_admin = token(&node, &a, KEYS_SCOPES).await;
        let b_admin = token(&node, &b, KEYS_SCOPES).await;
        let b_key = new_key(&node, &b, &b_admin).await;
        let before = send(&node, Method::GET, &keys_path(&b), &b_admin, None).await;

        for id in [
            "no-such-key",
            "00000000-0000-0000-0000-000000000000",
            b_key.as_str(),
        ] {
            let path = format!("{}/{id}", keys_path(&a));
            for (what, answer) in every_operation(&node, &path, &a_admin).await {
                assert_eq!(answer.status, 404, "{what} {id}: {}", answer.json);
                assert_eq!(
                    answer.json,
                    json!({"error": "not_found", "error_description": "no such API key"}),
                    "{what} {id}"
                );
            }
        }
        // The other workspace's key was left as it was.
        let after = send(&node, Method::GET, &keys_path(&b), &b_admin, None).await;
        assert_eq!(after.json, before.json);
    }
}

#[tokio::test]
async fn a_revoked_key_is_said_to_be_revoked_since_its_revocation() {
    for db in TestDb::all().await {
        let t0 = 1_800_000_000;
        let clock = MockClock::new(t0);
        let node =
            TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
        let ws = workspace(&node, "demo").await;
        let admin = token(&node, &ws, KEYS_SCOPES).await;
        let id = new_key(&node, &ws, &admin).await;
        let path = format!("{}/{id}", keys_path(&ws));
        let revoked = send(&node, Method::DELETE, &path, &admin, None).await;
        assert_eq!(revoked.status, 204);
        clock.advance(30);

        let since = rfc3339(t0);
        let answers = every_operation(&node, &path, &admin).await;
        for (what, answer) in &answers {
            assert_eq!(answer.status, 409, "{what}: {}", answer.json);
            assert_eq!(answer.json["error"], "conflict", "{what}");
            assert_eq!(answer.headers["content-type"], "application/json");
        }
        let said = |i: usize| answers[i].1.json["error_description"].clone();
        assert_eq!(
            said(1),
            format!("API key {id} is already revoked (since {since})")
        );
        let unchangeable = Value::from(format!(
            "API key {id} is revoked (since {since}); a revoked key cannot be changed or rolled"
        ));
        assert_eq!((said(0), said(2)), (unchangeable.clone(), unchangeable));

        // Still revoked, and not revived by any of it.
        let list = send(&node, Method::GET, &keys_path(&ws), &admin, None).await;
        let items = list.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "the roll made no key");
        assert_eq!(items[0]["status"], "revoked");
        assert_eq!(items[0]["name"], "k");
    }
}

/// The local CLI words a second revocation as the server does.
#[tokio::test]
async fn the_cli_says_a_key_is_already_revoked_as_the_api_does() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://keyflow.db";
    assert!(keyflow(dir.path(), db, &["migrate"]).status.success());
    let ws = json_stdout(&keyflow(
        dir.path(),
        db,
        &["workspace", "create", "--name", "demo", "--json"],
    ));
    let ws = ws["workspaceId"].as_str().unwrap();
    let apikey = |scopes: &[&str]| {
        let mut args = vec!["apikey", "create", "--workspace", ws, "--name", "k"];
        args.extend(["--type", "secret", "--json"]);
        for s in scopes {
            args.extend(["--scope", s]);
        }
        json_stdout(&keyflow(dir.path(), db, &args))
    };
    let manager = apikey(&["api:read", "keys:write"]);
    let target = apikey(&["api:read"]);
    let id = target["id"].as_str().unwrap();
    let revoke = ["apikey", "revoke", "--workspace", ws, id];
    assert!(keyflow(dir.path(), db, &revoke).status.success());

    let again = keyflow(dir.path(), db, &revoke);
    assert!(!again.status.success());
    let local = String::from_utf8(again.stderr).unwrap();
    let prefix = format!("keyflow: API key {id} is already revoked (since ");
    assert!(
        local.starts_with(&prefix) && local.trim_end().ends_with("Z)"),
        "{local}"
    );

    let port = free_port();
    let _server = serve(dir.path(), db, port).await;
    let key_file = dir.path().join("manager.key");
    std::fs::write(&key_file, manager["key"].as_str().unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let url = format!("http://127.0.0.1:{port}");
    let remote = Command::new(BIN)
        .current_dir(dir.path())
        .args(["apikey", "--url", &url, "-k"])
        .arg(&key_file)
        .args(&revoke[1..])
        .output()
        .unwrap();
    assert!(!remote.status.success());
    let remote = String::from_utf8(remote.stderr).unwrap();
    let reason = local.trim_end().strip_prefix("keyflow: ").unwrap();
    assert!(
        remote.contains(&format!("answered 409 Conflict: {reason}")),
        "{remote}"
    );
}
