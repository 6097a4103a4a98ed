//! Load benchmark for the token endpoint: `POST /oauth/token` with the
//! `client_credentials` grant, end to end through the real `keyflow` binary.
//!
//! The bench creates a fresh SQLite database in a temp dir, creates one
//! workspace with `keyflow workspace create --json`, starts `keyflow serve` on
//! a free loopback port and drives the endpoint from 16 keep-alive HTTP/1.1
//! connections (a lean hyper client). After a warm-up whose samples are
//! discarded, it reports tokens/s, latency percentiles, the server's CPU
//! time per token (user + system over the measured window, from
//! `/proc/<pid>/stat`), errors and the server's resident memory, next to the targets (>= 15,000 tokens/s, p99 < 5 ms).
//! A second, shorter phase requests tokens without a `scope` parameter; a
//! third sends `GET /healthz` the same way: every middleware layer, hyper,
//! the runtime and the kernel's loopback with no token, the floor under
//! the cost of any request to this server on this machine. A fourth sends
//! the main phase's requests to a bare hyper server in the bench's own
//! process (keyflow's runtime and hyper settings, a fixed answer of a
//! token answer's size and headers, no work at all), timed by its threads'
//! CPU: the floor under a token over HTTP from any server here.
//!
//! Run: `cargo bench --bench token_endpoint` (the bench profile builds the
//! server optimised). Environment:
//! - `KEYFLOW_BENCH_SECONDS`: measured seconds of the main phase (default 10).
//! - `KEYFLOW_BENCH_CLIENT_THREADS`: load-generator worker threads (default 1).
//!
//! A last phase runs in process, without sockets: the same request through
//! keyflow's router (`tower::ServiceExt::oneshot`, every middleware layer,
//! a tracing subscriber at `info` writing nowhere) on one thread, beside one
//! bare P-256 signature (aws-lc-rs, the operation keyflow's ES256 signing
//! performs) over a message of an access token's length, in alternating
//! rounds; the median round counts. What the router costs beyond the
//! signature is keyflow's own per-token work, measured without the kernel
//! and without the load generator competing for the cores.
//!
//! Without cargo's `--bench` flag (`cargo test --all-targets`) it runs a
//! one-second smoke pass. Any non-200 response makes the process exit non-zero.

use std::hint::black_box;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Request, StatusCode};

#[allow(dead_code, reason = "each bench uses part of the shared helpers")]
mod common;
use common::*;

const TARGET_TOKENS_PER_SEC: f64 = 15_000.0;
const TARGET_P99_MS: f64 = 5.0;
struct Phase {
    name: &'static str,
    /// The token request's form, or `None` for `GET /healthz`: the same
    /// server, connections, middleware and load generator without a token,
    /// the floor under every request's cost.
    body: Option<&'static str>,
    warmup: Duration,
    measure: Duration,
}

/// Creates the workspace and returns its `Authorization: Basic …` value.
fn create_workspace(dir: &Path) -> HeaderValue {
    let out = keyflow(dir)
        .args(["workspace", "create", "--name", "bench", "--json"])
        .stderr(Stdio::inherit())
        .output()
        .expect("running `keyflow workspace create`");
    assert!(
        out.status.success(),
        "`keyflow workspace create` failed: {}",
        out.status
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .expect("`workspace create --json` printed invalid JSON");
    let field = |name: &str| {
        json[name]
            .as_str()
            .unwrap_or_else(|| panic!("workspace JSON has no string {name:?}: {json}"))
            .to_owned()
    };
    let credentials = format!("{}:{}", field("applicationKey"), field("secretKey"));
    let basic = base64::engine::general_purpose::STANDARD.encode(credentials);
    HeaderValue::from_str(&format!("Basic {basic}")).expect("base64 is a valid header value")
}

/// One token request; `Err` describes a failure (transport, status or body).
async fn request_token(
    sender: &mut SendRequest<Full<Bytes>>,
    host: &HeaderValue,
    auth: &HeaderValue,
    body: &'static str,
) -> Result<(), String> {
    sender.ready().await.map_err(ctx("connection"))?;
    let request = Request::post("/oauth/token")
        .header(HOST, host.clone())
        .header(AUTHORIZATION, auth.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .map_err(ctx("building the request"))?;
    let response = sender.send_request(request).await.map_err(ctx("request"))?;
    let status = response.status();
    let collected = response.into_body().collect().await.map_err(ctx("body"))?;
    let bytes = collected.to_bytes();
    if status == StatusCode::OK && bytes.windows(14).any(|w| w == b"\"access_token\"") {
        return Ok(());
    }
    Err(format!(
        "HTTP {status}: {}",
        String::from_utf8_lossy(&bytes)
    ))
}

/// `GET /healthz`; `Err` describes a failure.
async fn request_health(
    sender: &mut SendRequest<Full<Bytes>>,
    host: &HeaderValue,
) -> Result<(), String> {
    sender.ready().await.map_err(ctx("connection"))?;
    let request = Request::get("/healthz")
        .header(HOST, host.clone())
        .body(Full::new(Bytes::new()))
        .map_err(ctx("building the request"))?;
    let response = sender.send_request(request).await.map_err(ctx("request"))?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(ctx("body"))?
        .to_bytes();
    if status == StatusCode::OK {
        return Ok(());
    }
    Err(format!(
        "HTTP {status}: {}",
        String::from_utf8_lossy(&bytes)
    ))
}

/// The phase's requests, and the server's CPU time over the measured
/// window.
async fn run_phase(
    addr: SocketAddr,
    server_cpu: impl Fn() -> [Duration; 2] + Send + 'static,
    auth: &HeaderValue,
    phase: &Phase,
) -> (Outcome, [Duration; 2]) {
    let start = Instant::now() + phase.warmup;
    let end = start + phase.measure;
    let cpu = cpu_over(start, end, server_cpu);
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let auth = auth.clone();
            let body = phase.body;
            tokio::spawn(drive(
                addr,
                start,
                end,
                async move |conn, host| match body {
                    Some(body) => request_token(conn, host, &auth, body).await,
                    None => request_health(conn, host).await,
                },
            ))
        })
        .collect();
    let total = merge(tasks).await;
    (total, cpu.await.expect("the CPU sampler panicked"))
}

fn report(phase: &Phase, out: &Outcome, [user, system]: [Duration; 2], threads: usize) {
    let tokens_per_sec = out.latencies.len() as f64 / phase.measure.as_secs_f64();
    let [p50, p90, p99, max] = [50.0, 90.0, 99.0, 100.0].map(|p| percentile_ms(&out.latencies, p));
    let unit = if phase.body.is_some() {
        "token"
    } else {
        "request"
    };
    match phase.body {
        Some(_) => println!("\n== POST /oauth/token, {} ==", phase.name),
        None => println!("\n== GET /healthz, {} ==", phase.name),
    }
    println!(
        "connections {CONNECTIONS}, client threads {threads}, warm-up {:.1} s, measured {:.1} s",
        phase.warmup.as_secs_f64(),
        phase.measure.as_secs_f64()
    );
    println!(
        "requests    {} (measured), errors {} (incl. warm-up)",
        out.latencies.len(),
        out.errors
    );
    if let Some(e) = &out.first_error {
        println!("first error {e}");
    }
    println!(
        "throughput  {tokens_per_sec:.1} {unit}s/s   target >= {TARGET_TOKENS_PER_SEC:.0}  {}",
        verdict(tokens_per_sec >= TARGET_TOKENS_PER_SEC)
    );
    println!("latency ms  p50 {p50:.3}  p90 {p90:.3}  p99 {p99:.3}  max {max:.3}");
    // The server's user + system time over the measured window, per token:
    // what a token costs, whatever the load generator beside it takes.
    // The system share includes, on loopback, delivering each response to
    // the load generator's socket and waking it.
    let tokens = out.latencies.len().max(1) as f64;
    let cpu = user + system;
    let per_token = |d: Duration| d.as_secs_f64() * 1e6 / tokens;
    println!(
        "cpu         {:.1} µs/{unit} (server, user {:.1} + system {:.1}; {:.2} s over {:.1} s)",
        per_token(cpu),
        per_token(user),
        per_token(system),
        cpu.as_secs_f64(),
        phase.measure.as_secs_f64()
    );
    println!(
        "p99 target  < {TARGET_P99_MS:.0} ms  {}",
        verdict(p99 < TARGET_P99_MS)
    );
}

fn phases() -> [Phase; 3] {
    let smoke = smoke();
    let seconds: f64 = env_or("KEYFLOW_BENCH_SECONDS", if smoke { 1.0 } else { 10.0 });
    assert!(
        seconds.is_finite() && seconds > 0.0,
        "KEYFLOW_BENCH_SECONDS must be positive, got {seconds}"
    );
    let (warmup, measure) = (
        Duration::from_secs(if smoke { 0 } else { 2 }),
        Duration::from_secs_f64(seconds),
    );
    [
        Phase {
            name: "grant_type=client_credentials&scope=api:read",
            body: Some("grant_type=client_credentials&scope=api%3Aread"),
            warmup,
            measure,
        },
        Phase {
            name: "grant_type=client_credentials (no scope)",
            body: Some("grant_type=client_credentials"),
            warmup: warmup / 2,
            measure: measure / 2,
        },
        Phase {
            name: "the floor: no token, every middleware layer",
            body: None,
            warmup: warmup / 2,
            measure: measure / 2,
        },
    ]
}

/// The bare server's runtime threads, whose CPU time is its cost.
const BARE_THREADS: &str = "bare-http";

/// The main phase's load, sent to [`start_bare_server`].
fn bare_phase(main: &Phase) -> Phase {
    Phase {
        name: "a bare hyper server: the answer without keyflow",
        body: main.body,
        warmup: main.warmup / 2,
        measure: main.measure / 2,
    }
}

/// A bare hyper server on a runtime of its own, configured as `keyflow
/// serve`'s (a worker per core, the same hyper builder, `TCP_NODELAY`), in
/// this process on threads named [`BARE_THREADS`]. It reads each request
/// whole and answers 200 with a fixed token answer of keyflow's size and
/// headers, and does nothing else: no routing, middleware, authentication
/// or signature. Its CPU per request is what hyper, tokio and the kernel's
/// loopback cost here, the floor under any token over HTTP on this machine.
fn start_bare_server() -> (tokio::runtime::Runtime, SocketAddr) {
    use std::convert::Infallible;

    use hyper::header::{CACHE_CONTROL, PRAGMA};
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto;

    // `{"access_token":"…","token_type":"Bearer","expires_in":3600}`, at
    // the 701 bytes of a keyflow ES256 access token's answer.
    const FIXED: &str = r#"{"token_type":"Bearer","expires_in":3600,"access_token":""}"#;
    let mut answer = String::with_capacity(701);
    answer.push_str(&FIXED[..FIXED.len() - 2]);
    answer.extend(std::iter::repeat_n('a', 701 - FIXED.len()));
    answer.push_str(&FIXED[FIXED.len() - 2..]);
    let answer = Bytes::from(answer);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name(BARE_THREADS)
        .enable_all()
        .build()
        .expect("building the bare server's runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("binding the bare server");
    let addr = listener.local_addr().expect("the bare server's address");
    runtime.spawn(async move {
        let builder = auto::Builder::new(TokioExecutor::new());
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let answer = answer.clone();
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let answer = answer.clone();
                async move {
                    let _ = req.into_body().collect().await;
                    let res = hyper::Response::builder()
                        .header(CONTENT_TYPE, "application/json")
                        .header(CACHE_CONTROL, "no-store")
                        .header(PRAGMA, "no-cache")
                        .header("ratelimit-policy", "\"token\";q=6000;w=60")
                        .header("ratelimit", "\"token\";r=5999;t=1")
                        .header("x-request-id", "9edcfa1b-d949-49d4-8cef-2fac4048d0a0")
                        .body(Full::new(answer))
                        .expect("a valid response");
                    Ok::<_, Infallible>(res)
                }
            });
            let conn = builder
                .serve_connection(TokioIo::new(stream), service)
                .into_owned();
            tokio::spawn(conn);
        }
    });
    (runtime, addr)
}

/// Mean ns per call of `f` over `n` calls.
async fn mean_ns<F: AsyncFnMut()>(n: u32, mut f: F) -> f64 {
    let t0 = Instant::now();
    for _ in 0..n {
        f().await;
    }
    t0.elapsed().as_nanos() as f64 / f64::from(n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The router's cost per token next to one bare signature; `Err` on a
/// token request that did not succeed.
async fn in_process(rounds: u32, per_round: u32) -> Result<[f64; 2], String> {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    use axum::extract::ConnectInfo;
    use keyflow::domain::audit::AuditContext;
    use keyflow::testing::{TestDb, TestServer};
    use tower::ServiceExt;

    // As `keyflow serve` logs by default: spans at info are enabled, their
    // fields written by keyflow's formatter, and no colour codes when the
    // log is not a terminal.
    let _ = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .fmt_fields(keyflow::logging::LogFields)
        .with_writer(std::io::sink)
        .try_init();
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, [7; 32], &["--token-rate-limit", "1000000000"]).await;
    let created = node
        .app
        .workspaces()
        .create(
            "bench",
            keyflow::clock::Clock::now(&keyflow::clock::SystemClock),
            &AuditContext::system(),
        )
        .await
        .map_err(ctx("creating the workspace"))?;
    let credentials = format!(
        "{}:{}",
        created.application_key,
        created.secret_key.expose()
    );
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    );
    let router = keyflow::http::router(std::sync::Arc::clone(&node.app));
    let peer: SocketAddr = "127.0.0.1:40000".parse().expect("an address");
    let token = async || -> Result<(), String> {
        let mut request = Request::post("/oauth/token")
            .header(HOST, "127.0.0.1")
            .header(AUTHORIZATION, auth.as_str())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(
                "grant_type=client_credentials&scope=api%3Aread",
            ))
            .map_err(ctx("building the request"))?;
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = router
            .clone()
            .oneshot(request)
            .await
            .map_err(ctx("routing"))?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(ctx("body"))?;
        if status != StatusCode::OK {
            return Err(format!("HTTP {status}: {:?}", body.to_bytes()));
        }
        black_box(body.to_bytes());
        Ok(())
    };
    token().await?;
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(ctx("generating a P-256 key"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(ctx("loading the P-256 key"))?;
    // An access token's signing input is about 400 bytes.
    let message = [b'a'; 400];
    let mut routed = Vec::new();
    let mut signed = Vec::new();
    let mut failed = None;
    for _ in 0..rounds {
        routed.push(
            mean_ns(per_round, async || {
                if let Err(e) = token().await {
                    failed.get_or_insert(e);
                }
            })
            .await,
        );
        signed.push(
            mean_ns(per_round, async || {
                black_box(pair.sign(&rng, black_box(&message)).expect("signing"));
            })
            .await,
        );
    }
    node.stop().await;
    match failed {
        Some(e) => Err(e),
        None => Ok([median(routed), median(signed)]),
    }
}

fn main() -> ExitCode {
    let phases = phases();
    let threads: usize = env_or("KEYFLOW_BENCH_CLIENT_THREADS", 1);
    assert!(
        threads >= 1,
        "KEYFLOW_BENCH_CLIENT_THREADS must be at least 1"
    );
    if smoke() {
        println!("smoke pass (no --bench flag, unoptimised build): figures are not representative");
    }
    let mut errors = 0;
    // `KEYFLOW_BENCH_ONLY=in-process` skips the phases over loopback, to
    // run the in-process phase alone (under `valgrind --tool=callgrind`,
    // for instance).
    if std::env::var("KEYFLOW_BENCH_ONLY").as_deref() != Ok("in-process") {
        let dir = common::bench_dir();
        let auth = create_workspace(dir.path());
        let mut server = Server::start(dir);
        let pid = server.child.id();
        println!("keyflow serve (pid {pid}) on http://{}", server.addr);
        let runtime = load_runtime(threads);
        for phase in &phases {
            let (out, cpu) =
                runtime.block_on(run_phase(server.addr, move || cpu_times(pid), &auth, phase));
            report(phase, &out, cpu, threads);
            errors += out.errors;
        }
        server.report_and_stop();
        // The same load against a server that does no work at all.
        let (bare, addr) = start_bare_server();
        let phase = bare_phase(&phases[0]);
        let (out, cpu) = runtime.block_on(run_phase(
            addr,
            || threads_cpu_times(BARE_THREADS),
            &auth,
            &phase,
        ));
        report(&phase, &out, cpu, threads);
        println!("(cpu: the bare server's own threads, in the bench's process)");
        errors += out.errors;
        bare.shutdown_background();
    }
    let (rounds, per_round) = if smoke() {
        (1, 10)
    } else {
        (
            env_or("KEYFLOW_BENCH_ROUNDS", 7),
            env_or("KEYFLOW_BENCH_PER_ROUND", 4_000),
        )
    };
    let in_process = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building the in-process runtime")
        .block_on(in_process(rounds, per_round));
    println!("\n== in process: the router without sockets, one thread ==");
    match in_process {
        Ok([routed, signed]) => {
            println!(
                "router      {:.1} µs/token (median of {rounds} rounds of {per_round})",
                routed / 1e3
            );
            println!(
                "signature   {:.1} µs (one bare P-256 signature, aws-lc-rs)",
                signed / 1e3
            );
            println!(
                "beyond it   {:.1} µs/token: keyflow's own work, {:.0} % of the signature",
                (routed - signed) / 1e3,
                (routed - signed) / signed * 100.0
            );
        }
        Err(e) => {
            println!("failed: {e}");
            errors += 1;
        }
    }
    if errors > 0 {
        eprintln!("{errors} token requests failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
