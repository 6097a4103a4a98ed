//! Resource APIs that check API keys and the legacy `appkey` headers over
//! HTTP, holding only a resource server's credentials: the introspection
//! hints and the credentials epoch on keyflow's side, the verifier's
//! leased cache on the resource API's side, and the promise that a
//! regenerate that has answered leaves no resource API accepting the old
//! secret, checked with both in separate processes.

mod common;
#[allow(dead_code, reason = "each test uses a part of the example")]
#[path = "../examples/resource_api.rs"]
mod resource_api;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::binary::{self, Server, free_port};
use common::keys::*;
use common::*;
use keyflow::clock::MockClock;
use keyflow::domain::audit::{AuditContext, AuditEvent};
use keyflow::node::leased_cache::{LEASE, POLL_INTERVAL};
use keyflow::node::rate_limit::RateLimiter;
use keyflow::service::workspaces::CreatedClient;
use keyflow::testing::{TestDb, TestServer};
use keyflow::verifier::remote_credentials::CHECK_TIMEOUT;
use keyflow::verifier::{RemoteCredentials, Verifier};
use serde_json::{Value, json};

/// A resource server registered on `node`.
async fn resource_server(node: &TestServer, name: &str) -> CreatedClient {
    node.app
        .workspaces()
        .create_resource_server(name, node.app.clock.now(), &AuditContext::cli())
        .await
        .unwrap()
}

struct Api {
    url: String,
    remote: Arc<RemoteCredentials>,
}

/// The example API in front of `node`, reaching it only over HTTP.
async fn api(node: &TestServer) -> Api {
    let rs = resource_server(node, "reports-api").await;
    let remote = Arc::new(
        RemoteCredentials::new(&node.issuer, &rs.client_id, rs.secret.expose())
            .unwrap()
            .clock(Arc::clone(&node.app.clock)),
    );
    let verifier = Verifier::remote(&node.issuer, [format!("{}/v1", node.issuer)])
        .unwrap()
        .remote_credentials(Arc::clone(&remote), Default::default())
        .rate_limiter(Arc::new(RateLimiter::in_memory()))
        .build();
    verifier.spawn_refresh();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !remote.lease_valid() {
        assert!(Instant::now() < deadline, "the epoch poll never succeeded");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/reports", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, resource_api::router(verifier)).await });
    Api { url, remote }
}

async fn call(url: &str, post: bool, headers: &[(&str, &str)]) -> Answer {
    let mut req = if post {
        http().post(url)
    } else {
        http().get(url)
    };
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(req.send().await.unwrap()).await
}

/// What `keyflow workspace allow-appkey-only` does: it moves the epoch.
async fn allow_appkey_only(node: &TestServer, workspace_id: &str) {
    let audit = AuditContext::cli().entry(AuditEvent::AppkeyOnlyChanged, node.app.clock.now());
    let store = &node.app.store;
    assert!(
        store
            .set_allow_appkey_only(workspace_id, true, &audit)
            .await
            .unwrap()
    );
}

fn legacy_error(status: u16, error: &str, message: &str) -> Value {
    json!({"statusCode": status, "error": error, "message": message})
}

#[tokio::test]
async fn the_legacy_headers_and_api_keys_are_checked_over_http_in_their_own_shapes() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let ws = workspace(&node, "demo").await;
        let api = api(&node).await;
        let (key, secret) = (ws.application_key.as_str(), ws.secret_key.expose());

        let none = call(&api.url, false, &[]).await;
        assert_eq!(none.status, 412);
        assert_eq!(none.json["error"], "Precondition Failed");
        let ok = call(&api.url, true, &[("appkey", key), ("secretkey", secret)]).await;
        assert_eq!(ok.status, 201, "{}", ok.json);
        let ok = call(&api.url, false, &[("appkey", key), ("secretkey", secret)]).await;
        assert_eq!(ok.json["credential"], "appkey_secretkey");
        assert_eq!(ok.json["workspaceId"], ws.workspace.id.as_str());
        let invalid = legacy_error(401, "Unauthorized", "Invalid appkey or secretkey");
        for headers in [
            vec![("appkey", key), ("secretkey", "sec_wrong")],
            vec![("appkey", "app_unknown"), ("secretkey", secret)],
            vec![("secretkey", secret)],
            vec![("appkey", key)],
        ] {
            let a = call(&api.url, false, &headers).await;
            assert_eq!((a.status, &a.json), (401, &invalid), "{headers:?}");
        }

        // The opt-in moves the epoch, which flushes the cached "no".
        allow_appkey_only(&node, &ws.workspace.id).await;
        let deadline = Instant::now() + LEASE + POLL_INTERVAL * 3;
        loop {
            let a = call(&api.url, false, &[("appkey", key)]).await;
            if a.status == 200 {
                assert_eq!(a.json["credential"], "appkey_only");
                break;
            }
            assert!(Instant::now() < deadline, "appkey-only never took effect");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let write = call(&api.url, true, &[("appkey", key)]).await;
        let forbidden = "These credentials may not perform this operation";
        assert_eq!(write.json, legacy_error(403, "Forbidden", forbidden));

        // API keys, with the limits keyflow gave them enforced here.
        let admin = token(&node, &ws, KEYS_SCOPES).await;
        let made = create(
            &node,
            &ws,
            &admin,
            json!({"name": "ci", "type": "secret", "scopes": ["api:read"]}),
        )
        .await;
        assert_eq!(made.status, 201, "{}", made.json);
        let api_key = made.json["key"].as_str().unwrap();
        let bearer = format!("Bearer {api_key}");
        let used = call(&api.url, false, &[("authorization", &bearer)]).await;
        assert_eq!(used.status, 200, "{}", used.json);
        assert_eq!(used.json["credential"], "api_key");
        assert!(
            used.headers.contains_key("ratelimit-policy"),
            "{:?}",
            used.headers
        );
        let write = call(&api.url, true, &[("authorization", &bearer)]).await;
        assert_eq!(write.status, 403);
        assert_eq!(write.json["error"], "insufficient_scope");
        let wrong = call(&api.url, false, &[("authorization", &format!("{bearer}x"))]).await;
        assert_eq!(wrong.status, 401);
        assert!(
            wrong.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );

        // Revoking answers after the lease: the key is refused at once.
        let id = made.json["id"].as_str().unwrap();
        let path = format!("{}/{id}", keys_path(&ws));
        let gone = send(&node, reqwest::Method::DELETE, &path, &admin, None).await;
        assert_eq!(gone.status, 204);
        let after = call(&api.url, false, &[("authorization", &bearer)]).await;
        assert_eq!(after.status, 401, "{}", after.json);
    }
}

#[tokio::test]
async fn a_warm_cache_answers_alone_and_a_flood_of_one_wrong_secret_is_one_call() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&node, "demo").await;
    let api = api(&node).await;
    let (key, secret) = (ws.application_key.as_str(), ws.secret_key.expose());
    // Registering the resource server moved the epoch: until keyflow's node
    // has polled too, its answers are used once and not kept.
    tokio::time::sleep(POLL_INTERVAL * 3).await;

    let before = api.remote.remote_checks();
    for _ in 0..50 {
        let a = call(&api.url, false, &[("appkey", key), ("secretkey", secret)]).await;
        assert_eq!(a.status, 200);
    }
    let good = api.remote.remote_checks() - before;
    assert!(good <= 2, "{good} calls to keyflow for one credential");

    let before = api.remote.remote_checks();
    for _ in 0..50 {
        let a = call(
            &api.url,
            false,
            &[("appkey", key), ("secretkey", "sec_wrong")],
        )
        .await;
        assert_eq!(a.status, 401);
    }
    let wrong = api.remote.remote_checks() - before;
    assert!(wrong <= 2, "{wrong} calls to keyflow for one wrong secret");

    // Distinct wrong secrets each need keyflow's word.
    let before = api.remote.remote_checks();
    for i in 0..5 {
        let s = format!("sec_wrong{i}");
        let a = call(&api.url, false, &[("appkey", key), ("secretkey", &s)]).await;
        assert_eq!(a.status, 401);
    }
    assert_eq!(api.remote.remote_checks() - before, 5);
}

#[tokio::test]
async fn a_grace_period_ends_on_the_resource_api_when_it_ends_on_keyflow() {
    let clock = MockClock::new(1_800_000_000);
    let db = TestDb::sqlite();
    let node = TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
    let ws = workspace(&node, "demo").await;
    let api = api(&node).await;
    let (key, old) = (ws.application_key.as_str(), ws.secret_key.expose());
    let admin = token(&node, &ws, "workspace%3Aadmin").await;
    let path = format!(
        "/v1/workspace/{}/application-token/regenerate",
        ws.workspace.id
    );
    let r = answer(
        http()
            .post(node.url(&path))
            .bearer_auth(&admin)
            .json(&json!({"gracePeriodSeconds": 60}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let new = r.json["secretKey"].as_str().unwrap();
    for _ in 0..3 {
        let a = call(&api.url, false, &[("appkey", key), ("secretkey", old)]).await;
        assert_eq!(a.status, 200, "inside the grace period");
    }
    // No epoch moves when a grace period ends: the cached answer carries
    // the secret's end, and the resource API's clock ends it.
    clock.advance(60);
    let a = call(&api.url, false, &[("appkey", key), ("secretkey", old)]).await;
    assert_eq!(a.status, 401, "{}", a.json);
    let a = call(&api.url, false, &[("appkey", key), ("secretkey", new)]).await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn the_hints_and_the_epoch_answer_resource_servers_only() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&node, "demo").await;
    let rs = resource_server(&node, "reports-api").await;
    let rs_auth = basic(&rs.client_id, rs.secret.expose());
    let app_auth = basic(&ws.application_key, ws.secret_key.expose());
    let introspect = |auth: String, form: Vec<(&'static str, String)>| {
        let url = node.url("/oauth/introspect");
        async move {
            let res = http()
                .post(url)
                .header("authorization", auth)
                .form(&form)
                .send();
            answer(res.await.unwrap()).await
        }
    };
    let secret = ws.secret_key.expose().to_owned();
    let pair = |token: &str| {
        vec![
            ("token", token.to_owned()),
            ("token_type_hint", "secretkey".to_owned()),
            ("appkey", ws.application_key.clone()),
        ]
    };

    let yes = introspect(rs_auth.clone(), pair(&secret)).await;
    assert_eq!(yes.status, 200, "{}", yes.json);
    assert_eq!(yes.json["active"], true);
    assert_eq!(yes.json["token_type"], "appkey_secretkey");
    assert_eq!(yes.json["client_id"], ws.application_key.as_str());
    assert_eq!(yes.json["workspace_id"], ws.workspace.id.as_str());
    assert!(yes.json["scope"].as_str().unwrap().contains("api:read"));
    assert!(
        yes.json.get("exp").is_none(),
        "the current secret does not end"
    );
    assert!(yes.headers.contains_key("keyflow-credentials-epoch"));
    assert_eq!(yes.headers["cache-control"], "no-store");

    let no = introspect(rs_auth.clone(), pair("sec_wrong")).await;
    assert_eq!(no.json, json!({"active": false}));
    // An application may not check credentials, its own included (§4).
    let own = introspect(app_auth.clone(), pair(&secret)).await;
    assert_eq!(own.json, json!({"active": false}));
    assert!(!own.headers.contains_key("keyflow-credentials-epoch"));
    // Not allowed for this workspace: the key alone is not enough.
    let alone = vec![
        ("token", ws.application_key.clone()),
        ("token_type_hint", "appkey".into()),
    ];
    assert_eq!(
        introspect(rs_auth.clone(), alone).await.json,
        json!({"active": false})
    );

    for (form, why) in [
        (
            vec![
                ("token", secret.clone()),
                ("token_type_hint", "secretkey".into()),
            ],
            "no appkey",
        ),
        (
            vec![
                ("token", ws.application_key.clone()),
                ("token_type_hint", "appkey".into()),
                ("appkey", ws.application_key.clone()),
            ],
            "appkey twice",
        ),
        (vec![("token_type_hint", "secretkey".into())], "no token"),
    ] {
        let bad = introspect(rs_auth.clone(), form).await;
        assert_eq!(bad.status, 400, "{why}: {}", bad.json);
        assert_eq!(bad.json["error"], "invalid_request", "{why}");
    }

    // The epoch: resource servers only, with an ETag that makes an
    // unchanged epoch a 304.
    let epoch = |auth: Option<String>, etag: Option<String>| {
        let mut req = http().get(node.url("/oauth/credentials-epoch"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(e) = etag {
            req = req.header("if-none-match", e);
        }
        async move { req.send().await.unwrap() }
    };
    let anonymous = answer(epoch(None, None).await).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json["error"], "invalid_client");
    let application = answer(epoch(Some(app_auth), None).await).await;
    assert_eq!(application.status, 403);
    assert_eq!(application.json["error"], "unauthorized_client");
    let first = answer(epoch(Some(rs_auth.clone()), None).await).await;
    assert_eq!(first.status, 200);
    let n = first.json["credentials"].as_i64().unwrap();
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{n}\""));
    let same = epoch(Some(rs_auth.clone()), Some(etag.clone())).await;
    assert_eq!(same.status(), 304);
    allow_appkey_only(&node, &ws.workspace.id).await;
    let moved = answer(epoch(Some(rs_auth.clone()), Some(etag)).await).await;
    assert_eq!(moved.status, 200);
    assert!(moved.json["credentials"].as_i64().unwrap() > n);
}

#[tokio::test]
async fn introspection_is_rate_limited_per_caller() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &["--introspection-rate-limit", "3"]).await;
    let ws = workspace(&node, "demo").await;
    let first = resource_server(&node, "one").await;
    let second = resource_server(&node, "two").await;
    let ask = |rs: &CreatedClient| {
        let req = http()
            .post(node.url("/oauth/introspect"))
            .header("authorization", basic(&rs.client_id, rs.secret.expose()))
            .form(&[
                ("token", ws.application_key.as_str()),
                ("token_type_hint", "appkey"),
            ]);
        async move { answer(req.send().await.unwrap()).await }
    };
    for _ in 0..3 {
        assert_eq!(ask(&first).await.status, 200);
    }
    let limited = ask(&first).await;
    assert_eq!(limited.status, 429, "{}", limited.json);
    assert_eq!(limited.json["error"], "temporarily_unavailable");
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(
        ask(&second).await.status,
        200,
        "another resource server's budget"
    );
}

// ---------------------------------------------------------------------------
// keyflow and the resource API in separate processes.

/// Not a test: the resource API's process, started by the tests below
/// with this test binary and `--ignored --exact`.
#[test]
#[ignore = "the entry point of the resource API's process"]
fn resource_api_process() {
    if std::env::var_os("RESOURCE_SERVER_ID").is_none() {
        return;
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .init();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(resource_api::serve_from_env())
        .unwrap();
}

/// This test binary run as the resource API, knowing only keyflow's URL
/// and a resource server's credentials; waits until it answers.
async fn spawn_resource_api(issuer: &str, rs: &Value, log: &std::path::Path) -> (Server, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "resource_api_process",
            "--nocapture",
        ])
        .env_clear()
        .env("KEYFLOW_ISSUER", issuer)
        .env("RESOURCE_SERVER_ID", rs["clientId"].as_str().unwrap())
        .env(
            "RESOURCE_SERVER_SECRET",
            rs["clientSecret"].as_str().unwrap(),
        )
        .env("RESOURCE_LISTEN", &listen)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let url = format!("http://{listen}/reports");
    let deadline = Instant::now() + Duration::from_secs(20);
    while http().get(&url).send().await.is_err() {
        // Exited (its port was taken meanwhile): whatever answers there
        // is not ours.
        let exited = server.0.try_wait().unwrap();
        assert!(exited.is_none(), "the resource API exited: {exited:?}");
        assert!(Instant::now() < deadline, "the resource API did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (server, url)
}

/// The cross-process tests run one at a time: each starts several
/// processes on ports chosen before they bind.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Deployment {
    dir: tempfile::TempDir,
    keyflow: Option<Server>,
    /// A second node of the same deployment, on PostgreSQL.
    _other: Option<Server>,
    /// The node the resource API talks to.
    issuer: String,
    /// Where regenerates go: the other node when there are two.
    admin_url: String,
    workspace: Value,
    api: Server,
    url: String,
}

/// keyflow on `db` with one workspace, and the resource API beside it. On
/// PostgreSQL a second node shares the database, and regenerates go
/// through it: the resource API's node only learns of them by polling.
async fn deployment(db: &TestDb) -> Deployment {
    let dir = tempfile::tempdir().unwrap();
    let url = db.url.as_str();
    binary::set_up(dir.path(), url);
    let workspace = binary::create_workspace(dir.path(), url, "demo");
    let rs = binary::json_stdout(&binary::keyflow(
        dir.path(),
        url,
        &["resource-server", "create", "--name", "reports", "--json"],
    ));
    // The nodes of one deployment share the issuer: the first node's URL.
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let node = async |port: u16| {
        binary::serve_with(dir.path(), url, port, &["--issuer", &issuer], None).await
    };
    let mut keyflow = node(port).await;
    let (mut other, admin_url) = match db.backend {
        keyflow::storage::Backend::Postgres => {
            let port = free_port();
            (Some(node(port).await), format!("http://127.0.0.1:{port}"))
        }
        keyflow::storage::Backend::Sqlite => (None, issuer.clone()),
    };
    let log = dir.path().join("resource_api.log");
    let (api, api_url) = spawn_resource_api(&issuer, &rs, &log).await;
    // `serve_with` waits for a /healthz answer on the port; make sure it
    // came from the node started here, not from a neighbour's process.
    let mut nodes = [Some(&mut keyflow), other.as_mut()];
    for node in nodes.iter_mut().flatten() {
        assert!(
            node.0.try_wait().unwrap().is_none(),
            "a keyflow node exited"
        );
    }
    Deployment {
        dir,
        keyflow: Some(keyflow),
        _other: other,
        issuer,
        admin_url,
        workspace,
        api,
        url: api_url,
    }
}

impl Deployment {
    /// What the resource API logged, for a failure's message.
    fn api_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("resource_api.log")).unwrap_or_default()
    }

    fn key(&self) -> &str {
        self.workspace["applicationKey"].as_str().unwrap()
    }

    async fn legacy(&self, secret: &str) -> u16 {
        call(
            &self.url,
            false,
            &[("appkey", self.key()), ("secretkey", secret)],
        )
        .await
        .status
    }

    /// `POST …/application-token/regenerate`, as an admin of the workspace.
    async fn regenerate(&self, secret: &str, body: Value) -> String {
        let token = answer(
            http()
                .post(format!("{}/oauth/token", self.admin_url))
                .header("authorization", basic(self.key(), secret))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", "workspace:admin"),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(token.status, 200, "{}", token.json);
        let id = self.workspace["workspaceId"].as_str().unwrap();
        let url = format!(
            "{}/v1/workspace/{id}/application-token/regenerate",
            self.issuer
        );
        let r = answer(
            http()
                .post(url)
                .bearer_auth(token.json["access_token"].as_str().unwrap())
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.json);
        r.json["secretKey"].as_str().unwrap().to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_regenerate_answers_no_resource_api_accepts_the_old_secret() {
    let _turn = ONE_AT_A_TIME.lock().await;
    for db in TestDb::all().await {
        regenerate_under_load(&db).await;
    }
}

async fn regenerate_under_load(db: &TestDb) {
    let d = Arc::new(deployment(db).await);
    let old = d.workspace["secretKey"].as_str().unwrap().to_owned();
    assert_eq!(d.legacy(&old).await, 200);

    // Eight clients keep presenting the old secret while it is replaced.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (d, old, stop) = (Arc::clone(&d), old.clone(), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let sent = Instant::now();
                    seen.push((sent, d.legacy(&old).await));
                }
                seen
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let new = d.regenerate(&old, json!({})).await;
    let answered = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut before, mut after_ok, mut after) = (0, 0, 0);
    for c in clients {
        for (sent, status) in c.await.unwrap() {
            match (sent > answered, status) {
                (false, 200) => before += 1,
                (true, 200) => after_ok += 1,
                (true, 401) => after += 1,
                (false, 401) => {}
                (_, other) => panic!("unexpected {other}"),
            }
        }
    }
    assert_eq!(
        after_ok, 0,
        "the old secret succeeded after the regenerate answered"
    );
    assert!(before > 0, "the old secret worked before the regenerate");
    assert!(after > 0, "requests were made after the answer");
    assert_eq!(d.legacy(&new).await, 200);

    // With a grace period the replaced secret keeps working until it ends.
    let newer = d.regenerate(&new, json!({"gracePeriodSeconds": 2})).await;
    let answered = Instant::now();
    assert_eq!(d.legacy(&new).await, 200, "inside the grace period");
    assert_eq!(d.legacy(&newer).await, 200);
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(answered.elapsed())).await;
    assert_eq!(d.legacy(&new).await, 401, "after the grace period");
}

#[tokio::test]
async fn with_keyflow_gone_the_resource_api_fails_closed_within_its_lease() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut d = deployment(&TestDb::sqlite()).await;
    let secret = d.workspace["secretKey"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        assert_eq!(d.legacy(&secret).await, 200, "{}", d.api_log());
    }
    let keyflow = d.keyflow.take().unwrap();
    drop(keyflow); // SIGKILL: no goodbye to anyone.
    let killed = Instant::now();
    // The last poll that can have renewed the lease started before the
    // kill, so a cached answer is trusted until LEASE after it at most.
    let trusted_until = killed + LEASE;
    let bound = killed + LEASE + POLL_INTERVAL + CHECK_TIMEOUT;
    let mut first_503 = None;
    while Instant::now() < bound + Duration::from_millis(500) {
        let sent = Instant::now();
        let a = call(
            &d.url,
            false,
            &[("appkey", d.key()), ("secretkey", &secret)],
        )
        .await;
        match a.status {
            200 => {
                assert!(
                    sent < trusted_until,
                    "200 from a stale cache {:?} after the kill",
                    sent - killed
                );
                assert!(first_503.is_none(), "200 after a 503");
            }
            503 => {
                assert_eq!(a.json["statusCode"], 503);
                assert_eq!(a.json["error"], "Service Unavailable");
                first_503.get_or_insert(sent);
            }
            other => panic!("unexpected {other}: {}", a.json),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = first_503.expect("the resource API never failed closed");
    assert!(
        first < bound,
        "503 only {:?} after the kill",
        first - killed
    );
    drop(d.api);
}
