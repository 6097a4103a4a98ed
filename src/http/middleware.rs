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

/// The request span layer: the request's work, from the layers inside it
/// to the handler, runs in [`request_span`], and an answer in the 5xx range
/// is logged as an error with its latency (at `debug`, every request's
/// start and finish too, with the same messages as tower-http's
/// `TraceLayer`). In place of `TraceLayer`, whose default callbacks read
/// the clock six times a request, wrap the response body, and enter the
/// span again around each of its frames; keyflow's answers are whole
/// bodies, in which nothing is logged.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestSpanLayer;

impl<S> tower::Layer<S> for RequestSpanLayer {
    type Service = RequestSpan<S>;

    fn layer(&self, inner: S) -> RequestSpan<S> {
        RequestSpan { inner }
    }
}

#[derive(Clone)]
pub struct RequestSpan<S> {
    inner: S,
}

impl<S, B> tower::Service<Request> for RequestSpan<S>
where
    S: tower::Service<Request, Response = axum::http::Response<B>>,
{
    type Response = axum::http::Response<B>;
    type Error = S::Error;
    type Future = SpannedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let span = request_span(&req);
        let inner = {
            let _entered = span.enter();
            tracing::debug!("started processing request");
            self.inner.call(req)
        };
        SpannedFuture {
            inner,
            span,
            started: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct SpannedFuture<F> {
        #[pin]
        inner: F,
        span: tracing::Span,
        started: Instant,
    }
}

impl<F, B, E> Future for SpannedFuture<F>
where
    F: Future<Output = Result<axum::http::Response<B>, E>>,
{
    type Output = Result<axum::http::Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Ok(res) = &result {
            let status = res.status();
            if status.is_server_error() {
                tracing::error!(
                    status = status.as_u16(),
                    latency_ms = this.started.elapsed().as_millis() as u64,
                    "response failed"
                );
            } else {
                // Fields are evaluated only when debug is enabled: no clock
                // read at `info`.
                tracing::debug!(
                    status = status.as_u16(),
                    latency_ms = this.started.elapsed().as_millis() as u64,
                    "finished processing request"
                );
            }
        }
        Poll::Ready(result)
    }
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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::{Layer as _, ServiceExt as _};

    use super::*;
    use crate::testing::LogCapture;

    /// What one request through the span layer logs at `filter`, when the
    /// service inside logs a line and answers `status`.
    async fn logged(filter: &str, status: StatusCode) -> String {
        let capture = LogCapture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_env_filter(filter)
            .fmt_fields(crate::logging::LogFields)
            .with_writer(capture.writer())
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let inner = tower::service_fn(move |_req: Request| async move {
            tokio::task::yield_now().await;
            tracing::info!("inside the handler");
            Ok::<_, std::convert::Infallible>(status.into_response())
        });
        let req = Request::post("/oauth/token")
            .header("x-request-id", "req-1")
            .body(Body::empty())
            .unwrap();
        let res = RequestSpanLayer.layer(inner).oneshot(req).await.unwrap();
        assert_eq!(res.status(), status);
        capture.text()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_handler_logs_in_the_request_span_and_a_5xx_answer_is_an_error() {
        let ok = logged("info", StatusCode::OK).await;
        let lines: Vec<&str> = ok.lines().collect();
        assert_eq!(lines.len(), 1, "{ok}");
        assert!(
            lines[0].contains("request{request_id=req-1 method=POST path=/oauth/token}"),
            "{ok}"
        );
        assert!(lines[0].ends_with("inside the handler"), "{ok}");

        let failed = logged("info", StatusCode::SERVICE_UNAVAILABLE).await;
        let last = failed.lines().last().unwrap();
        assert!(last.contains("ERROR request{request_id=req-1"), "{failed}");
        assert!(
            last.contains("response failed status=503 latency_ms="),
            "{failed}"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn at_debug_every_request_logs_its_start_and_finish() {
        let text = logged("debug", StatusCode::OK).await;
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].ends_with("started processing request"), "{text}");
        assert!(
            lines[2].contains("finished processing request status=200 latency_ms="),
            "{text}"
        );
        assert!(
            lines.iter().all(|l| l.contains("request_id=req-1")),
            "{text}"
        );
    }
}
