//! The management commands with `--url`: the real binary, signed in as a
//! person through `keyflow login`'s session, against a real server.

mod common;

use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::binary::{BIN, json_stdout};
use common::browser::user;
use common::cli_session::{CliHome, signed_in};
use common::*;
use keyflow::domain::audit::AuditContext;
use keyflow::domain::user::Role;
use keyflow::service::workspaces::RotationOptions;
use keyflow::testing::{TestDb, TestServer};
use serde_json::Value;

#[path = "cli_remote/keys.rs"]
mod keys;

const ANN: &str = "ann@example.com";
const BOB: &str = "bob@example.com";

/// A node on `db` with Ann, owner of Acme, signed in to the CLI there.
async fn ann_in_acme(db: &TestDb) -> (TestServer, String, CliHome) {
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let acme = workspace(&node, "Acme").await.workspace.id;
    user(&node, ANN, &[(&acme, Role::Owner)]).await;
    let home = signed_in(&node, ANN, Some(&acme)).await;
    (node, acme, home)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The run failed, saying each of `what` on stderr.
fn fails_saying(out: &Output, what: &[&str]) {
    assert!(!out.status.success(), "{out:?}");
    for w in what {
        assert!(stderr(out).contains(w), "no {w:?} in: {}", stderr(out));
    }
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

/// The token endpoint's status for a workspace's application key and secret.
async fn token_status(node: &TestServer, key: &str, secret: &str) -> u16 {
    post_form(
        node,
        Some(&basic(key, secret)),
        "grant_type=client_credentials&scope=api:read",
    )
    .await
    .status
}

async fn workspaces_round_trip(db: &TestDb) {
    let (node, acme, home) = ann_in_acme(db).await;
    let listed = json_stdout(&home.run(&["workspace", "list", "--json"]));
    assert_eq!(items(&listed).len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["workspaceId"], acme.as_str());
    let made = json_stdout(&home.run(&["workspace", "create", "--name", "Beta", "--json"]));
    let beta = made["workspaceId"].as_str().unwrap().to_owned();
    assert!(made["secretKey"].as_str().unwrap().len() > 10, "{made}");
    let listed = json_stdout(&home.run(&["workspace", "list", "--json"]));
    assert_eq!(items(&listed).len(), 2, "{listed}");

    // `show` defaults to the session's workspace, and takes a name.
    let shown = json_stdout(&home.run(&["workspace", "show", "--json"]));
    assert_eq!(shown["workspaceId"], acme.as_str());
    let shown = json_stdout(&home.run(&["workspace", "show", "Beta", "--json"]));
    assert_eq!(shown["workspaceId"], beta.as_str());
    let key = shown["applicationKey"].as_str().unwrap().to_owned();
    let old = made["secretKey"].as_str().unwrap().to_owned();
    assert_eq!(token_status(&node, &key, &old).await, 200);

    let new = json_stdout(&home.run(&["workspace", "regenerate", &beta, "--json"]));
    let new = new["secretKey"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(token_status(&node, &key, &old).await, 401);
    assert_eq!(token_status(&node, &key, &new).await, 200);
    // With a grace period the current secret keeps working.
    let args = [
        "workspace",
        "rotate-secret",
        &beta,
        "--grace-period-seconds",
        "600",
    ];
    let newer = json_stdout(&home.run(&[&args[..], &["--json"]].concat()));
    assert_eq!(token_status(&node, &key, &new).await, 200);
    assert_eq!(
        token_status(&node, &key, newer["secretKey"].as_str().unwrap()).await,
        200
    );
    let human = home.run(&["workspace", "show", &beta]);
    assert!(stdout(&human).contains("OLDER SECRET CREATED"), "{human:?}");
    let out = home.run(&["workspace", "allow-appkey-only", &beta]);
    fails_saying(&out, &["no remote equivalent"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn workspaces_are_listed_created_shown_and_regenerated() {
    workspaces_round_trip(&TestDb::sqlite()).await;
}

/// The same on PostgreSQL, when `KEYFLOW_TEST_POSTGRES_URL` is set.
#[tokio::test(flavor = "multi_thread")]
async fn workspaces_round_trip_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        workspaces_round_trip(&db).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn members_and_invitations_are_managed_remotely() {
    let db = TestDb::sqlite();
    let (node, acme, home) = ann_in_acme(&db).await;
    let bob = user(&node, BOB, &[(&acme, Role::Member)]).await;
    let listed = json_stdout(&home.run(&["member", "list", "--json"]));
    assert_eq!(items(&listed).len(), 2, "{listed}");

    let changed =
        json_stdout(&home.run(&["member", "change-role", BOB, "--role", "admin", "--json"]));
    assert_eq!(changed["role"], "admin", "{changed}");
    assert_eq!(changed["userId"], bob.as_str());
    let human = home.run(&["member", "list", "--workspace", "Acme"]);
    assert!(stdout(&human).contains("admin"), "{human:?}");

    let removed = json_stdout(&home.run(&["member", "remove", &bob, "--json"]));
    assert_eq!(removed["removed"], true);
    let listed = json_stdout(&home.run(&["member", "list", "--json"]));
    assert_eq!(items(&listed).len(), 1, "{listed}");

    let invited = json_stdout(&home.run(&[
        "invitation",
        "create",
        "--email",
        "cy@example.com",
        "--role",
        "admin",
        "--json",
    ]));
    let id = invited["id"].as_str().unwrap().to_owned();
    assert!(invited["invitationUrl"].is_string(), "{invited}");
    let pending = json_stdout(&home.run(&["invitation", "list", "--json"]));
    assert_eq!(pending["items"][0]["email"], "cy@example.com");
    let revoked = json_stdout(&home.run(&["invitation", "revoke", &id, "--json"]));
    assert_eq!(revoked["revoked"], true);
    let pending = json_stdout(&home.run(&["invitation", "list", "--json"]));
    assert!(items(&pending).is_empty(), "{pending}");
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_are_for_platform_admins() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let acme = workspace(&node, "Acme").await.workspace.id;
    common::people::platform_admin(&node, ANN, &acme, Role::Owner).await;
    user(&node, BOB, &[(&acme, Role::Owner)]).await;
    let admin = signed_in(&node, ANN, Some(&acme)).await;
    let made = json_stdout(&admin.run(&[
        "client",
        "create",
        "--name",
        "Make",
        "--redirect-uri",
        "https://make.example/cb",
        "--grant",
        "device_code",
        "--json",
    ]));
    let id = made["clientId"].as_str().unwrap().to_owned();
    assert!(made["clientSecret"].is_string(), "{made}");
    let listed = json_stdout(&admin.run(&["client", "list", "--json"]));
    let ours = items(&listed)
        .into_iter()
        .find(|c| c["clientId"] == id.as_str())
        .unwrap();
    assert_eq!(
        ours["grantTypes"],
        serde_json::json!(["authorization_code", "device_code"])
    );
    let rotated = json_stdout(&admin.run(&["client", "rotate-secret", &id, "--json"]));
    assert_ne!(rotated["clientSecret"], made["clientSecret"]);
    fails_saying(
        &admin.run(&["client", "show", &id]),
        &["no remote equivalent"],
    );

    let owner = signed_in(&node, BOB, Some(&acme)).await;
    let out = owner.run(&["client", "list", "--json"]);
    fails_saying(&out, &["403", "only a platform administrator"]);
    assert!(stdout(&out).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_is_told_why_an_admin_command_is_refused() {
    let db = TestDb::sqlite();
    let (node, acme, _ann) = ann_in_acme(&db).await;
    user(&node, BOB, &[(&acme, Role::Member)]).await;
    user(&node, "cy@example.com", &[(&acme, Role::Admin)]).await;
    // A member's session reads what a member reads; the refusal of an
    // admin command names the role it needs.
    let bob = signed_in(&node, BOB, Some(&acme)).await;
    let out = bob.run(&["audit", "list", "--json"]);
    fails_saying(&out, &["403", "it needs an owner or admin"]);
    assert!(stdout(&out).is_empty());
    json_stdout(&bob.run(&["member", "list", "--json"]));
    // An admin administers, but only an owner invites.
    let cy = signed_in(&node, "cy@example.com", Some(&acme)).await;
    json_stdout(&cy.run(&["audit", "list", "--json"]));
    let out = cy.run(&["invitation", "create", "--email", "dee@example.com"]);
    fails_saying(&out, &["403", "it needs an owner"]);
    // A read-only API key is told the scope it lacks (RFC 6750 §3.1).
    let made = json_stdout(&cy.run(&[
        "apikey",
        "create",
        "--name",
        "ro",
        "--type",
        "read_only",
        "--scope",
        "keys:read",
        "--json",
    ]));
    let file = cy.dir.path().join("ro.key");
    std::fs::write(&file, made["key"].as_str().unwrap()).unwrap();
    let out = cy.run(&[
        "-k",
        file.to_str().unwrap(),
        "apikey",
        "create",
        "--name",
        "x",
        "--scope",
        "keys:read",
    ]);
    fails_saying(&out, &["403", "lacks the scope keys:write"]);
}

/// A TCP relay to `node` that the test can take down: while down it
/// drops every connection it holds and every one it accepts, as a server
/// that restarts or a network that fails does.
struct Relay {
    url: String,
    up: tokio::sync::watch::Sender<bool>,
    /// Bytes relayed from the node to clients.
    answered: Arc<AtomicUsize>,
}

impl Relay {
    async fn to(node: &TestServer) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (up, watch) = tokio::sync::watch::channel(true);
        let target = node.addr;
        let answered = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&answered);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut watch = watch.clone();
                if !*watch.borrow() {
                    continue;
                }
                let counted = Arc::clone(&counted);
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut from_client, mut to_client) = inbound.split();
                    let (mut from_node, mut to_node) = outbound.split();
                    let answers = async {
                        let mut buf = [0u8; 8192];
                        while let Ok(n @ 1..) = from_node.read(&mut buf).await {
                            if to_client.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                            counted.fetch_add(n, Ordering::SeqCst);
                        }
                    };
                    tokio::select! {
                        _ = tokio::io::copy(&mut from_client, &mut to_node) => {}
                        () = answers => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Relay { url, up, answered }
    }

    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

/// `audit list --follow` waits out an outage, as `tail -F` does, and
/// prints what was recorded meanwhile once the server answers again.
#[tokio::test(flavor = "multi_thread")]
async fn audit_follow_waits_out_an_outage() {
    let db = TestDb::sqlite();
    let (node, acme, mut home) = ann_in_acme(&db).await;
    let relay = Relay::to(&node).await;
    // The session, under the relay's URL.
    let mut all = home.credentials();
    let entry = all.servers.remove(&home.url).unwrap();
    all.servers.insert(relay.url.clone(), entry);
    all.save(home.dir.path()).unwrap();
    home.url = relay.url.clone();

    let mut follow = home.spawn(&["audit", "list", "--follow", "--json"]);
    // The first listing is not retried (a wrong URL fails at once): the
    // outage starts once it has been answered, before the first poll, 2 s
    // later.
    let answered = tokio::time::timeout(Duration::from_secs(30), async {
        while relay.answered.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    if answered.is_err() {
        panic!("no answer through the relay: {:?}", follow.stop());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    relay.set_up(false);
    let said = follow.wait_for(|l| l.contains("trying again in").then(|| l.to_owned()));
    assert!(said.contains("press Ctrl-C to stop"), "{said}");
    node.app
        .workspaces()
        .rotate_secret(
            &acme,
            RotationOptions::default(),
            node.app.clock.now(),
            &AuditContext::system(),
        )
        .await
        .unwrap();
    relay.set_up(true);
    follow.wait_for(|l| l.contains("answers again").then_some(()));
    let out = follow.stop();
    let printed: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let rotated: Vec<&Value> = printed
        .iter()
        .filter(|e| e["event"] == "secret_regenerated")
        .collect();
    assert_eq!(rotated.len(), 1, "{printed:?}");
    assert_eq!(rotated[0]["workspaceId"], acme.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_only_commands_say_they_need_url() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["member", "list"][..],
        &["invitation", "list"],
        &["audit", "list"],
        &["workspace", "show"],
        &["apikey", "usage", "key_1"],
        &["apikey", "roll", "key_1"],
    ] {
        let out = Command::new(BIN)
            .env("HOME", home.path())
            .env_remove("KEYFLOW_URL")
            .args(args)
            .output()
            .unwrap();
        fails_saying(&out, &["--url"]);
    }
}

/// The operator's commands on the database refuse `--url` (or
/// `KEYFLOW_URL`) instead of quietly acting on a local database.
#[tokio::test(flavor = "multi_thread")]
async fn local_only_commands_refuse_url() {
    let dir = tempfile::tempdir().unwrap();
    for (args, also) in [
        (&["keys", "list"][..], "keyflow keys"),
        (&["user", "list"], "keyflow user"),
        (&["resource-server", "list"], "keyflow resource-server"),
        (
            &["workspace", "allow-appkey-only", "ws_1"],
            "allow-appkey-only",
        ),
        (
            &["membership", "remove", "--user", "u", "--workspace", "w"],
            "keyflow member remove",
        ),
    ] {
        let out = Command::new(BIN)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env("KEYFLOW_URL", "http://127.0.0.1:9")
            .args(args)
            .output()
            .unwrap();
        fails_saying(&out, &["no remote equivalent", "KEYFLOW_URL", also]);
        assert!(
            !dir.path().join("keyflow.db").exists(),
            "{args:?} opened a database"
        );
    }
}
