//! API-key verification cost, in process and through `POST /oauth/introspect`.
//!
//! Part 1, in process (target >= 100,000 verifications/s per core): the bench
//! builds `keyflow::service::api_keys::ApiKeys` directly over a fresh SQLite store on a
//! current-thread tokio runtime, so the figure is what one core does. It
//! creates one secret key and times `ApiKeys::verify` in rounds of 100,000
//! calls (the median of 5 rounds counts) with the cache lease renewed every
//! 10,000 calls, so every call is the cached path: checksum, one cache lookup,
//! one HMAC compared in constant time, one usage count. It then times the same
//! key with one character changed in the middle: the checksum must reject it
//! before any lookup, so that phase runs with the lease dropped (a lookup
//! would go to SQLite and show in the rate) and checks that every call fails
//! with `BadChecksum`. For context it also times a few valid calls without a
//! lease (one SQLite read each; sqlx runs SQLite on its own threads, so that
//! figure is not strictly one core).
//!
//! Part 2, over HTTP (target p99 < 2 ms): it creates a workspace, a secret
//! API key and a resource server with the CLI (`--json`), starts
//! `keyflow serve` on a free loopback port and drives `POST /oauth/introspect`
//! (HTTP Basic as the resource server, `token=<the key>`) from 16 keep-alive
//! HTTP/1.1 connections (a lean hyper client). After a 2 s warm-up whose
//! samples are discarded, it reports requests/s, latency percentiles, errors
//! and the server's resident memory. Every answer must be 200 with
//! `"active":true`. Part 1 runs first, so the server is not competing with it.
//!
//! Run: `cargo bench --bench api_keys` (the bench profile builds both the
//! bench and the server optimised). Environment:
//! - `KEYFLOW_BENCH_SECONDS`: measured seconds of the HTTP phase (default 10).
//! - `KEYFLOW_BENCH_CLIENT_THREADS`: load-generator worker threads (default 1).
//!
//! Targets are reported as PASS/MISS and never fail the run. Without cargo's
//! `--bench` flag (`cargo test --all-targets`) it runs a short smoke pass.
//! A wrong verification result panics; any failed introspection request
//! makes the process exit non-zero.

use std::hint::black_box;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Request, StatusCode};
use keyflow::clock::{SharedClock, SystemClock};
use keyflow::crypto::master_key::MasterKey;
use keyflow::domain::api_key::{ApiKeyFormatError, ApiKeyType};
use keyflow::domain::audit::AuditContext;
use keyflow::domain::scope::{ScopeCatalogue, ScopeSet};
use keyflow::service::api_keys::{ApiKeyError, ApiKeys, Creator, NewKey};
use keyflow::storage::ApiKeyRecord;
use tempfile::TempDir;

#[allow(dead_code, reason = "each bench uses part of the shared helpers")]
mod common;
use common::*;

const TARGET_VERIFY_PER_SEC: f64 = 100_000.0;
const TARGET_P99_MS: f64 = 2.0;
/// Calls between lease renewals; far fewer than one 500 ms lease holds.
const RENEW_EVERY: usize = 10_000;
type Verified = Result<Arc<ApiKeyRecord>, ApiKeyError>;

// ---------------------------------------------------------------------------
// Part 1: in-process verification
// ---------------------------------------------------------------------------

/// How many timed calls, and how.
struct Rounds {
    rounds: usize,
    per_round: usize,
    /// Renew the cache lease every `RENEW_EVERY` calls, or keep it dropped.
    leased: bool,
}

/// One `ApiKeys` over a fresh SQLite store, and the plaintext of its key.
async fn in_process_setup(dir: &Path) -> (ApiKeys, String) {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let store = keyflow::storage::connect(&url)
        .await
        .expect("opening and migrating the bench SQLite store");
    let master = MasterKey::from_bytes([7; 32]);
    let clock: SharedClock = Arc::new(SystemClock);
    let ws = keyflow::service::workspaces::Workspaces::new(store.as_ref(), &master.secret_hasher())
        .create("bench", clock.now(), &AuditContext::system())
        .await
        .expect("creating the bench workspace");
    let keys = ApiKeys::new(
        store.clone(),
        master.secret_hasher(),
        clock,
        ScopeCatalogue::default(),
    );
    let creator = Creator {
        id: "bench".into(),
        scopes: ScopeSet::parse("api:read api:write").expect("valid creator scopes"),
        audit: AuditContext::system(),
    };
    let new = NewKey {
        name: "bench".into(),
        key_type: ApiKeyType::Secret,
        scopes: ScopeSet::parse("api:read").expect("valid key scopes"),
        expires_at: None,
        rate_limits: None,
    };
    let made = keys
        .create(&ws.workspace.id, new, &creator)
        .await
        .expect("creating the bench API key");
    let key = made.key.expose().to_owned();
    (keys, key)
}

/// `key` with its middle character changed: same shape, wrong checksum.
fn with_bad_checksum(key: &str) -> String {
    let mut bytes = key.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    assert!(
        bytes[middle].is_ascii_alphanumeric(),
        "the middle of an API key should be its base62 secret: {key:?}"
    );
    bytes[middle] = if bytes[middle] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).expect("an ASCII key stays ASCII")
}

fn is_valid(result: &Verified) -> bool {
    result.is_ok()
}

fn is_bad_checksum(result: &Verified) -> bool {
    matches!(
        result,
        Err(ApiKeyError::Format(ApiKeyFormatError::BadChecksum))
    )
}

/// Times `plan.rounds` rounds of `verify(key)`; panics on any result that
/// `expected` refuses. Returns each round's duration.
async fn time_rounds(
    keys: &ApiKeys,
    key: &str,
    plan: &Rounds,
    expected: fn(&Verified) -> bool,
) -> Vec<Duration> {
    if plan.leased {
        keys.renew_lease(Instant::now());
    } else {
        keys.drop_lease();
    }
    // Warm the cache (when leased) and check the answer once, untimed.
    let first = keys.verify(key).await;
    assert!(
        expected(&first),
        "unexpected verification result: {first:?}"
    );
    let mut times = Vec::with_capacity(plan.rounds);
    let mut wrong = 0usize;
    for _ in 0..plan.rounds {
        let t0 = Instant::now();
        for i in 0..plan.per_round {
            if plan.leased && i % RENEW_EVERY == 0 {
                keys.renew_lease(Instant::now());
            }
            let result = keys.verify(black_box(key)).await;
            wrong += usize::from(!expected(&result));
            drop(black_box(result));
        }
        times.push(t0.elapsed());
    }
    assert_eq!(wrong, 0, "{wrong} verifications gave an unexpected result");
    times
}

/// Prints the median round (calls per second, ns per call) and the range.
fn report_rounds(label: &str, plan: &Rounds, times: &[Duration], target: Option<f64>) {
    let mut rates: Vec<f64> = times
        .iter()
        .map(|t| plan.per_round as f64 / t.as_secs_f64())
        .collect();
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let (low, high) = (rates[0], rates[rates.len() - 1]);
    println!(
        "{label:<30} {median:>12.0} /s  {:>8.1} ns each  (rounds of {}: {low:.0} .. {high:.0} /s)",
        1e9 / median,
        plan.per_round
    );
    if let Some(target) = target {
        println!(
            "{:<30} target >= {target:.0} /s per core  {}",
            "",
            verdict(median >= target)
        );
    }
}

fn in_process_bench(dir: &Path) {
    let smoke = smoke();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building the current-thread runtime");
    let (keys, key) = runtime.block_on(in_process_setup(dir));
    let bad = with_bad_checksum(&key);
    let plan = |rounds, per_round, leased| Rounds {
        rounds,
        per_round,
        leased,
    };
    let (valid, bad_plan, unleased) = if smoke {
        (
            plan(1, 1_000, true),
            plan(1, 1_000, false),
            plan(1, 20, false),
        )
    } else {
        (
            plan(5, 100_000, true),
            plan(5, 100_000, false),
            plan(3, 1_000, false),
        )
    };
    println!("== ApiKeys::verify in process, one current-thread runtime ==");
    let times = runtime.block_on(time_rounds(&keys, &key, &valid, is_valid));
    report_rounds(
        "valid key, cached",
        &valid,
        &times,
        Some(TARGET_VERIFY_PER_SEC),
    );
    let times = runtime.block_on(time_rounds(&keys, &bad, &bad_plan, is_bad_checksum));
    report_rounds("bad checksum, no lease", &bad_plan, &times, None);
    let times = runtime.block_on(time_rounds(&keys, &key, &unleased, is_valid));
    report_rounds("valid key, no lease (SQLite)", &unleased, &times, None);
}

// ---------------------------------------------------------------------------
// Part 2: introspection over HTTP
// ---------------------------------------------------------------------------

/// What every introspection request sends.
#[derive(Clone)]
struct Introspect {
    auth: HeaderValue,
    body: Bytes,
}

/// Creates a workspace, a secret API key in it and a resource server; returns
/// the resource server's Basic credentials and the request body.
fn introspect_setup(dir: &Path) -> Introspect {
    let workspace = cli_json(dir, &["workspace", "create", "--name", "bench"], None);
    let workspace_id = string_field(&workspace, "workspaceId");
    let api_key = secret_api_key(dir, &workspace_id);
    let key = string_field(&api_key, "key");
    let resource_server = cli_json(dir, &["resource-server", "create", "--name", "bench"], None);
    let credentials = format!(
        "{}:{}",
        string_field(&resource_server, "clientId"),
        string_field(&resource_server, "clientSecret")
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(credentials);
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", &key)
        .finish();
    Introspect {
        auth: HeaderValue::from_str(&format!("Basic {basic}"))
            .expect("base64 is a valid header value"),
        body: Bytes::from(body),
    }
}

/// One introspection request; `Err` describes a failure (transport, status,
/// or an answer that is not `"active":true`).
async fn introspect_once(
    sender: &mut SendRequest<Full<Bytes>>,
    host: &HeaderValue,
    req: &Introspect,
) -> Result<(), String> {
    sender.ready().await.map_err(ctx("connection"))?;
    let request = Request::post("/oauth/introspect")
        .header(HOST, host.clone())
        .header(AUTHORIZATION, req.auth.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(req.body.clone()))
        .map_err(ctx("building the request"))?;
    let response = sender.send_request(request).await.map_err(ctx("request"))?;
    let status = response.status();
    let collected = response.into_body().collect().await.map_err(ctx("body"))?;
    let bytes = collected.to_bytes();
    const ACTIVE: &[u8] = b"\"active\":true";
    if status == StatusCode::OK && bytes.windows(ACTIVE.len()).any(|w| w == ACTIVE) {
        return Ok(());
    }
    Err(format!(
        "HTTP {status}: {}",
        String::from_utf8_lossy(&bytes)
    ))
}

/// The requests, and the server's CPU time (user + system) over the
/// measured window.
async fn run_load(
    addr: SocketAddr,
    pid: u32,
    req: &Introspect,
    warmup: Duration,
    measure: Duration,
) -> (Outcome, Duration) {
    let start = Instant::now() + warmup;
    let end = start + measure;
    let cpu = cpu_over(start, end, move || [cpu_time(pid)]);
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let req = req.clone();
            tokio::spawn(drive(addr, start, end, async move |conn, host| {
                introspect_once(conn, host, &req).await
            }))
        })
        .collect();
    let total = merge(tasks).await;
    let [cpu] = cpu.await.expect("the CPU sampler panicked");
    (total, cpu)
}

fn report_load(out: &Outcome, cpu: Duration, warmup: Duration, measure: Duration, threads: usize) {
    let per_sec = out.latencies.len() as f64 / measure.as_secs_f64();
    let [p50, p90, p99, max] = [50.0, 90.0, 99.0, 100.0].map(|p| percentile_ms(&out.latencies, p));
    println!(
        "connections {CONNECTIONS}, client threads {threads}, warm-up {:.1} s, measured {:.1} s",
        warmup.as_secs_f64(),
        measure.as_secs_f64()
    );
    println!(
        "requests    {} (measured), errors {} (incl. warm-up)",
        out.latencies.len(),
        out.errors
    );
    if let Some(e) = &out.first_error {
        println!("first error {e}");
    }
    println!("throughput  {per_sec:.1} requests/s");
    println!(
        "cpu         {:.1} µs/request (server, user + system, {:.2} s over {:.1} s)",
        cpu.as_secs_f64() * 1e6 / out.latencies.len().max(1) as f64,
        cpu.as_secs_f64(),
        measure.as_secs_f64()
    );
    println!("latency ms  p50 {p50:.3}  p90 {p90:.3}  p99 {p99:.3}  max {max:.3}");
    println!(
        "p99 target  < {TARGET_P99_MS:.0} ms  {}",
        verdict(p99 < TARGET_P99_MS)
    );
}

/// The warm-up and measured durations of the HTTP phase.
fn load_durations() -> (Duration, Duration) {
    let smoke = smoke();
    let seconds: f64 = env_or("KEYFLOW_BENCH_SECONDS", if smoke { 1.0 } else { 10.0 });
    assert!(
        seconds.is_finite() && seconds > 0.0,
        "KEYFLOW_BENCH_SECONDS must be positive, got {seconds}"
    );
    (
        Duration::from_secs(if smoke { 0 } else { 2 }),
        Duration::from_secs_f64(seconds),
    )
}

/// Runs part 2; returns the number of failed requests.
fn introspection_bench(dir: TempDir) -> u64 {
    let (warmup, measure) = load_durations();
    let threads: usize = env_or("KEYFLOW_BENCH_CLIENT_THREADS", 1);
    assert!(
        threads >= 1,
        "KEYFLOW_BENCH_CLIENT_THREADS must be at least 1"
    );
    let req = introspect_setup(dir.path());
    let mut server = Server::start(dir);
    let pid = server.child.id();
    println!("\n== POST /oauth/introspect (API key, resource-server Basic auth) ==");
    println!("keyflow serve (pid {pid}) on http://{}", server.addr);
    let runtime = load_runtime(threads);
    let (out, cpu) = runtime.block_on(run_load(server.addr, pid, &req, warmup, measure));
    report_load(&out, cpu, warmup, measure, threads);
    server.report_and_stop();
    out.errors
}

fn temp_dir() -> TempDir {
    common::bench_dir()
}

fn main() -> ExitCode {
    if smoke() {
        println!("smoke pass (no --bench flag, unoptimised build): figures are not representative");
    }
    let in_process_dir = temp_dir();
    in_process_bench(in_process_dir.path());
    drop(in_process_dir);
    let errors = introspection_bench(temp_dir());
    if errors > 0 {
        eprintln!("{errors} introspection requests failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
