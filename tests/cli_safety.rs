//! The operator's CLI refuses to do silently the wrong thing: a foreign
//! master key, a database that is not there, files open to others. And what
//! it prints can be read: per-command help, names for ids, column headers.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::binary::*;
use keyflow::testing::TestDb;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(out: &Output) -> String {
    assert!(!out.status.success(), "succeeded: {}", stdout(out));
    assert!(out.stdout.is_empty(), "printed: {}", stdout(out));
    stderr(out)
}

fn workspace_count(dir: &Path, db: &str) -> usize {
    json_stdout(&keyflow(dir, db, &["workspace", "list", "--json"]))["workspaces"]
        .as_array()
        .unwrap()
        .len()
}

/// `keyflow` with `KEYFLOW_MASTER_KEY` set.
fn keyflow_with_env_key(dir: &Path, db: &str, key: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env("KEYFLOW_MASTER_KEY", key)
        .args(["--database-url", db, "--keys-dir", "keys"])
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_foreign_master_key_is_refused_before_anything_is_written() {
    let pg = TestDb::postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let mut dbs = vec!["sqlite://keyflow.db".to_owned()];
    dbs.extend(pg.as_ref().map(|db| db.url.clone()));
    for db in &dbs {
        let db = db.as_str();
        let _ = std::fs::remove_dir_all(dir.path().join("keys"));
        set_up(dir.path(), db);

        // Another keys directory: no new master.key, no workspace, no secret.
        let out = keyflow(
            dir.path(),
            db,
            &[
                "workspace",
                "create",
                "--name",
                "x",
                "--keys-dir",
                "elsewhere",
                "--json",
            ],
        );
        let err = fails(&out);
        assert!(
            err.contains("no master key at elsewhere/master.key")
                && err.contains("--keys-dir")
                && err.contains("KEYFLOW_MASTER_KEY"),
            "{err}"
        );
        assert!(!dir.path().join("elsewhere").exists());
        // Not even serve may make a second key for a database in use.
        let out = keyflow(
            dir.path(),
            db,
            &[
                "serve",
                "--keys-dir",
                "elsewhere",
                "--listen",
                "127.0.0.1:0",
            ],
        );
        assert!(fails(&out).contains("no master key at elsewhere/master.key"));
        assert!(!dir.path().join("elsewhere").exists());

        // A key that exists but is another: the same refusal, one decryption.
        let other = keyflow_with_env_key(
            dir.path(),
            db,
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            &["workspace", "create", "--name", "x", "--json"],
        );
        let err = fails(&other);
        assert!(
            err.contains("is not the master key database") && err.contains("KEYFLOW_MASTER_KEY"),
            "{err}"
        );
        assert_eq!(workspace_count(dir.path(), db), 0);

        // The server's own key, by file or by environment, works.
        create_workspace(dir.path(), db, "x");
        let text = std::fs::read_to_string(dir.path().join("keys/master.key")).unwrap();
        let same = keyflow_with_env_key(
            dir.path(),
            db,
            text.trim(),
            &["workspace", "list", "--keys-dir", "elsewhere", "--json"],
        );
        assert_eq!(json_stdout(&same)["workspaces"][0]["name"], "x");
    }
}

#[test]
fn a_management_command_never_creates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = keyflow(dir.path(), "sqlite://keyflow.db", &["workspace", "list"]);
    let err = fails(&out);
    assert!(
        err.contains("database sqlite://keyflow.db does not exist")
            && err.contains("keyflow migrate")
            && err.contains("keyflow serve"),
        "{err}"
    );
    assert!(!dir.path().join("keyflow.db").exists());
    assert!(!dir.path().join("keys").exists(), "nor a master key");

    // A file that is there but was never set up (here: empty).
    std::fs::write(dir.path().join("empty.db"), b"").unwrap();
    let out = keyflow(dir.path(), "sqlite://empty.db", &["keys", "list"]);
    let err = fails(&out);
    assert!(
        err.contains("database sqlite://empty.db has no keyflow tables")
            && err.contains("keyflow migrate"),
        "{err}"
    );
    assert_eq!(
        std::fs::metadata(dir.path().join("empty.db"))
            .unwrap()
            .len(),
        0
    );

    // migrate creates it, and then the command works.
    set_up(dir.path(), "sqlite://keyflow.db");
    assert_eq!(workspace_count(dir.path(), "sqlite://keyflow.db"), 0);
}

#[tokio::test]
async fn a_missing_postgres_database_is_named_and_migrate_creates_it() {
    let Some(admin) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut url = url::Url::parse(&admin.url).unwrap();
    let name = format!("keyflow_missing_{}", uuid::Uuid::new_v4().simple());
    url.set_path(&name);
    let url = url.to_string();
    let err = fails(&keyflow(dir.path(), &url, &["workspace", "list"]));
    assert!(
        err.contains(&format!("database {url} does not exist")) && err.contains("keyflow migrate"),
        "{err}"
    );
    set_up(dir.path(), &url);
    assert_eq!(workspace_count(dir.path(), &url), 0);
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin.url)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
}

#[cfg(unix)]
#[test]
fn files_open_to_others_are_tightened_and_the_log_says_so() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &str| {
        std::fs::metadata(dir.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    let chmod = |p: &str, m: u32| {
        std::fs::set_permissions(dir.path().join(p), std::fs::Permissions::from_mode(m)).unwrap()
    };
    // As in a fresh clone: git made keys/ (0755) for its README.
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    chmod("keys", 0o755);
    std::fs::write(dir.path().join("keys/README.md"), "key material").unwrap();
    set_up(dir.path(), "sqlite://keyflow.db");
    assert_eq!(mode("keys"), 0o700);
    assert_eq!(mode("keys/master.key"), 0o600);
    assert_eq!(mode("keyflow.db"), 0o600, "created private");

    for file in ["keyflow.db", "keyflow.db-wal", "keyflow.db-shm"] {
        if dir.path().join(file).exists() {
            chmod(file, 0o644);
        }
    }
    chmod("keys", 0o755);
    chmod("keys/master.key", 0o640);
    let out = keyflow(dir.path(), "sqlite://keyflow.db", &["workspace", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = stderr(&out);
    assert_eq!(mode("keyflow.db"), 0o600);
    assert_eq!(mode("keys"), 0o700);
    assert_eq!(mode("keys/master.key"), 0o600);
    for file in ["keyflow.db-wal", "keyflow.db-shm"] {
        if dir.path().join(file).exists() {
            assert_eq!(mode(file), 0o600, "{file}");
        }
    }
    assert!(
        log.contains("keyflow.db was open to group or others (mode 0644); changed it to 0600"),
        "{log}"
    );
    assert!(log.contains("keys was open to group or others (mode 0755); changed it to 0700"));
    // stderr is a pipe here: no colour codes.
    assert!(!log.contains('\x1b'), "ANSI codes in {log:?}");
    let quiet = keyflow(dir.path(), "sqlite://keyflow.db", &["workspace", "list"]);
    assert!(stderr(&quiet).is_empty(), "{}", stderr(&quiet));
}

#[test]
fn server_flags_belong_to_serve_and_help_shows_each_commands_own() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| {
        let out = keyflow(dir.path(), "sqlite://keyflow.db", args);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let create = help(&["workspace", "create", "--help"]);
    assert!(create.contains("--name") && create.contains("--database-url"));
    for server_only in [
        "--tls-cert",
        "--listen",
        "--session-ttl",
        "--token-rate-limit",
    ] {
        assert!(!create.contains(server_only), "{server_only} in {create}");
    }
    let serve = help(&["serve", "--help"]);
    for flag in [
        "--tls-cert",
        "--listen",
        "--session-ttl",
        "--max-connections",
    ] {
        assert!(serve.contains(flag), "{flag} missing from {serve}");
    }
    let rotate = help(&["workspace", "rotate-secret", "--help"]);
    assert!(
        rotate.contains("including one still inside an earlier grace period")
            && rotate.contains("keep the grace periods they already had"),
        "{rotate}"
    );
    let err = fails(&keyflow(
        dir.path(),
        "sqlite://keyflow.db",
        &["workspace", "list", "--listen", "0.0.0.0:1"],
    ));
    assert!(err.contains("--listen"), "{err}");
}

#[test]
fn names_work_where_ids_do_and_lists_have_headers() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://keyflow.db";
    set_up(dir.path(), db);
    let empty = keyflow(dir.path(), db, &["workspace", "list"]);
    assert_eq!(
        stdout(&empty).trim_end(),
        "WORKSPACE  APPLICATION KEY  SECRET ROTATED  NAME"
    );
    let ws = create_workspace(dir.path(), db, "reports");
    let id = ws["workspaceId"].as_str().unwrap();
    let listed = stdout(&keyflow(dir.path(), db, &["workspace", "list"]));
    let lines: Vec<&str> = listed.lines().collect();
    assert!(lines[0].starts_with("WORKSPACE "), "{listed}");
    assert!(lines[1].starts_with(id) && lines[1].ends_with("reports"));

    // By name: rotate, appkey-only, API keys.
    let rotated = json_stdout(&keyflow(
        dir.path(),
        db,
        &["workspace", "rotate-secret", "reports", "--json"],
    ));
    assert_eq!(rotated["applicationKey"], ws["applicationKey"]);
    let on = json_stdout(&keyflow(
        dir.path(),
        db,
        &["workspace", "allow-appkey-only", "reports", "--json"],
    ));
    assert_eq!(on["workspaceId"], id);
    let key = json_stdout(&keyflow(
        dir.path(),
        db,
        &[
            "apikey",
            "create",
            "--workspace",
            "reports",
            "--name",
            "ci",
            "--scope",
            "api:read",
            "--expires-at",
            "2099-01-01T00:00:00Z",
            "--json",
        ],
    ));
    let items = json_stdout(&keyflow(
        dir.path(),
        db,
        &["apikey", "list", "--workspace", "reports", "--json"],
    ));
    assert_eq!(items["items"][0]["id"], key["id"]);
    assert_eq!(items["items"][0]["createdBy"], "cli");
    let table = stdout(&keyflow(
        dir.path(),
        db,
        &["apikey", "list", "--workspace", "reports"],
    ));
    let header = table.lines().next().unwrap();
    for column in ["ID", "STATUS", "LAST USED", "USES", "EXPIRES", "NAME"] {
        assert!(header.contains(column), "{column} missing: {header}");
    }
    let row = table.lines().nth(1).unwrap();
    assert!(
        row.contains("active") && row.contains("2099-01-01T00:00:00Z") && row.ends_with("ci"),
        "{row}"
    );

    // Two workspaces of one name: the error lists their ids.
    let twin = create_workspace(dir.path(), db, "reports");
    let err = fails(&keyflow(
        dir.path(),
        db,
        &["workspace", "rotate-secret", "reports"],
    ));
    assert!(
        err.contains("2 workspaces are named \"reports\"")
            && err.contains(id)
            && err.contains(twin["workspaceId"].as_str().unwrap()),
        "{err}"
    );
    let err = fails(&keyflow(
        dir.path(),
        db,
        &["apikey", "list", "--workspace", "nope"],
    ));
    assert!(
        err.contains("no workspace has the id or name \"nope\""),
        "{err}"
    );
}

#[test]
fn a_bad_expiry_is_explained_once_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://keyflow.db";
    set_up(dir.path(), db);
    create_workspace(dir.path(), db, "w");
    let err = fails(&keyflow(
        dir.path(),
        db,
        &[
            "apikey",
            "create",
            "--workspace",
            "w",
            "--name",
            "k",
            "--scope",
            "api:read",
            "--expires-at",
            "2027-03-01",
        ],
    ));
    assert_eq!(err.matches("RFC 3339").count(), 1, "{err}");
    assert!(err.contains("\"2027-03-01\""), "{err}");
    assert!(err.contains("for example 2027-03-01T00:00:00Z"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[tokio::test]
async fn a_remote_list_takes_the_workspace_from_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://keyflow.db";
    set_up(dir.path(), db);
    let ws = create_workspace(dir.path(), db, "w");
    let made = json_stdout(&keyflow(
        dir.path(),
        db,
        &[
            "apikey",
            "create",
            "--workspace",
            "w",
            "--name",
            "reader",
            "--type",
            "read_only",
            "--scope",
            "keys:read",
            "--json",
        ],
    ));
    let key_file = dir.path().join("reader.key");
    std::fs::write(&key_file, made["key"].as_str().unwrap()).unwrap();
    let port = free_port();
    let server = serve(dir.path(), db, port).await;
    let url = format!("http://127.0.0.1:{port}");
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["apikey", "--url", &url, "-k"])
        .arg(&key_file)
        .args(["list", "--json"])
        .output()
        .unwrap();
    let listed = json_stdout(&out);
    assert_eq!(listed["items"][0]["id"], made["id"]);
    let me: serde_json::Value = common::http()
        .get(format!("{url}/v1/whoami"))
        .bearer_auth(made["key"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["workspaceId"], ws["workspaceId"]);
    assert_eq!(me["credential"], "api_key");
    assert_eq!(me["keyId"], made["id"]);
    assert!(!me.to_string().contains(made["key"].as_str().unwrap()));
    // Counted under its own route, not as "unmatched".
    let metrics = common::http()
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("endpoint=\"/v1/whoami\""), "{metrics}");
    let (clean, _) = terminate(server);
    assert!(clean);
}
