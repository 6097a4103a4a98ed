//! Serving the router over plain HTTP or TLS: an accept loop that bounds
//! what connections may hold (see `connections.rs`), and graceful shutdown.

mod connections;
mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::app::App;
use crate::http::router;
use crate::metrics::Metrics;
use connections::{Admitted, Registry, TrackedIo};

/// How long in-flight requests may take to finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(30);
/// The longest pause after failed accepts (for example at the descriptor
/// limit), so that the loop neither spins nor stalls for long.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// What every connection task shares.
struct Shared {
    router: crate::http::Service,
    registry: Arc<Registry>,
    builder: auto::Builder<TokioExecutor>,
    tls: Option<TlsAcceptor>,
    app: Arc<App>,
    stopping: watch::Receiver<bool>,
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop, stopping) = watch::channel(false);
    let shared = Arc::new(Shared::new(app, stopping)?);
    tokio::pin!(shutdown);
    let mut backoff = Duration::ZERO;
    loop {
        let accepted = tokio::select! {
            a = async {
                shared.registry.wait_for_room().await;
                listener.accept().await
            } => a,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => {
                backoff = Duration::ZERO;
                a
            }
            Err(e) => {
                backoff = (backoff * 2).clamp(Duration::from_millis(5), MAX_ACCEPT_BACKOFF);
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "accepting a connection failed");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => continue,
                    () = &mut shutdown => break,
                }
            }
        };
        let Ok(admitted) = shared.registry.admit() else {
            // Every connection is answering a request: refuse this one
            // rather than exceed the descriptors kept for the database.
            shared.app.metrics.connection_closed_by_server("refused");
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(Arc::clone(&shared), stream, peer, admitted));
    }
    drop(listener);
    let _ = stop.send(true);
    drain(&shared).await;
    Ok(())
}

/// Waits up to [`DRAIN`] for open connections to finish their requests.
async fn drain(shared: &Shared) {
    if tokio::time::timeout(DRAIN, shared.registry.wait_until_empty())
        .await
        .is_err()
    {
        tracing::warn!(
            open = shared.registry.len(),
            "connections still open after the drain period; closing them"
        );
    }
}

impl Shared {
    fn new(app: Arc<App>, stopping: watch::Receiver<bool>) -> anyhow::Result<Self> {
        let tls = match &app.settings.tls {
            Some(files) => Some(tls::acceptor(files)?),
            None => None,
        };
        let limits = app.settings.connections;
        tracing::debug!(
            max_connections = limits.max_connections,
            header_read_timeout_s = limits.header_read_timeout.as_secs(),
            idle_timeout_s = limits.idle_timeout.as_secs(),
            "connection limits"
        );
        Ok(Self {
            router: router(Arc::clone(&app)),
            registry: Registry::new(limits),
            builder: auto::Builder::new(TokioExecutor::new()),
            tls,
            app,
            stopping,
        })
    }
}

/// One client connection, from the TLS handshake (when keyflow terminates
/// TLS) to its close.
async fn connection(shared: Arc<Shared>, stream: TcpStream, peer: SocketAddr, admitted: Admitted) {
    let metrics: &Metrics = &shared.app.metrics;
    metrics.connection_opened();
    let conn = Arc::clone(&admitted.conn);
    let limits = *shared.registry.limits();
    let io = TrackedIo::new(stream, Arc::clone(&conn));
    let closed = match &shared.tls {
        None => serve_http(&shared, io, peer, &admitted).await,
        Some(acceptor) => {
            // The handshake counts against the header-read timeout.
            let handshake = tokio::select! {
                h = acceptor.accept(io) => h.map_err(|e| tracing::debug!(error = %e, "TLS handshake failed")).ok(),
                why = conn.must_close(&limits) => {
                    metrics.connection_closed_by_server(why.label());
                    None
                }
            };
            match handshake {
                Some(tls) => serve_http(&shared, tls, peer, &admitted).await,
                None => None,
            }
        }
    };
    if let Some(why) = closed {
        metrics.connection_closed_by_server(why.label());
    }
    metrics.connection_ended();
    drop(admitted);
}

/// Serves HTTP on `io` until the peer closes, a timeout or eviction closes
/// it (returned), or shutdown has drained it.
async fn serve_http<I>(
    shared: &Shared,
    io: I,
    peer: SocketAddr,
    admitted: &Admitted,
) -> Option<connections::Closed>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let conn = Arc::clone(&admitted.conn);
    let router = shared.router.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let guard = conn.begin_request();
        let answer = router.clone().oneshot(req.map(axum::body::Body::new));
        async move {
            let res = answer.await;
            drop(guard);
            res
        }
    });
    let served = shared.builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(served);
    let limits = *shared.registry.limits();
    let mut stopping = shared.stopping.clone();
    let mut draining = *stopping.borrow();
    if draining {
        served.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            r = served.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return None;
            }
            // Nothing is in flight: dropping the connection closes it.
            why = admitted.conn.must_close(&limits) => return Some(why),
            changed = stopping.changed(), if !draining => {
                draining = true;
                if changed.is_ok() {
                    served.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

/// Runs a node: background sync, the server, and a final flush of batched
/// counters once the last request is done.
pub async fn run(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let mut tasks = app.spawn_background(stopped.clone());
    tasks.extend(crate::service::notify::spawn_rotation_notices(
        Arc::clone(&app),
        stopped,
    ));
    let result = serve(Arc::clone(&app), listener, shutdown).await;
    let _ = stop.send(true);
    for t in tasks {
        let _ = t.await;
    }
    result
}
