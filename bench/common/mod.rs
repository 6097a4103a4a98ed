//! What the load benchmarks share: the release server in a temp dir, the
//! CLI, a lean hyper client, percentiles and the server's memory.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::HeaderValue;
use hyper_util::rt::TokioIo;
use tempfile::TempDir;

pub const CONNECTIONS: usize = 16;

pub const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// The server drains in-flight requests for up to 30 s after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(35);

#[derive(Default)]
pub struct Outcome {
    pub latencies: Vec<Duration>,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Outcome {
    pub fn error(&mut self, message: String) {
        self.errors += 1;
        self.first_error.get_or_insert(message);
    }
}

/// The running server; stopping it (also on panic) removes the temp dir.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub dir: TempDir,
}

impl Server {
    pub fn start(dir: TempDir) -> Server {
        Self::start_with(dir, &[])
    }

    /// Starts `keyflow serve` with `extra` arguments after `serve`.
    pub fn start_with(dir: TempDir, extra: &[&str]) -> Server {
        let addr = free_port();
        let log = File::create(dir.path().join("server.log")).expect("creating server.log");
        let child = keyflow(dir.path())
            .args(["serve", "--listen", &addr.to_string()])
            .args(extra)
            .env("KEYFLOW_LOG", server_log_filter())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cloning the server.log handle"))
            .stderr(log)
            .spawn()
            .expect("spawning `keyflow serve`");
        let mut server = Server { child, addr, dir };
        server.wait_ready();
        server
    }

    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        while !healthz_ok(self.addr) {
            if let Some(status) = self.child.try_wait().expect("polling the server process") {
                panic!(
                    "keyflow serve exited with {status} before it was ready:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "/healthz not 200 within {READY_TIMEOUT:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Prints the server's memory, stops it, and shows its log if it wrote
    /// one: how every bench ends.
    pub fn report_and_stop(&mut self) {
        println!(
            "\nserver memory after the run: {}",
            memory_of(self.child.id())
        );
        match self.stop() {
            Some(status) => println!("server stopped: {status}"),
            None => println!("server stopped: exit status unknown"),
        }
        let log = self.log();
        if !log.trim().is_empty() {
            println!(
                "server log ({} lines):\n{}",
                log.lines().count(),
                log.lines().take(20).collect::<Vec<_>>().join("\n")
            );
        }
    }

    /// SIGTERM, then wait for the graceful shutdown; SIGKILL as a last resort.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let pid = self.child.id().to_string();
        let termed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + if termed { STOP_TIMEOUT } else { Duration::ZERO };
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("keyflow serve did not stop after SIGTERM; killing it");
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A new directory with a set-up database and master key (`keyflow
/// migrate`), ready for the CLI and the server.
pub fn bench_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("keyflow-bench-")
        .tempdir()
        .expect("creating a temp dir");
    let status = keyflow(dir.path())
        .arg("migrate")
        .stdout(Stdio::null())
        .status()
        .expect("running `keyflow migrate`");
    assert!(status.success(), "`keyflow migrate` failed: {status}");
    dir
}

/// A `keyflow` command on the bench's database and keys, with no inherited
/// `KEYFLOW_*` settings. `KEYFLOW_BENCH_BINARY` runs another build (to
/// compare two builds run by run).
pub fn keyflow(dir: &Path) -> Command {
    let binary = std::env::var_os("KEYFLOW_BENCH_BINARY")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_keyflow").into());
    let mut cmd = Command::new(binary);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KEYFLOW_") {
            cmd.env_remove(name);
        }
    }
    cmd.arg("--database-url")
        .arg(database_url(dir))
        .arg("--keys-dir")
        .arg(dir.join("keys"))
        .env("KEYFLOW_LOG", "warn")
        // One client drives all the load: lift its per-client token limit
        // so the limiter is exercised but never refuses.
        .env("KEYFLOW_TOKEN_RATE_LIMIT", "1000000000")
        // Likewise the one resource server that introspects.
        .env("KEYFLOW_INTROSPECTION_RATE_LIMIT", "1000000000");
    cmd
}

/// The server's log filter: `KEYFLOW_BENCH_LOG`, by default `info`, the
/// filter `keyflow serve` runs with unless told otherwise, so that request
/// spans cost what they cost in production.
fn server_log_filter() -> String {
    std::env::var("KEYFLOW_BENCH_LOG").unwrap_or_else(|_| "info".to_owned())
}

/// A fresh SQLite file in the bench's directory, or the database named by
/// `KEYFLOW_BENCH_DATABASE_URL` (an empty PostgreSQL database, for example
/// `createdb -h 127.0.0.1 -U postgres kfbench` and
/// `postgres://postgres@127.0.0.1/kfbench`).
pub fn database_url(dir: &Path) -> String {
    std::env::var("KEYFLOW_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.join("keyflow.db").display()))
}

pub fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    listener.local_addr().expect("reading the bound port")
}

pub fn healthz_ok(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut status_line = [0u8; 12];
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_exact(&mut status_line).is_ok()
        && &status_line == b"HTTP/1.1 200"
}

/// Labels an error for the report.
pub fn ctx<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> String {
    move |e| format!("{what}: {e}")
}

pub async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(ctx("connect"))?;
    stream.set_nodelay(true).map_err(ctx("TCP_NODELAY"))?;
    let io = TokioIo::new(stream);
    let (sender, conn) = http1::handshake(io).await.map_err(ctx("handshake"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Nearest-rank percentile of sorted samples, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

pub fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "MISS" }
}

pub fn memory_of(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map_or("unknown".to_owned(), |v| v.trim().to_owned())
    };
    format!("VmRSS {}, VmHWM {}", field("VmRSS:"), field("VmHWM:"))
}

pub fn env_or<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")),
        Err(_) => default,
    }
}

/// The load generator's runtime, with `threads` workers.
pub fn load_runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("building the load generator's runtime")
}

/// `cargo bench` passes `--bench`; `cargo test --all-targets` does not.
pub fn smoke() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

/// One keep-alive connection issuing `request` back to back until `end`;
/// latencies of requests started before `start` (the warm-up) are dropped.
/// A failed connection is reopened.
pub async fn drive<F>(addr: SocketAddr, start: Instant, end: Instant, mut request: F) -> Outcome
where
    F: AsyncFnMut(&mut SendRequest<Full<Bytes>>, &HeaderValue) -> Result<(), String>,
{
    let host = HeaderValue::from_str(&addr.to_string()).expect("a socket address is a valid Host");
    let mut out = Outcome {
        latencies: Vec::with_capacity(64 * 1024),
        ..Outcome::default()
    };
    let mut sender = None;
    while Instant::now() < end {
        if sender.is_none() {
            match connect(addr).await {
                Ok(conn) => sender = Some(conn),
                Err(e) => {
                    out.error(e);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let conn = sender.as_mut().expect("connected above");
        let t0 = Instant::now();
        match request(conn, &host).await {
            Ok(()) if t0 >= start => out.latencies.push(t0.elapsed()),
            Ok(()) => {}
            Err(e) => {
                out.error(e);
                if conn.is_closed() {
                    sender = None;
                }
            }
        }
    }
    out
}

/// The connections' outcomes as one, latencies sorted.
pub async fn merge(tasks: Vec<tokio::task::JoinHandle<Outcome>>) -> Outcome {
    let mut total = Outcome::default();
    for task in tasks {
        let out = task.await.expect("a load-generator task panicked");
        total.latencies.extend(out.latencies);
        total.errors += out.errors;
        total.first_error = total.first_error.or(out.first_error);
    }
    total.latencies.sort_unstable();
    total
}

/// Runs `keyflow <args> --json`, with `stdin` on standard input, and parses
/// the one JSON object it prints.
pub fn cli_json(dir: &Path, args: &[&str], stdin: Option<&str>) -> serde_json::Value {
    let shown = args.join(" ");
    let mut child = keyflow(dir)
        .args(args)
        .arg("--json")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("running `keyflow {shown}`: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        writeln!(pipe, "{input}").expect("writing to the CLI's stdin");
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for `keyflow {shown}`: {e}"));
    assert!(
        out.status.success(),
        "`keyflow {shown} --json` failed: {}",
        out.status
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "`keyflow {shown} --json` printed invalid JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A secret API key for `api:read` in the workspace, created with the CLI;
/// its JSON has the key once, under `key`.
pub fn secret_api_key(dir: &Path, workspace_id: &str) -> serde_json::Value {
    cli_json(
        dir,
        &[
            "apikey",
            "create",
            "--workspace",
            workspace_id,
            "--name",
            "bench",
            "--type",
            "secret",
            "--scope",
            "api:read",
        ],
        None,
    )
}

pub fn string_field(json: &serde_json::Value, name: &str) -> String {
    json[name]
        .as_str()
        .unwrap_or_else(|| panic!("CLI JSON has no string {name:?}: {json}"))
        .to_owned()
}

/// The CPU time (user + system, all threads) process `pid` has used so far,
/// from `/proc/<pid>/stat`; zero where that cannot be read.
pub fn cpu_time(pid: u32) -> Duration {
    let [user, system] = cpu_times(pid);
    user + system
}

/// What `read` reports (CPU times, for example `|| cpu_times(pid)`) spent
/// from `start` to `end`: a task reads at both instants and subtracts.
pub fn cpu_over<const N: usize>(
    start: Instant,
    end: Instant,
    read: impl Fn() -> [Duration; N] + Send + 'static,
) -> tokio::task::JoinHandle<[Duration; N]> {
    tokio::spawn(async move {
        tokio::time::sleep_until(start.into()).await;
        let before = read();
        tokio::time::sleep_until(end.into()).await;
        let after = read();
        std::array::from_fn(|i| after[i].saturating_sub(before[i]))
    })
}

/// User and system CPU time of process `pid` so far, apart: the kernel's
/// share of a request (socket writes, wakeups) next to keyflow's own.
pub fn cpu_times(pid: u32) -> [Duration; 2] {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    to_durations(user_system_ticks(&stat))
}

/// utime and stime, in clock ticks, from a `/proc/…/stat` line: fields 14
/// and 15, 12 and 13 after the command name's `)` (the name may hold
/// spaces); zero where the line cannot be read.
fn user_system_ticks(stat: &str) -> [u64; 2] {
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    [11, 12].map(|i| fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn to_durations(ticks: [u64; 2]) -> [Duration; 2] {
    // SAFETY: sysconf reads a configuration value and has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    ticks.map(|t| Duration::from_micros(t * 1_000_000 / per_second))
}

/// The CPU time (user + system) this process's threads whose name starts
/// with `prefix` have used so far, from `/proc/self/task/*/stat`: the cost
/// of a service the bench runs in its own process on its own named threads.
pub fn threads_cpu_time(prefix: &str) -> Duration {
    let [user, system] = threads_cpu_times(prefix);
    user + system
}

/// [`threads_cpu_time`], user and system apart.
pub fn threads_cpu_times(prefix: &str) -> [Duration; 2] {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return [Duration::ZERO; 2];
    };
    let mut ticks = [0u64; 2];
    for stat in tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
    {
        let named = stat
            .rsplit_once(')')
            .and_then(|(head, _)| head.split_once('('))
            .is_some_and(|(_, name)| name.starts_with(prefix));
        if named {
            let [user, system] = user_system_ticks(&stat);
            ticks[0] += user;
            ticks[1] += system;
        }
    }
    to_durations(ticks)
}
