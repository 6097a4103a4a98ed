//! The legacy `appkey` + `secretkey` check of a resource API that reaches
//! keyflow only over HTTP (`RemoteCredentials`), with a warm cache.
//!
//! The bench starts the release `keyflow serve` on a fresh SQLite database
//! with one workspace and one resource server (through the CLI), then, in
//! this process, the example resource API (`examples/resource_api.rs`)
//! configured as `KEYFLOW_ISSUER` + `RESOURCE_SERVER_ID` +
//! `RESOURCE_SERVER_SECRET` would configure it. It measures:
//! - `GET /reports` through the example API from 16 keep-alive
//!   connections with the legacy headers: checks/s and latency
//!   percentiles, and how many checks went to keyflow meanwhile (the lease
//!   holds, so the target is none);
//! - the check alone, `LegacyAuthenticator::authenticate` on a warm cache,
//!   in ns, next to one HMAC-SHA256 of the same bytes: the hot path is
//!   meant to cost a keyed hash and a map lookup, no HTTP call.
//!
//! Run: `cargo bench --bench legacy_remote`. `KEYFLOW_BENCH_SECONDS` sets
//! the measured seconds (default 10). Without `--bench` it runs a short
//! smoke pass. Any failed request makes the process exit non-zero.

use std::hint::black_box;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HOST, HeaderValue};
use hyper::{Request, StatusCode};
use keyflow::verifier::{LegacyAuthenticator, RemoteCredentials, Verifier};

#[allow(dead_code, reason = "each bench uses part of the shared helpers")]
mod common;
#[allow(dead_code, reason = "the bench serves the example's router only")]
#[path = "../examples/resource_api.rs"]
mod resource_api;
use common::*;

const TARGET_CHECKS_PER_SEC: f64 = 15_000.0;
const TARGET_P99_MS: f64 = 5.0;

struct Credentials {
    appkey: HeaderValue,
    secretkey: HeaderValue,
}

async fn request(
    sender: &mut SendRequest<Full<Bytes>>,
    host: &HeaderValue,
    creds: &Credentials,
) -> Result<(), String> {
    sender.ready().await.map_err(ctx("connection"))?;
    let request = Request::get("/reports")
        .header(HOST, host.clone())
        .header("appkey", creds.appkey.clone())
        .header("secretkey", creds.secretkey.clone())
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

async fn load(
    api: SocketAddr,
    creds: Arc<Credentials>,
    warmup: Duration,
    measure: Duration,
) -> Outcome {
    let start = Instant::now() + warmup;
    let end = start + measure;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let creds = Arc::clone(&creds);
            tokio::spawn(drive(api, start, end, async move |conn, host| {
                request(conn, host, &creds).await
            }))
        })
        .collect();
    merge(tasks).await
}

fn main() -> ExitCode {
    let smoke = smoke();
    let seconds: f64 = env_or("KEYFLOW_BENCH_SECONDS", if smoke { 1.0 } else { 10.0 });
    let warmup = Duration::from_secs(if smoke { 0 } else { 2 });
    let measure = Duration::from_secs_f64(seconds);
    let dir = bench_dir();
    let ws = cli_json(
        dir.path(),
        &["workspace", "create", "--name", "bench"],
        None,
    );
    let rs = cli_json(
        dir.path(),
        &["resource-server", "create", "--name", "bench-api"],
        None,
    );
    let mut server = Server::start(dir);
    let issuer = format!("http://{}", server.addr);
    let (appkey, secret) = (
        string_field(&ws, "applicationKey"),
        string_field(&ws, "secretKey"),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("building the runtime");
    let (out, checks, micro) = runtime.block_on(async {
        let remote = Arc::new(
            RemoteCredentials::new(
                &issuer,
                &string_field(&rs, "clientId"),
                &string_field(&rs, "clientSecret"),
            )
            .expect("an HTTP client"),
        );
        let verifier = Verifier::remote(&issuer, [format!("{issuer}/v1")])
            .expect("an HTTP client")
            .remote_credentials(Arc::clone(&remote), Default::default())
            .build();
        verifier.spawn_refresh();
        // Both sides polled the epoch: answers are kept from now on.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let api = listener.local_addr().expect("local addr");
        tokio::spawn(async move { axum::serve(listener, resource_api::router(verifier)).await });
        let creds = Arc::new(Credentials {
            appkey: HeaderValue::from_str(&appkey).expect("a header"),
            secretkey: HeaderValue::from_str(&secret).expect("a header"),
        });
        let micro = micro(
            &remote,
            &appkey,
            &secret,
            if smoke { 1_000 } else { 1_000_000 },
        )
        .await;
        let before = remote.remote_checks();
        let out = load(api, creds, warmup, measure).await;
        (out, remote.remote_checks() - before, micro)
    });
    let per_sec = out.latencies.len() as f64 / measure.as_secs_f64();
    let [p50, p90, p99, max] = [50.0, 90.0, 99.0, 100.0].map(|p| percentile_ms(&out.latencies, p));
    if smoke {
        println!("smoke pass (no --bench flag, unoptimised build): figures are not representative");
    }
    println!("\n== GET /reports with appkey + secretkey, through the example resource API ==");
    println!(
        "connections {CONNECTIONS}, warm-up {:.1} s, measured {:.1} s",
        warmup.as_secs_f64(),
        measure.as_secs_f64()
    );
    println!(
        "requests    {} (measured), errors {}",
        out.latencies.len(),
        out.errors
    );
    if let Some(e) = &out.first_error {
        println!("first error {e}");
    }
    println!(
        "throughput  {per_sec:.1} checks/s   target >= {TARGET_CHECKS_PER_SEC:.0}  {}",
        verdict(per_sec >= TARGET_CHECKS_PER_SEC)
    );
    println!(
        "latency ms  p50 {p50:.3}  p90 {p90:.3}  p99 {p99:.3}  max {max:.3}   p99 target < {TARGET_P99_MS:.0} ms  {}",
        verdict(p99 < TARGET_P99_MS)
    );
    println!(
        "keyflow     {checks} checks went to keyflow during the load (target 0: the lease held)"
    );
    let [check_ns, hmac_ns, copy_ns] = micro;
    println!("\n== the check alone, warm cache ==");
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
    if out.errors > 0 {
        eprintln!("{} requests failed", out.errors);
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
