//! Load benchmark for the user-facing grants, end to end through the real
//! `keyflow` binary: refresh-token rotation, the authorization code flow with
//! remembered consent, and (for scale) the cost of one password sign-in.
//!
//! Setup: a fresh SQLite database in a temp dir; with the CLI (`--json`) one
//! workspace, one user who owns it and one confidential client
//! (`openid offline_access api:read`). `keyflow serve` runs on a free
//! loopback port. The bench then plays the browser with a lean hyper client,
//! keeping the `keyflow_csrf` and `keyflow_session` cookies itself: the
//! authorization request shows the login page, `POST /login` signs in and
//! shows the consent page, `POST /oauth/authorize/decision` allows and
//! remembers the consent. From then on an authorization request with the
//! session cookie is answered with a 303 carrying the code straight away.
//!
//! Phase 1, `grant_type=refresh_token`: each of 16 keep-alive HTTP/1.1
//! connections gets its own chain (one code, exchanged with PKCE) and rotates
//! it back to back: every response's `refresh_token` is the next request's.
//! A rotation is one write transaction (the old token marked rotated, the new
//! refresh token and an access-token record inserted) plus the signing of an
//! access token and, because of `openid`, an ID token.
//!
//! Phase 2, the code flow: per iteration and connection,
//! `GET /oauth/authorize` with the session cookie (303 with a code), then
//! `POST /oauth/token` with `grant_type=authorization_code`, the code,
//! `redirect_uri` and a fresh PKCE `code_verifier`. Reported as completed
//! flows/s and latency of the pair.
//!
//! Phase 3, password sign-in: sequential `POST /login` (Argon2id, slow on
//! purpose) without an authorization request; the median is reported. It
//! is the cost keyflow accepts by design, not a target.
//!
//! After a warm-up whose samples are discarded (phases 1 and 2), it reports
//! rates, latency percentiles, errors, a summary table and the server's
//! resident memory. There are no targets: any response other than the
//! expected 200 or 303 makes the process exit non-zero.
//!
//! Run: `cargo bench --bench user_grants` (the bench profile builds the
//! server optimised). Environment:
//! - `KEYFLOW_BENCH_SECONDS`: measured seconds of phases 1 and 2 (default 10
//!   each).
//! - `KEYFLOW_BENCH_LOGINS`: sign-ins timed in phase 3 (default 20).
//! - `KEYFLOW_BENCH_CLIENT_THREADS`: load-generator worker threads (default 1).
//! - `KEYFLOW_BENCH_DATABASE_URL`: an empty database to run on instead of
//!   SQLite (PostgreSQL).
//! - `KEYFLOW_BENCH_ID_TOKEN_ALG`: the client's registered ID token
//!   algorithm (default RS256, what a client that registers none gets, OIDC
//!   Registration §2; ES256 shows what the RSA signature costs).
//!
//! Without cargo's `--bench` flag (`cargo test --all-targets`) it runs a
//! smoke pass of about one second per phase and three sign-ins.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{
    AUTHORIZATION, CONTENT_TYPE, COOKIE, HOST, HeaderMap, HeaderValue, LOCATION, SET_COOKIE,
};
use hyper::{Request, StatusCode};
use keyflow::domain::pkce::s256_challenge;
use serde::Deserialize;

#[allow(dead_code, reason = "each bench uses part of the shared helpers")]
mod common;
use common::*;

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "correct horse battery staple, bench edition";
const REDIRECT_URI: &str = "https://bench.example/cb";
const SCOPE: &str = "openid offline_access api:read";
const STATE: &str = "s";
const SESSION_COOKIE: &str = "keyflow_session";
const CSRF_COOKIE: &str = "keyflow_csrf";

// ---------------------------------------------------------------------------
// Setup with the CLI
// ---------------------------------------------------------------------------

/// What the load needs to know about the client.
#[derive(Clone)]
struct Client {
    id: String,
    /// `Authorization: Basic …` for the token endpoint.
    auth: HeaderValue,
}

/// A workspace, its owner and a confidential client.
fn cli_setup(dir: &Path) -> Client {
    let workspace = cli_json(dir, &["workspace", "create", "--name", "bench"], None);
    let workspace_id = string_field(&workspace, "workspaceId");
    let user = cli_json(
        dir,
        &[
            "user",
            "create",
            "--email",
            EMAIL,
            "--password-stdin",
            "--workspace",
            &workspace_id,
            "--role",
            "owner",
        ],
        Some(PASSWORD),
    );
    string_field(&user, "userId");
    let id_token_alg =
        std::env::var("KEYFLOW_BENCH_ID_TOKEN_ALG").unwrap_or_else(|_| "RS256".into());
    let client = cli_json(
        dir,
        &[
            "client",
            "create",
            "--name",
            "Bench",
            "--redirect-uri",
            REDIRECT_URI,
            "--scope",
            "openid",
            "--scope",
            "offline_access",
            "--scope",
            "api:read",
            "--id-token-alg",
            &id_token_alg,
        ],
        None,
    );
    let id = string_field(&client, "clientId");
    let credentials = format!("{id}:{}", string_field(&client, "clientSecret"));
    let basic = base64::engine::general_purpose::STANDARD.encode(credentials);
    Client {
        id,
        auth: HeaderValue::from_str(&format!("Basic {basic}"))
            .expect("base64 is a valid header value"),
    }
}

// ---------------------------------------------------------------------------
// HTTP: requests, cookies, pages
// ---------------------------------------------------------------------------

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn unexpected(&self, what: &str) -> String {
        let mut body = self.text();
        if body.len() > 300 {
            body.truncate(body.floor_char_boundary(300));
            body.push('…');
        }
        let location = self
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| format!(" (Location: {l})"))
            .unwrap_or_default();
        format!("{what}: HTTP {}{location}: {body}", self.status)
    }

    fn location(&self) -> Result<&str, String> {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| self.unexpected("no Location header"))
    }
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<Reply, String> {
    sender.ready().await.map_err(ctx("connection"))?;
    let response = sender.send_request(request).await.map_err(ctx("request"))?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(ctx("body"))?.to_bytes();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

fn get(
    host: &HeaderValue,
    path: &str,
    cookie: Option<&str>,
) -> Result<Request<Full<Bytes>>, String> {
    let mut builder = Request::get(path).header(HOST, host.clone());
    if let Some(c) = cookie {
        builder = builder.header(COOKIE, c);
    }
    builder
        .body(Full::new(Bytes::new()))
        .map_err(ctx("building the request"))
}

fn post_form(
    host: &HeaderValue,
    path: &str,
    cookie: Option<&str>,
    auth: Option<&HeaderValue>,
    fields: &[(&str, &str)],
) -> Result<Request<Full<Bytes>>, String> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut builder = Request::post(path)
        .header(HOST, host.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        builder = builder.header(COOKIE, c);
    }
    if let Some(a) = auth {
        builder = builder.header(AUTHORIZATION, a.clone());
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .map_err(ctx("building the request"))
}

/// The cookies a browser would keep for keyflow's origin.
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn store(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let Some((name, rest)) = value.to_str().ok().and_then(|v| v.split_once('=')) else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or("").trim();
            self.0.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.0.push((name.trim().to_owned(), value.to_owned()));
            }
        }
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The value of the hidden input `name` in a page (askama escapes HTML).
fn hidden_field(page: &Reply, name: &str) -> Result<String, String> {
    let html = page.text();
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&marker)
        .ok_or_else(|| page.unexpected(&format!("no hidden field {name:?} in the page")))?
        + marker.len();
    let end = at
        + html[at..]
            .find('"')
            .ok_or_else(|| page.unexpected("unterminated value attribute"))?;
    Ok(html[at..end]
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&"))
}

// ---------------------------------------------------------------------------
// The OAuth steps
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: Option<String>,
}

/// A PKCE verifier unique to one flow (43 to 128 of `[A-Za-z0-9-._~]`).
fn verifier(connection: usize, flow: u64) -> String {
    format!("bench-pkce-verifier-{connection:04}-{flow:020}-0123456789")
}

fn authorize_path(client_id: &str, challenge: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT_URI),
            ("scope", SCOPE),
            ("state", STATE),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    format!("/oauth/authorize?{query}")
}

/// The code of a 303 back to the client, after checking `state`.
fn code_from_redirect(reply: &Reply) -> Result<String, String> {
    if reply.status != StatusCode::SEE_OTHER {
        return Err(reply.unexpected("authorization: expected a 303 with a code"));
    }
    let location = reply.location()?;
    if !location.starts_with(REDIRECT_URI) {
        return Err(reply.unexpected("authorization redirected elsewhere"));
    }
    let url = url::Url::parse(location).map_err(ctx("parsing Location"))?;
    let (mut code, mut state) = (None, None);
    for (k, v) in url.query_pairs() {
        match &*k {
            "code" => code = Some(v.into_owned()),
            "state" => state = Some(v.into_owned()),
            _ => {}
        }
    }
    if state.as_deref() != Some(STATE) {
        return Err(reply.unexpected("authorization: state missing or changed"));
    }
    code.ok_or_else(|| reply.unexpected("authorization: no code"))
}

/// `GET /oauth/authorize` with the session cookie: consent is remembered,
/// so the answer is a 303 with a code.
async fn authorize(
    sender: &mut SendRequest<Full<Bytes>>,
    host: &HeaderValue,
    client: &Client,
    cookies: &str,
    challenge: &str,
) -> Result<String, String> {
    let request = get(host, &authorize_path(&client.id, challenge), Some(cookies))?;
    code_from_redirect(&send(sender, request).await?)
}

async fn token_request(
    sender: &mut SendRequest<Full<Bytes>>,
    host: &HeaderValue,
    client: &Client,
    fields: &[(&str, &str)],
) -> Result<Tokens, String> {
    let request = post_form(host, "/oauth/token", None, Some(&client.auth), fields)?;
    let reply = send(sender, request).await?;
    if reply.status != StatusCode::OK {
        return Err(reply.unexpected("token"));
    }
    let tokens: Tokens = serde_json::from_slice(&reply.body)
        .map_err(|e| reply.unexpected(&format!("token response ({e})")))?;
    if tokens.access_token.is_empty() {
        return Err(reply.unexpected("token: empty access_token"));
    }
    Ok(tokens)
}

async fn exchange_code(
    sender: &mut SendRequest<Full<Bytes>>,
    host: &HeaderValue,
    client: &Client,
    code: &str,
    verifier: &str,
) -> Result<Tokens, String> {
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ];
    token_request(sender, host, client, &fields).await
}

/// One rotation: the answer's refresh token replaces `token`.
async fn rotate(
    sender: &mut SendRequest<Full<Bytes>>,
    host: &HeaderValue,
    client: &Client,
    token: &mut String,
) -> Result<(), String> {
    let fields = [
        ("grant_type", "refresh_token"),
        ("refresh_token", token.as_str()),
    ];
    let tokens = token_request(sender, host, client, &fields).await?;
    *token = tokens
        .refresh_token
        .ok_or("refresh: the answer has no refresh_token")?;
    Ok(())
}

/// Plays the browser once: the login page, `POST /login`, then Allow on
/// the consent page. Returns the `Cookie` header of the signed-in browser.
async fn sign_in_and_consent(addr: SocketAddr, client: &Client) -> Result<String, String> {
    let host = HeaderValue::from_str(&addr.to_string()).expect("a socket address is a valid Host");
    let mut sender = connect(addr).await?;
    let mut jar = Jar::default();
    let v = verifier(9_999, 0);
    let path = authorize_path(&client.id, &s256_challenge(&v));

    let login = send(&mut sender, get(&host, &path, None)?).await?;
    if login.status != StatusCode::OK {
        return Err(login.unexpected("authorization without a session: expected the login page"));
    }
    jar.store(&login.headers);
    if !jar.has(CSRF_COOKIE) {
        return Err(login.unexpected("the login page set no keyflow_csrf cookie"));
    }
    let (csrf, authz) = (
        hidden_field(&login, "csrf")?,
        hidden_field(&login, "request")?,
    );
    let fields = [
        ("username", EMAIL),
        ("password", PASSWORD),
        ("csrf", csrf.as_str()),
        ("request", authz.as_str()),
        ("return_to", ""),
    ];
    let request = post_form(&host, "/login", Some(&jar.header()), None, &fields)?;
    let consent = send(&mut sender, request).await?;
    if consent.status != StatusCode::OK {
        return Err(consent.unexpected("POST /login: expected the consent page"));
    }
    jar.store(&consent.headers);
    if !jar.has(SESSION_COOKIE) {
        return Err(consent.unexpected("POST /login set no keyflow_session cookie"));
    }
    let (csrf, authz, workspace) = (
        hidden_field(&consent, "csrf")?,
        hidden_field(&consent, "request")?,
        hidden_field(&consent, "workspace")?,
    );
    let fields = [
        ("csrf", csrf.as_str()),
        ("request", authz.as_str()),
        ("workspace", workspace.as_str()),
        ("decision", "allow"),
    ];
    let request = post_form(
        &host,
        "/oauth/authorize/decision",
        Some(&jar.header()),
        None,
        &fields,
    )?;
    let decided = send(&mut sender, request).await?;
    // The first code proves the decision worked; the load gets its own.
    code_from_redirect(&decided)?;
    jar.store(&decided.headers);
    Ok(jar.header())
}

/// One refresh-token chain per connection, each from its own code.
async fn refresh_chains(
    addr: SocketAddr,
    client: &Client,
    cookies: &str,
    count: usize,
) -> Result<Vec<String>, String> {
    let host = HeaderValue::from_str(&addr.to_string()).expect("a socket address is a valid Host");
    let mut sender = connect(addr).await?;
    let mut chains = Vec::with_capacity(count);
    for i in 0..count {
        let v = verifier(i, 0);
        let code = authorize(&mut sender, &host, client, cookies, &s256_challenge(&v)).await?;
        let tokens = exchange_code(&mut sender, &host, client, &code, &v).await?;
        chains.push(
            tokens
                .refresh_token
                .ok_or("the code exchange returned no refresh_token")?,
        );
    }
    Ok(chains)
}

// ---------------------------------------------------------------------------
// Load phases
// ---------------------------------------------------------------------------

struct Timing {
    warmup: Duration,
    measure: Duration,
}

/// Phase 1: every connection rotates its own chain back to back.
async fn refresh_phase(
    addr: SocketAddr,
    pid: u32,
    client: &Client,
    chains: Vec<String>,
    timing: &Timing,
) -> (Outcome, Duration) {
    let start = Instant::now() + timing.warmup;
    let end = start + timing.measure;
    let cpu = cpu_over(start, end, move || [cpu_time(pid)]);
    let tasks = chains
        .into_iter()
        .map(|mut token| {
            let client = client.clone();
            tokio::spawn(drive(addr, start, end, async move |conn, host| {
                rotate(conn, host, &client, &mut token).await
            }))
        })
        .collect();
    let out = merge(tasks).await;
    let [cpu] = cpu.await.expect("the CPU sampler panicked");
    (out, cpu)
}

/// Phase 2: authorization request with the session, then the code exchange.
async fn code_flow_phase(
    addr: SocketAddr,
    pid: u32,
    client: &Client,
    cookies: &str,
    timing: &Timing,
) -> (Outcome, Duration) {
    let start = Instant::now() + timing.warmup;
    let end = start + timing.measure;
    let cpu = cpu_over(start, end, move || [cpu_time(pid)]);
    let tasks = (0..CONNECTIONS)
        .map(|connection| {
            let client = client.clone();
            let cookies = cookies.to_owned();
            let mut flow = 0u64;
            tokio::spawn(drive(addr, start, end, async move |conn, host| {
                flow += 1;
                let v = verifier(connection, flow);
                let code = authorize(conn, host, &client, &cookies, &s256_challenge(&v)).await?;
                exchange_code(conn, host, &client, &code, &v).await?;
                Ok(())
            }))
        })
        .collect();
    let out = merge(tasks).await;
    let [cpu] = cpu.await.expect("the CPU sampler panicked");
    (out, cpu)
}

/// Phase 3: `count` sequential sign-ins from one browser, timed one by one.
async fn login_phase(addr: SocketAddr, count: usize) -> Outcome {
    let mut out = Outcome::default();
    let host = HeaderValue::from_str(&addr.to_string()).expect("a socket address is a valid Host");
    let prepared = async {
        let mut sender = connect(addr).await?;
        let page = send(&mut sender, get(&host, "/login", None)?).await?;
        if page.status != StatusCode::OK {
            return Err(page.unexpected("GET /login: expected the login page"));
        }
        let mut jar = Jar::default();
        jar.store(&page.headers);
        Ok::<_, String>((sender, jar.header(), hidden_field(&page, "csrf")?))
    }
    .await;
    let (mut sender, cookies, csrf) = match prepared {
        Ok(p) => p,
        Err(e) => {
            out.error(e);
            return out;
        }
    };
    let fields = [
        ("username", EMAIL),
        ("password", PASSWORD),
        ("csrf", csrf.as_str()),
        ("request", ""),
        ("return_to", ""),
    ];
    for _ in 0..count {
        let t0 = Instant::now();
        let result = async {
            let request = post_form(&host, "/login", Some(&cookies), None, &fields)?;
            let reply = send(&mut sender, request).await?;
            let session_set = reply
                .headers
                .get_all(SET_COOKIE)
                .iter()
                .any(|v| v.as_bytes().starts_with(b"keyflow_session="));
            if reply.status == StatusCode::SEE_OTHER && session_set {
                Ok(())
            } else {
                Err(reply.unexpected("POST /login: expected a 303 and a session"))
            }
        }
        .await;
        match result {
            Ok(()) => out.latencies.push(t0.elapsed()),
            Err(e) => {
                out.error(e);
                if sender.is_closed() {
                    match connect(addr).await {
                        Ok(s) => sender = s,
                        Err(e) => {
                            out.error(e);
                            break;
                        }
                    }
                }
            }
        }
    }
    out.latencies.sort_unstable();
    out
}

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------

/// One row of the summary table.
struct Row {
    name: &'static str,
    count: usize,
    per_sec: f64,
    unit: &'static str,
    /// p50, p90, p99, max in ms.
    latency: [f64; 4],
    errors: u64,
}

fn row(name: &'static str, unit: &'static str, out: &Outcome, seconds: f64) -> Row {
    Row {
        name,
        count: out.latencies.len(),
        per_sec: out.latencies.len() as f64 / seconds,
        unit,
        latency: [50.0, 90.0, 99.0, 100.0].map(|p| percentile_ms(&out.latencies, p)),
        errors: out.errors,
    }
}

fn report_load(
    title: &str,
    r: &Row,
    (out, cpu): (&Outcome, Duration),
    timing: &Timing,
    threads: usize,
) {
    let [p50, p90, p99, max] = r.latency;
    println!("\n== {title} ==");
    println!(
        "connections {CONNECTIONS}, client threads {threads}, warm-up {:.1} s, measured {:.1} s",
        timing.warmup.as_secs_f64(),
        timing.measure.as_secs_f64()
    );
    println!(
        "{:<11} {} (measured), errors {} (incl. warm-up)",
        r.unit, r.count, r.errors
    );
    if let Some(e) = &out.first_error {
        println!("first error {e}");
    }
    println!("throughput  {:.1} {}/s", r.per_sec, r.unit);
    println!("latency ms  p50 {p50:.3}  p90 {p90:.3}  p99 {p99:.3}  max {max:.3}");
    println!(
        "cpu         {:.1} µs per {} (server, user + system, {:.2} s over {:.1} s)",
        cpu.as_secs_f64() * 1e6 / r.count.max(1) as f64,
        r.unit.trim_end_matches('s'),
        cpu.as_secs_f64(),
        timing.measure.as_secs_f64()
    );
}

fn report_logins(r: &Row, out: &Outcome) {
    let [p50, _, _, max] = r.latency;
    let min = out
        .latencies
        .first()
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
    println!("\n== POST /login (Argon2id), sequential, one connection ==");
    println!("sign-ins    {} timed, errors {}", r.count, r.errors);
    if let Some(e) = &out.first_error {
        println!("first error {e}");
    }
    println!(
        "latency ms  median {p50:.1}  min {min:.1}  max {max:.1}  (deliberate cost, no target)"
    );
}

fn summary(rows: &[Row]) {
    println!("\n== summary ==");
    println!(
        "{:<34} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "phase", "count", "per s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"
    );
    for r in rows {
        let [p50, p90, p99, max] = r.latency;
        println!(
            "{:<34} {:>8} {:>10.1} {p50:>9.3} {p90:>9.3} {p99:>9.3} {max:>9.3} {:>7}",
            r.name, r.count, r.per_sec, r.errors
        );
    }
}

fn timing() -> Timing {
    let smoke = smoke();
    let seconds: f64 = env_or("KEYFLOW_BENCH_SECONDS", if smoke { 1.0 } else { 10.0 });
    assert!(
        seconds.is_finite() && seconds > 0.0,
        "KEYFLOW_BENCH_SECONDS must be positive, got {seconds}"
    );
    Timing {
        warmup: Duration::from_secs(if smoke { 0 } else { 2 }),
        measure: Duration::from_secs_f64(seconds),
    }
}

fn main() -> ExitCode {
    let timing = timing();
    let logins: usize = env_or("KEYFLOW_BENCH_LOGINS", if smoke() { 3 } else { 20 });
    let threads: usize = env_or("KEYFLOW_BENCH_CLIENT_THREADS", 1);
    assert!(
        threads >= 1,
        "KEYFLOW_BENCH_CLIENT_THREADS must be at least 1"
    );
    if smoke() {
        println!("smoke pass (no --bench flag, unoptimised build): figures are not representative");
    }
    let dir = common::bench_dir();
    let client = cli_setup(dir.path());
    let mut server = Server::start(dir);
    let pid = server.child.id();
    let addr = server.addr;
    println!("keyflow serve (pid {pid}) on http://{addr}");
    let runtime = load_runtime(threads);

    let cookies = runtime
        .block_on(sign_in_and_consent(addr, &client))
        .unwrap_or_else(|e| panic!("signing in and consenting failed: {e}\n{}", server.log()));
    let chains = runtime
        .block_on(refresh_chains(addr, &client, &cookies, CONNECTIONS))
        .unwrap_or_else(|e| panic!("starting the refresh-token chains failed: {e}"));
    println!(
        "signed in, consent remembered, {} refresh-token chains",
        chains.len()
    );

    let seconds = timing.measure.as_secs_f64();
    let (refresh, refresh_cpu) =
        runtime.block_on(refresh_phase(addr, pid, &client, chains, &timing));
    let refresh_row = row("refresh_token rotation", "rotations", &refresh, seconds);
    report_load(
        "POST /oauth/token, grant_type=refresh_token (rotation)",
        &refresh_row,
        (&refresh, refresh_cpu),
        &timing,
        threads,
    );

    let (flows, flows_cpu) =
        runtime.block_on(code_flow_phase(addr, pid, &client, &cookies, &timing));
    let flows_row = row(
        "code flow (authorize 303 + token)",
        "flows",
        &flows,
        seconds,
    );
    report_load(
        "GET /oauth/authorize (remembered consent) + POST /oauth/token, authorization_code",
        &flows_row,
        (&flows, flows_cpu),
        &timing,
        threads,
    );
    println!(
        "requests    {:.1} /s (two per flow)",
        2.0 * flows_row.per_sec
    );

    let login = runtime.block_on(login_phase(addr, logins));
    let login_seconds: f64 = login.latencies.iter().map(Duration::as_secs_f64).sum();
    let login_row = row(
        "password login (sequential)",
        "sign-ins",
        &login,
        login_seconds,
    );
    report_logins(&login_row, &login);

    let rows = [refresh_row, flows_row, login_row];
    summary(&rows);
    server.report_and_stop();
    let errors: u64 = rows.iter().map(|r| r.errors).sum();
    if errors > 0 {
        eprintln!("{errors} requests failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
