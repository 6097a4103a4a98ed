//! Every credential the example resource API (`examples/resource_api.rs`)
//! accepts, checked the way a resource API that reaches keyflow only over
//! HTTP checks it.
//!
//! The bench starts the release `keyflow serve` on a fresh SQLite database
//! with one workspace, one secret API key and one resource server (through
//! the CLI), then, in this process, the example resource API configured as
//! `KEYFLOW_ISSUER` + `RESOURCE_SERVER_ID` + `RESOURCE_SERVER_SECRET`
//! configures it: `RemoteCredentials` for API keys and the legacy headers,
//! the JWKS for access tokens, an in-memory rate limiter for API keys. The
//! API runs on its own runtime, on threads named `resource-api`, so that its
//! CPU time is measured apart from the load generator's. For each credential
//! it drives `GET /reports` from 16 keep-alive connections and reports
//! requests/s, latency percentiles, the resource API's CPU per request, and
//! how many checks went to keyflow meanwhile (with the lease held, only a
//! credential's first check does):
//! - `appkey` + `secretkey` (the legacy headers);
//! - `Authorization: Bearer` with a client_credentials access token (ES256
//!   JWT, verified offline);
//! - `Authorization: Bearer` with an API key (its own rate limit enforced
//!   in the resource API).
//!
//! Then the legacy check alone, `LegacyAuthenticator::authenticate` on a
//! warm cache, in ns, next to one HMAC-SHA256 of the same bytes: the hot
//! path is meant to cost a keyed hash and a map lookup, no HTTP call.
//!
//! Run: `cargo bench --bench resource_api`. `KEYFLOW_BENCH_SECONDS` sets the
//! measured seconds of each phase (default 6). Without `--bench` it runs a
//! short smoke pass. Any failed request makes the process exit non-zero.

use std::hint::black_box;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, HOST, HeaderName, HeaderValue};
use hyper::{Request, StatusCode};
use keyflow::node::rate_limit::RateLimiter;
use keyflow::verifier::{LegacyAuthenticator, RemoteCredentials, Verifier};

#[allow(dead_code, reason = "each bench uses part of the shared helpers")]
mod common;
#[allow(dead_code, reason = "the bench serves the example's router only")]
#[path = "../examples/resource_api.rs"]
mod resource_api;
use common::*;

const TARGET_PER_SEC: f64 = 15_000.0;
const TARGET_P99_MS: f64 = 5.0;
/// The name of the resource API's threads (at most 15 bytes, the kernel's
/// limit for a thread name).
const API_THREADS: &str = "resource-api";

/// API key limits the one key of the load cannot reach: the limiter runs,
/// as it does in production, but never refuses.
const LIFTED_LIMITS: &str = "[api_key_rate_limits]\n\
    secret = { read = 1000000000, write = 1000000000, token = 1000000000 }\n";

/// One credential the example API accepts, as request headers.
struct Credential {
    name: &'static str,
    headers: Vec<(HeaderName, HeaderValue)>,
}

async fn request(
    sender: &mut SendRequest<Full<Bytes>>,
    host: &HeaderValue,
    credential: &Credential,
) -> Result<(), String> {
    sender.ready().await.map_err(ctx("connection"))?;
    let mut request = Request::get("/reports").header(HOST, host.clone());
    for (name, value) in &credential.headers {
        request = request.header(name, value.clone());
    }
    let request = request
        .body(Full::new(Bytes::new()))
        .map_err(ctx("building the request"))?;
    let response = sender.send_request(request).await.map_err(ctx("request"))?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(ctx("body"))?;
    if status == StatusCode::OK {
        return Ok(());
    }
    Err(format!(
        "HTTP {status}: {}",
        String::from_utf8_lossy(&body.to_bytes())
    ))
}

/// Mean ns of `f` over `n` calls, after `n / 10` unmeasured ones.
async fn mean_ns<F: AsyncFnMut()>(n: u32, mut f: F) -> f64 {
    for _ in 0..n / 10 {
        f().await;
    }
    let t0 = Instant::now();
    for _ in 0..n {
        f().await;
    }
    t0.elapsed().as_nanos() as f64 / f64::from(n)
}

/// The check alone, warm; one HMAC-SHA256 of the same input; and the copy
/// of the cached principal the check hands out.
async fn micro(remote: &RemoteCredentials, appkey: &str, secret: &str, n: u32) -> [f64; 3] {
    let check = mean_ns(n, async || {
        let p = remote.authenticate(appkey, Some(secret)).await;
        black_box(p.expect("the warm check succeeds"));
    })
    .await;
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &[7; 32]);
    let hash = mean_ns(n, async || {
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
        ctx.update(appkey.as_bytes());
        ctx.update(secret.as_bytes());
        black_box(ctx.sign());
    })
    .await;
    let principal = remote
        .authenticate(appkey, Some(secret))
        .await
        .expect("the warm check succeeds");
    let copy = mean_ns(n, async || {
        black_box(black_box(&principal).clone());
    })
    .await;
    [check, hash, copy]
}

/// One phase's requests, and the resource API's CPU time over the measured
/// window.
async fn load(
    api: SocketAddr,
    credential: Arc<Credential>,
    warmup: Duration,
    measure: Duration,
) -> (Outcome, Duration) {
    let start = Instant::now() + warmup;
    let end = start + measure;
    let cpu = cpu_over(start, end, || [threads_cpu_time(API_THREADS)]);
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let credential = Arc::clone(&credential);
            tokio::spawn(drive(api, start, end, async move |conn, host| {
                request(conn, host, &credential).await
            }))
        })
        .collect();
    let out = merge(tasks).await;
    let [cpu] = cpu.await.expect("the CPU sampler panicked");
    (out, cpu)
}

/// A client_credentials access token for `api:read`, from keyflow's token
/// endpoint.
async fn access_token(issuer: &str, appkey: &str, secret: &str) -> String {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{issuer}/oauth/token"))
        .basic_auth(appkey, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=api%3Aread")
        .send()
        .await
        .expect("the token request is sent")
        .json()
        .await
        .expect("the token endpoint answers JSON");
    answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {answer}"))
        .to_owned()
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).expect("a header value")
}

fn report(credential: &str, out: &Outcome, cpu: Duration, checks: u64, measure: Duration) {
    let per_sec = out.latencies.len() as f64 / measure.as_secs_f64();
    let [p50, p90, p99, max] = [50.0, 90.0, 99.0, 100.0].map(|p| percentile_ms(&out.latencies, p));
    println!("\n== GET /reports with {credential}, through the example resource API ==");
    println!(
        "requests    {} (measured over {:.1} s), errors {}",
        out.latencies.len(),
        measure.as_secs_f64(),
        out.errors
    );
    if let Some(e) = &out.first_error {
        println!("first error {e}");
    }
    println!(
        "throughput  {per_sec:.1} requests/s   target >= {TARGET_PER_SEC:.0}  {}",
        verdict(per_sec >= TARGET_PER_SEC)
    );
    println!(
        "latency ms  p50 {p50:.3}  p90 {p90:.3}  p99 {p99:.3}  max {max:.3}   p99 target < {TARGET_P99_MS:.0} ms  {}",
        verdict(p99 < TARGET_P99_MS)
    );
    println!(
        "cpu         {:.1} µs/request (the resource API's threads, user + system, {:.2} s)",
        cpu.as_secs_f64() * 1e6 / out.latencies.len().max(1) as f64,
        cpu.as_secs_f64()
    );
    // Without a lease every check asks keyflow; a poll that comes late on
    // saturated cores lets the lease lapse for a moment.
    println!(
        "keyflow     {checks} checks went to keyflow during the load (a credential's first check, and checks while the lease had lapsed)"
    );
}

fn main() -> ExitCode {
    let smoke = smoke();
    let seconds: f64 = env_or("KEYFLOW_BENCH_SECONDS", if smoke { 1.0 } else { 6.0 });
    let warmup = Duration::from_secs(if smoke { 0 } else { 2 });
    let measure = Duration::from_secs_f64(seconds);
    let dir = bench_dir();
    let ws = cli_json(
        dir.path(),
        &["workspace", "create", "--name", "bench"],
        None,
    );
    let workspace_id = string_field(&ws, "workspaceId");
    let api_key = secret_api_key(dir.path(), &workspace_id);
    let rs = cli_json(
        dir.path(),
        &["resource-server", "create", "--name", "bench-api"],
        None,
    );
    let limits = dir.path().join("limits.toml");
    std::fs::write(&limits, LIFTED_LIMITS).expect("writing limits.toml");
    let limits = limits.to_str().expect("a UTF-8 temp path").to_owned();
    let mut server = Server::start_with(dir, &["--config", &limits]);
    let issuer = format!("http://{}", server.addr);
    let (appkey, secret) = (
        string_field(&ws, "applicationKey"),
        string_field(&ws, "secretKey"),
    );
    // The resource API on its own named threads; the load on another
    // runtime.
    let api_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(API_THREADS)
        .enable_all()
        .build()
        .expect("building the resource API's runtime");
    let (api, remote) = api_runtime.block_on(async {
        let remote = Arc::new(
            RemoteCredentials::new(
                &issuer,
                &string_field(&rs, "clientId"),
                &string_field(&rs, "clientSecret"),
            )
            .expect("an HTTP client"),
        );
        // As `resource_api::verifier_from_env` builds it.
        let verifier = Verifier::remote(&issuer, [format!("{issuer}/v1")])
            .expect("an HTTP client")
            .remote_credentials(Arc::clone(&remote), Default::default())
            .rate_limiter(Arc::new(RateLimiter::in_memory()))
            .build();
        verifier.spawn_refresh();
        // Both sides polled the epoch: answers are kept from now on.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let api = listener.local_addr().expect("local addr");
        tokio::spawn(async move { axum::serve(listener, resource_api::router(verifier)).await });
        (api, remote)
    });
    let load_runtime = common::load_runtime(env_or("KEYFLOW_BENCH_CLIENT_THREADS", 1));
    let token = load_runtime.block_on(access_token(&issuer, &appkey, &secret));
    let credentials = [
        Credential {
            name: "appkey + secretkey",
            headers: vec![
                (HeaderName::from_static("appkey"), header(&appkey)),
                (HeaderName::from_static("secretkey"), header(&secret)),
            ],
        },
        Credential {
            name: "a Bearer access token (ES256 JWT)",
            headers: vec![(AUTHORIZATION, header(&format!("Bearer {token}")))],
        },
        Credential {
            name: "a Bearer API key",
            headers: vec![(
                AUTHORIZATION,
                header(&format!("Bearer {}", string_field(&api_key, "key"))),
            )],
        },
    ];
    if smoke {
        println!("smoke pass (no --bench flag, unoptimised build): figures are not representative");
    }
    println!(
        "connections {CONNECTIONS}, warm-up {:.1} s per phase; the resource API on 2 worker threads",
        warmup.as_secs_f64()
    );
    let mut errors = 0;
    for credential in credentials {
        let name = credential.name;
        let before = remote.remote_checks();
        let (out, cpu) = load_runtime.block_on(load(api, Arc::new(credential), warmup, measure));
        report(name, &out, cpu, remote.remote_checks() - before, measure);
        errors += out.errors;
    }
    let [check_ns, hmac_ns, copy_ns] = api_runtime.block_on(micro(
        &remote,
        &appkey,
        &secret,
        if smoke { 1_000 } else { 1_000_000 },
    ));
    println!("\n== the legacy check alone, warm cache ==");
    println!(
        "authenticate  {check_ns:.0} ns/check ({:.2} M/s)",
        1e3 / check_ns
    );
    println!(
        "HMAC-SHA256   {hmac_ns:.0} ns over the same bytes: the check is {:.1}x one keyed hash",
        check_ns / hmac_ns
    );
    println!("principal     {copy_ns:.0} ns to copy the cached principal handed to the handler");
    server.report_and_stop();
    if errors > 0 {
        eprintln!("{errors} requests failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
