//! Request-wide middleware: the request span, metrics, and the HTTPS rule.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::OPERATIONAL_PATHS;
use super::error::OAuthError;
use crate::app::App;
use crate::http::untrusted::Untrusted;
use crate::metrics::Endpoint;

/// Every log line of a request carries its id (`x-request-id`, generated
/// when the client sent none).
pub fn request_span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    // The request id and path come from the client.
    tracing::info_span!(
        "request",
        request_id = %Untrusted(id),
        method = %req.method(),
        path = %Untrusted(loggable_path(req.uri().path()))
    )
}

/// Invitation links carry their one-time token in the path; it never
/// reaches a log line.
fn loggable_path(path: &str) -> &str {
    if path.starts_with("/invitations/") {
        crate::http::console::INVITATION_PATH
    } else {
        path
    }
}

/// The metrics layer: each request's route template, method, status and
/// latency. A tower layer of its own rather than `from_fn`, which clones
/// the inner service and boxes it and its future on every request.
#[derive(Clone)]
pub struct Track {
    tracker: Arc<Tracker>,
}

struct Tracker {
    app: Arc<App>,
    /// Every route template of the router, the bounded set of `endpoint`
    /// labels, sorted by template.
    endpoints: Box<[Endpoint]>,
    unmatched: Endpoint,
}

impl Track {
    pub fn new(app: Arc<App>, mut templates: Vec<&'static str>) -> Self {
        templates.sort_unstable();
        templates.dedup();
        let endpoints = templates.into_iter().map(Endpoint::new).collect();
        Self {
            tracker: Arc::new(Tracker {
                app,
                endpoints,
                unmatched: Endpoint::new("unmatched"),
            }),
        }
    }
}

impl Tracker {
    /// The index of the request's route template; `None` for a request
    /// no route matched, the only one without a template of the table.
    fn endpoint(&self, req: &Request) -> Option<usize> {
        let template = req.extensions().get::<MatchedPath>()?.as_str();
        self.endpoints
            .binary_search_by(|e| e.name().cmp(template))
            .ok()
    }
}

impl<S> tower::Layer<S> for Track {
    type Service = Tracked<S>;

    fn layer(&self, inner: S) -> Tracked<S> {
        Tracked {
            inner,
            tracker: Arc::clone(&self.tracker),
        }
    }
}

#[derive(Clone)]
pub struct Tracked<S> {
    inner: S,
    tracker: Arc<Tracker>,
}

impl<S> tower::Service<Request> for Tracked<S>
where
    S: tower::Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = TrackedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let endpoint = self.tracker.endpoint(&req);
        let method = method_label(req.method());
        TrackedFuture {
            inner: self.inner.call(req),
            tracker: Arc::clone(&self.tracker),
            endpoint,
            method,
            started: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct TrackedFuture<F> {
        #[pin]
        inner: F,
        tracker: Arc<Tracker>,
        endpoint: Option<usize>,
        method: &'static str,
        started: Instant,
    }
}

impl<F, E> Future for TrackedFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Ok(res) = &result {
            let tracker = &**this.tracker;
            let endpoint = this
                .endpoint
                .map_or(&tracker.unmatched, |i| &tracker.endpoints[i]);
            tracker.app.metrics.observe_request(
                endpoint,
                this.method,
                res.status().as_u16(),
                this.started.elapsed().as_secs_f64(),
            );
        }
        Poll::Ready(result)
    }
}

fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// With an https issuer and no TLS of its own, keyflow sits behind a
/// TLS-terminating proxy: a request is served only if a trusted proxy says
/// it arrived over HTTPS (RFC 6749 §3.2, RFC 9700 §2.6).
pub async fn require_https(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if OPERATIONAL_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let trusted = peer.is_some_and(|ip| {
        app.settings
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&ip))
    });
    let forwarded_https = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    if trusted && forwarded_https {
        return next.run(req).await;
    }
    OAuthError::invalid_request(
        "HTTPS is required: send this request over https:// (plain HTTP is accepted only from a trusted proxy that sets X-Forwarded-Proto: https)",
    )
    .with_status(StatusCode::FORBIDDEN)
    .into_response()
}
