//! Request-wide middleware: the request span, metrics, and the HTTPS rule.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::OPERATIONAL_PATHS;
use super::error::OAuthError;
use crate::app::App;
use crate::http::untrusted::Untrusted;
use crate::metrics::RequestLabels;

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

/// What [`track`] needs: the app for its metrics, and every route template
/// of the router, the bounded set of `endpoint` labels.
#[derive(Clone)]
pub struct Tracker {
    app: Arc<App>,
    endpoints: Arc<[&'static str]>,
}

impl Tracker {
    pub fn new(app: Arc<App>, endpoints: Vec<&'static str>) -> Self {
        Self {
            app,
            endpoints: endpoints.into(),
        }
    }
}

pub async fn track(State(tracker): State<Tracker>, req: Request, next: Next) -> Response {
    // Only a request no route matched lacks a template of the table.
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| tracker.endpoints.iter().copied().find(|r| *r == p.as_str()))
        .unwrap_or("unmatched");
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.run(req).await;
    tracker.app.metrics.observe_request(
        RequestLabels {
            endpoint,
            method,
            status: res.status().as_u16(),
        },
        started.elapsed().as_secs_f64(),
    );
    res
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
