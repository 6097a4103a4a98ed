//! The `keyflow` binary as an operator uses it: create a workspace, serve,
//! get a token, stop on SIGTERM, restart with the same keys.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::binary::*;
use common::{basic, get_json, http};
use keyflow::testing::TestDb;
use serde_json::Value;

async fn jwks_kids(port: u16) -> Vec<String> {
    let set: Value = get_json(format!("http://127.0.0.1:{port}/oauth/jwks")).await;
    let mut kids: Vec<String> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    kids.sort();
    kids
}

#[tokio::test]
async fn operator_walkthrough_on_the_embedded_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://keyflow.db";
    let migrated = set_up(dir.path(), db);
    assert_eq!(migrated["masterKeyCreated"], true);
    assert_eq!(migrated["database"], db);
    let ws = create_workspace(dir.path(), db, "demo");
    let app_key = ws["applicationKey"].as_str().unwrap();
    let secret = ws["secretKey"].as_str().unwrap();
    assert!(app_key.starts_with("app_") && app_key.len() >= 20);
    assert!(secret.starts_with("sec_") && secret.len() >= 4 + 43);
    let id = ws["workspaceId"].as_str().unwrap();
    assert_eq!(
        ws["apiUrl"],
        format!("http://127.0.0.1:8080/v1/workspace/{id}")
    );
    assert!(ws["lastRotatedAt"].as_str().unwrap().ends_with('Z'));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| {
            std::fs::metadata(dir.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("keys/master.key"), 0o600);
        assert_eq!(mode("keys"), 0o700);
    }
    let master = std::fs::read(dir.path().join("keys/master.key")).unwrap();

    let port = free_port();
    let server = serve(dir.path(), db, port).await;
    let res = http()
        .post(format!("http://127.0.0.1:{port}/oauth/token"))
        .header("authorization", basic(app_key, secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "api:read")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "api:read");
    let kids = jwks_kids(port).await;
    assert_eq!(kids.len(), 3);

    let (clean, log) = terminate(server);
    assert!(clean, "graceful shutdown exits 0:\n{log}");
    assert!(log.contains("listening on http://127.0.0.1:"), "{log}");
    assert!(log.contains("the console is at http://127.0.0.1:"), "{log}");
    // No user yet: the log carries the one-time setup link, and its line
    // says "setup" with the full URL.
    let setup = log
        .lines()
        .find(|l| l.contains("setup"))
        .expect("setup line");
    assert!(
        setup.contains(&format!("http://127.0.0.1:{port}/setup?token=")),
        "{setup}"
    );
    assert!(!log.contains(secret), "a secret reached the log");

    // A restart reuses the master key and the signing keys.
    let server = serve(dir.path(), db, port).await;
    assert_eq!(jwks_kids(port).await, kids);
    assert_eq!(
        std::fs::read(dir.path().join("keys/master.key")).unwrap(),
        master
    );

    // The CLI rotates keys under the running server, which picks them up.
    let rotated = json_stdout(&keyflow(
        dir.path(),
        db,
        &["keys", "rotate", "--alg", "ES256", "--json"],
    ));
    let new_kid = rotated["rotated"][0]["kid"].as_str().unwrap().to_owned();
    let listed = json_stdout(&keyflow(dir.path(), db, &["keys", "list", "--json"]));
    let states: Vec<(String, String)> = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["alg"].as_str().unwrap().to_owned(),
                k["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        states
            .iter()
            .filter(|(a, s)| a == "ES256" && s == "retired")
            .count(),
        1
    );
    assert_eq!(states.iter().filter(|(_, s)| s == "active").count(), 3);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !jwks_kids(port).await.contains(&new_kid) {
        assert!(
            Instant::now() < deadline,
            "server did not publish the rotated key"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        jwks_kids(port).await.len(),
        4,
        "the retired key stays published"
    );

    // Secret rotation from the CLI is seen by the running server.
    let r = json_stdout(&keyflow(
        dir.path(),
        db,
        &["workspace", "rotate-secret", id, "--json"],
    ));
    let old = http()
        .post(format!("http://127.0.0.1:{port}/oauth/token"))
        .header("authorization", basic(app_key, secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401);
    let new = http()
        .post(format!("http://127.0.0.1:{port}/oauth/token"))
        .header(
            "authorization",
            basic(app_key, r["secretKey"].as_str().unwrap()),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200);

    let listed = json_stdout(&keyflow(dir.path(), db, &["workspace", "list", "--json"]));
    assert_eq!(listed["workspaces"][0]["applicationKey"], app_key);
    assert!(
        !listed.to_string().contains("sec_"),
        "list never shows secrets"
    );
    let (clean, _) = terminate(server);
    assert!(clean);
}

#[tokio::test]
async fn the_same_flags_work_against_postgresql() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    set_up(dir.path(), &db.url);
    let ws = create_workspace(dir.path(), &db.url, "pg");
    let port = free_port();
    let server = serve(dir.path(), &db.url, port).await;
    let res = http()
        .post(format!("http://127.0.0.1:{port}/oauth/token"))
        .header(
            "authorization",
            basic(
                ws["applicationKey"].as_str().unwrap(),
                ws["secretKey"].as_str().unwrap(),
            ),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (clean, _) = terminate(server);
    assert!(clean);
}

#[test]
fn bad_settings_fail_at_start_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    set_up(dir.path(), "sqlite://keyflow.db");
    for (args, needle) in [
        (
            vec!["serve", "--issuer", "http://auth.example.com"],
            "KEYFLOW_ISSUER",
        ),
        (
            vec!["serve", "--access-token-ttl", "1"],
            "KEYFLOW_ACCESS_TOKEN_TTL",
        ),
        (vec!["workspace", "create", "--name", " "], "--name"),
    ] {
        let out = keyflow(dir.path(), "sqlite://keyflow.db", &args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let out = keyflow(dir.path(), "mysql://x", &["migrate"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[test]
fn operators_register_resource_servers_and_toggle_appkey_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://keyflow.db";
    set_up(dir.path(), db);
    let ws = create_workspace(dir.path(), db, "demo");
    let id = ws["workspaceId"].as_str().unwrap();
    let rs = json_stdout(&keyflow(
        dir.path(),
        db,
        &["resource-server", "create", "--name", "reports", "--json"],
    ));
    assert!(rs["clientId"].as_str().unwrap().starts_with("rs_"));
    assert!(rs["clientSecret"].as_str().unwrap().starts_with("sec_"));
    let on = json_stdout(&keyflow(
        dir.path(),
        db,
        &["workspace", "allow-appkey-only", id, "--json"],
    ));
    assert_eq!(on["allowAppkeyOnly"], true);
    let off = json_stdout(&keyflow(
        dir.path(),
        db,
        &["workspace", "allow-appkey-only", id, "--off", "--json"],
    ));
    assert_eq!(off["allowAppkeyOnly"], false);
    let r = json_stdout(&keyflow(
        dir.path(),
        db,
        &[
            "workspace",
            "rotate-secret",
            id,
            "--grace-period-seconds",
            "60",
            "--revoke-issued-tokens",
            "--json",
        ],
    ));
    assert!(r["previousSecretExpiresAt"].as_str().is_some());
    let missing = keyflow(dir.path(), db, &["workspace", "allow-appkey-only", "nope"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no workspace has the id or name"));
}

#[tokio::test]
async fn the_cli_manages_api_keys_on_a_remote_keyflow_with_a_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://keyflow.db";
    set_up(dir.path(), db);
    let ws = create_workspace(dir.path(), db, "demo");
    let id = ws["workspaceId"].as_str().unwrap();
    let made = json_stdout(&keyflow(
        dir.path(),
        db,
        &[
            "apikey",
            "create",
            "--workspace",
            id,
            "--name",
            "ops",
            "--type",
            "secret",
            "--scope",
            "api:read",
            "--scope",
            "keys:write",
            "--json",
        ],
    ));
    let key = made["key"].as_str().unwrap();
    let port = free_port();
    let server = serve(dir.path(), db, port).await;
    let url = format!("http://127.0.0.1:{port}");

    // A git repository with keyflow.key at its root, used from a subfolder.
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::write(repo.join("keyflow.key"), format!("{key}\n")).unwrap();
    let remote = |args: &[&str]| {
        Command::new(BIN)
            .current_dir(repo.join("src"))
            .env("HOME", dir.path())
            .env_remove("KEYFLOW_URL")
            .args(["apikey", "--url", &url])
            .args(args)
            .output()
            .unwrap()
    };
    let created = remote(&[
        "create",
        "--workspace",
        id,
        "--name",
        "ci",
        "--type",
        "read_only",
        "--scope",
        "api:read",
        "--json",
    ]);
    let created = json_stdout(&created);
    assert!(created["key"].as_str().unwrap().starts_with("rk_"));
    let out = remote(&["list", "--workspace", id, "--json"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("readable by others"),
        "world-readable key file warns"
    );
    let listed = json_stdout(&out);
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    let revoked = json_stdout(&remote(&[
        "revoke",
        "--workspace",
        id,
        created["id"].as_str().unwrap(),
        "--json",
    ]));
    assert_eq!(revoked["revoked"], true);

    // Without any key file the error names all three places.
    std::fs::remove_file(repo.join("keyflow.key")).unwrap();
    let missing = remote(&["list", "--workspace", id]);
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("-k FILE") && err.contains("keyflow.key") && err.contains(".keyflow/api.key"),
        "{err}"
    );
    // -k names a file explicitly; a wrong key is refused by the server.
    std::fs::write(dir.path().join("bad.key"), "sk_0000000.nope").unwrap();
    let bad = remote(&[
        "-k",
        dir.path().join("bad.key").to_str().unwrap(),
        "list",
        "--workspace",
        id,
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("401"));
    let (clean, _) = terminate(server);
    assert!(clean);
}

#[test]
fn operators_create_users_and_third_party_clients() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://keyflow.db";
    set_up(dir.path(), db);
    let ws = create_workspace(dir.path(), db, "demo");
    let ws_id = ws["workspaceId"].as_str().unwrap();
    let create = [
        "user",
        "create",
        "--email",
        "Ann@Example.com",
        "--password-stdin",
        "--name",
        "Ann",
        "--workspace",
        ws_id,
        "--role",
        "owner",
        "--json",
    ];
    let user = json_stdout(&keyflow_stdin(dir.path(), db, &create, "a long password\n"));
    let user_id = user["userId"].as_str().unwrap();
    assert!(user_id.starts_with("usr_"));
    // The same email (in any case) is refused; so is a short password.
    let dup = keyflow_stdin(dir.path(), db, &create, "a long password\n");
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let mut short = create;
    short[3] = "bob@example.com";
    let out = keyflow_stdin(dir.path(), db, &short, "short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8"));

    let other = create_workspace(dir.path(), db, "second");
    let added = json_stdout(&keyflow(
        dir.path(),
        db,
        &[
            "user",
            "add-to-workspace",
            "--user",
            user_id,
            "--workspace",
            other["workspaceId"].as_str().unwrap(),
            "--role",
            "admin",
            "--json",
        ],
    ));
    assert_eq!(added["role"], "admin");

    let confidential = json_stdout(&keyflow(
        dir.path(),
        db,
        &[
            "client",
            "create",
            "--name",
            "Make",
            "--redirect-uri",
            "https://make.example/cb",
            "--redirect-uri",
            "https://make.example/cb2",
            "--scope",
            "openid",
            "--scope",
            "api:read",
            "--logo-uri",
            "https://make.example/logo.png",
            "--json",
        ],
    ));
    assert!(
        confidential["clientId"]
            .as_str()
            .unwrap()
            .starts_with("cli_")
    );
    assert!(
        confidential["clientSecret"]
            .as_str()
            .unwrap()
            .starts_with("sec_")
    );
    let public = json_stdout(&keyflow(
        dir.path(),
        db,
        &[
            "client",
            "create",
            "--name",
            "CLI app",
            "--redirect-uri",
            "http://127.0.0.1/callback",
            "--public",
            "--json",
        ],
    ));
    assert!(public.get("clientSecret").is_none(), "{public}");
    for bad in [
        vec!["--redirect-uri", "http://make.example/cb"],
        vec!["--redirect-uri", "https://make.example/cb#frag"],
        vec![
            "--redirect-uri",
            "https://make.example/cb",
            "--scope",
            "nope",
        ],
    ] {
        let mut args = vec!["client", "create", "--name", "Bad"];
        args.extend(bad.iter().copied());
        let out = keyflow(dir.path(), db, &args);
        assert!(!out.status.success(), "{bad:?}");
    }
}
