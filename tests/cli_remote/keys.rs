//! API keys (with the list's paging) and the audit log, with `--url`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::common::binary::json_stdout;
use super::common::cli_session::CliHome;
use super::common::http;
use super::{ann_in_acme, items, stdout};
use keyflow::testing::TestDb;

/// `GET …/api-keys?limit&cursor` directly: every key once, in pages.
async fn http_pages(home: &CliHome, acme: &str, total: usize) {
    let token = home.entry().access_token;
    let url = format!("{}/v1/workspace/{acme}/api-keys", home.url);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = vec![("limit", "2".to_owned())];
        q.extend(cursor.clone().map(|c| ("cursor", c)));
        let res = http().get(&url).bearer_auth(&token).query(&q).send().await;
        let page: Value = res.unwrap().json().await.unwrap();
        assert!(items(&page).len() <= 2, "{page}");
        seen.extend(items(&page).iter().map(|k| k["id"].clone()));
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
    let all: Value = http()
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<Value> = items(&all).iter().map(|k| k["id"].clone()).collect();
    assert_eq!(ids, seen, "unpaged and paged lists agree");
    assert!(all["nextCursor"].is_null());
    let bad = http()
        .get(&url)
        .bearer_auth(&token)
        .query(&[("limit", "101")])
        .send()
        .await;
    assert_eq!(bad.unwrap().status(), 400);
    let bad = http()
        .get(&url)
        .bearer_auth(&token)
        .query(&[("cursor", "nope")])
        .send()
        .await;
    assert_eq!(bad.unwrap().status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_are_paged_used_changed_rolled_and_revoked() {
    let db = TestDb::sqlite();
    let (_node, acme, home) = ann_in_acme(&db).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let name = format!("k{n}");
        let made = json_stdout(&home.run(&[
            "apikey",
            "create",
            "--name",
            &name,
            "--scope",
            "keys:write",
            "--json",
        ]));
        assert!(made["key"].is_string(), "{made}");
        ids.push(made["id"].as_str().unwrap().to_owned());
    }
    http_pages(&home, &acme, 5).await;
    let all = json_stdout(&home.run(&["apikey", "list", "--json"]));
    assert_eq!(items(&all).len(), 5, "{all}");
    let three = json_stdout(&home.run(&["apikey", "list", "--limit", "3", "--json"]));
    assert_eq!(items(&three).len(), 3, "{three}");

    let id = ids[0].as_str();
    let usage = json_stdout(&home.run(&[
        "apikey",
        "usage",
        id,
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-03",
        "--json",
    ]));
    assert_eq!(usage["days"].as_array().unwrap().len(), 3, "{usage}");
    let changed = json_stdout(&home.run(&[
        "apikey", "change", id, "--name", "renamed", "--active", "false", "--json",
    ]));
    assert_eq!(changed["name"], "renamed");
    assert_eq!(changed["status"], "deactivated", "{changed}");
    let rolled = json_stdout(&home.run(&["apikey", "roll", &ids[1], "--json"]));
    assert!(rolled["key"].is_string(), "{rolled}");
    assert_ne!(rolled["id"], ids[1].as_str());
    let revoked = json_stdout(&home.run(&["apikey", "revoke", &ids[2], "--json"]));
    assert_eq!(revoked["revoked"], true);
    let human = home.run(&["apikey", "usage", id]);
    assert!(stdout(&human).contains("total"), "{human:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_log_is_filtered_and_limited() {
    let db = TestDb::sqlite();
    let (_node, _acme, home) = ann_in_acme(&db).await;
    for n in 0..4 {
        let name = format!("k{n}");
        json_stdout(&home.run(&[
            "apikey",
            "create",
            "--name",
            &name,
            "--scope",
            "keys:write",
            "--json",
        ]));
    }
    let args = [
        "audit",
        "list",
        "--event",
        "api_key_created",
        "--limit",
        "3",
        "--json",
    ];
    let three = json_stdout(&home.run(&args));
    assert_eq!(items(&three).len(), 3, "{three}");
    assert!(
        items(&three)
            .iter()
            .all(|e| e["event"] == "api_key_created")
    );
    assert!(three["nextCursor"].is_string(), "{three}");
    let rest = json_stdout(&home.run(&[
        "audit",
        "list",
        "--event",
        "api_key_created",
        "--cursor",
        three["nextCursor"].as_str().unwrap(),
        "--json",
    ]));
    assert_eq!(items(&rest).len(), 1, "{rest}");
}

/// `--follow --json` prints JSON Lines: what matched already, then each
/// new entry as it is recorded.
#[tokio::test(flavor = "multi_thread")]
async fn the_audit_log_is_followed_as_json_lines() {
    let db = TestDb::sqlite();
    let (_node, _acme, home) = ann_in_acme(&db).await;
    let invite =
        |email: &str| json_stdout(&home.run(&["invitation", "create", "--email", email, "--json"]));
    invite("cy@example.com");
    let args = [
        "audit",
        "list",
        "--follow",
        "--json",
        "--event",
        "invitation_created",
    ];
    let mut follow = Follow::start(&home, &args);
    let first: Value = serde_json::from_str(&follow.next_line()).unwrap();
    assert_eq!(first["details"]["email"], "cy@example.com", "{first}");
    invite("dee@example.com");
    let line = follow.next_line();
    let entry: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(entry["event"], "invitation_created", "{entry}");
    assert_ne!(entry["id"], first["id"]);
}

/// `keyflow … --follow` running, its stdout read line by line; killed on drop.
struct Follow {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
}

impl Follow {
    fn start(home: &CliHome, args: &[&str]) -> Follow {
        let mut child = home
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run keyflow");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Follow { child, lines }
    }

    fn next_line(&mut self) -> String {
        tokio::task::block_in_place(|| self.lines.recv_timeout(Duration::from_secs(30)))
            .expect("a line within 30 s")
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A rate-limited call waits for `Retry-After` and is tried again: a key
/// whose read budget (30 a minute, one every 2 s once spent) is used up
/// still lists the keys, after one announced wait.
#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_command_waits_and_retries() {
    let db = TestDb::sqlite();
    let (_node, acme, home) = ann_in_acme(&db).await;
    let keys = format!("{}/v1/workspace/{acme}/api-keys", home.url);
    let made: Value = http()
        .post(&keys)
        .bearer_auth(home.entry().access_token)
        .json(&serde_json::json!({
            "name": "ci", "type": "secret", "scopes": ["keys:read"],
            "rateLimits": {"read": 30},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = made["key"].as_str().expect("a key").to_owned();
    let mut refused = false;
    for _ in 0..40 {
        let res = http().get(&keys).bearer_auth(&key).send().await.unwrap();
        if res.status() == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "the read budget was never spent");
    let file = home.dir.path().join("ci.key");
    std::fs::write(&file, &key).unwrap();
    let path = file.to_str().unwrap();
    let out = home.run(&["-k", path, "apikey", "list", "--workspace", &acme, "--json"]);
    let listed = json_stdout(&out);
    assert_eq!(items(&listed).len(), 1);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("rate limited; retrying in"), "{said}");
}
