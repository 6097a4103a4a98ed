//! Silent, slow and idle connections cannot lock real requests out: they
//! are timed out, and at the connection cap the longest-waiting one is
//! closed to make room. Also under a low open-file limit, as the hostile
//! review ran it.

mod common;

use std::time::{Duration, Instant};

use common::binary::{free_port, json_stdout, keyflow, serve_with, terminate};
use common::{MASTER, basic, http, metrics, workspace};
use keyflow::testing::{TestDb, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a closed connection may take to be seen closed here.
const SLACK: Duration = Duration::from_secs(3);

async fn open(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        conns.push(TcpStream::connect(addr).await.expect("connect"));
    }
    conns
}

/// Waits for the server to close `conn`: EOF or a reset, within `within`.
async fn closed_within(conn: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, conn.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // A response (for example 408) before the close.
            Ok(Ok(_)) => continue,
        }
    }
}

/// A connection that has had one request answered and is now idle.
async fn kept_alive(addr: std::net::SocketAddr) -> TcpStream {
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    kept
}

/// A token request and /healthz both answer within a second.
async fn still_serving(base: &str, app_key: &str, secret: &str) {
    let started = Instant::now();
    let health = http()
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .expect("/healthz answers");
    assert_eq!(health.status(), 200);
    let token = http()
        .post(format!("{base}/oauth/token"))
        .header("authorization", basic(app_key, secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .expect("the token endpoint answers");
    assert_eq!(token.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn twice_the_cap_of_silent_connections_leave_real_requests_served() {
    let db = TestDb::sqlite();
    let node = TestServer::start(
        &db.url,
        MASTER,
        &["--max-connections", "8", "--header-read-timeout", "2"],
    )
    .await;
    let ws = workspace(&node, "demo").await;
    let mut silent = open(node.addr, 16).await;
    still_serving(&node.url(""), &ws.application_key, ws.secret_key.expose()).await;
    // The oldest silent ones made room at once; the rest go at the
    // header-read timeout.
    let started = Instant::now();
    for (i, conn) in silent.iter_mut().enumerate() {
        assert!(
            closed_within(conn, Duration::from_secs(2) + SLACK).await,
            "silent connection {i} still open"
        );
    }
    assert!(started.elapsed() <= Duration::from_secs(2) + SLACK);
    let metrics = metrics(&node).await;
    assert!(
        metrics.contains("keyflow_connections_closed_by_server_total{reason=\"evicted\"}"),
        "{metrics}"
    );
    node.stop().await;
}

#[tokio::test]
async fn slow_headers_and_idle_keep_alives_are_closed_after_their_timeouts() {
    let db = TestDb::sqlite();
    let node = TestServer::start(
        &db.url,
        MASTER,
        &["--header-read-timeout", "1", "--idle-timeout", "3"],
    )
    .await;
    // Slowloris: half a request head, then nothing.
    let mut slow = TcpStream::connect(node.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(closed_within(&mut slow, Duration::from_secs(1) + SLACK).await);
    assert!(started.elapsed() >= Duration::from_millis(900));

    // Keep-alive: one request, then idle until the idle timeout, which is
    // longer than the header-read timeout.
    let mut kept = kept_alive(node.addr).await;
    let idle_since = Instant::now();
    assert!(closed_within(&mut kept, Duration::from_secs(3) + SLACK).await);
    assert!(
        idle_since.elapsed() >= Duration::from_millis(2900),
        "closed after {:?}, before the idle timeout",
        idle_since.elapsed()
    );

    // A busy connection is not cut: a request still in flight when the
    // timeouts pass gets its answer (a slow client sending its body).
    let ws = workspace(&node, "demo").await;
    let body = "grant_type=client_credentials";
    let auth = basic(&ws.application_key, ws.secret_key.expose());
    let mut slow_body = TcpStream::connect(node.addr).await.unwrap();
    slow_body
        .write_all(
            format!(
                "POST /oauth/token HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\ngrant_type=",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    slow_body
        .write_all(&body.as_bytes()["grant_type=".len()..])
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = slow_body.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    node.stop().await;
}

#[tokio::test]
async fn a_slow_request_head_after_a_keep_alive_gets_the_header_timeout() {
    let db = TestDb::sqlite();
    let node = TestServer::start(
        &db.url,
        MASTER,
        &["--header-read-timeout", "1", "--idle-timeout", "60"],
    )
    .await;
    let mut kept = kept_alive(node.addr).await;
    // Half of the next request head, then nothing: the header-read
    // timeout runs from this first byte, not the idle minute before it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(
        closed_within(&mut kept, Duration::from_secs(1) + SLACK).await,
        "a slow request head on a kept-alive connection was left open"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    node.stop().await;
}

#[tokio::test]
async fn under_a_low_open_file_limit_silent_connections_do_not_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("keyflow.db").display());
    let port = free_port();
    // 256 descriptors: the default cap is 192, and we open 400.
    let server = serve_with(dir.path(), &db, port, &[], Some(256)).await;
    let ws = json_stdout(&keyflow(
        dir.path(),
        &db,
        &["workspace", "create", "--name", "demo", "--json"],
    ));
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let _silent = open(addr, 400).await;
    still_serving(
        &format!("http://{addr}"),
        ws["applicationKey"].as_str().unwrap(),
        ws["secretKey"].as_str().unwrap(),
    )
    .await;
    let (ok, log) = terminate(server);
    assert!(ok, "{log}");
    assert!(!log.contains("Too many open files"), "{log}");
}
