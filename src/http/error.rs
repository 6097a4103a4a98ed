//! RFC 6749 §5.2 errors: the one vocabulary of the OAuth endpoints. The
//! description is public; internal causes are logged where they happen and
//! never serialized.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::response::{Caching, json};
use crate::node::rate_limit::Decision;

/// Error codes of RFC 6749 §5.2 and the extensions keyflow uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 8707 §2.
    InvalidTarget,
    ServerError,
    TemporarilyUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    fn default_status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

#[derive(Debug, Clone)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    pub status: StatusCode,
    /// Set when a rate limit refused the request: 429 with its headers.
    pub rate_limit: Option<Decision>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'static str,
    error_description: &'a str,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            status: code.default_status(),
            rate_limit: None,
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// 429: the client spent its rate limit. There is no RFC 6749 code for
    /// it; `temporarily_unavailable` tells clients to retry later.
    pub fn rate_limited(decision: Decision) -> Self {
        let mut e = Self::new(
            ErrorCode::TemporarilyUnavailable,
            format!(
                "the {} rate limit is spent; retry after {} s",
                decision.category.as_str(),
                decision.reset.max(1)
            ),
        )
        .with_status(StatusCode::TOO_MANY_REQUESTS);
        e.rate_limit = Some(decision);
        e
    }

    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }

    pub fn invalid_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }

    /// A storage failure: logged with its cause, answered with 503.
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "storage failure");
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "the server cannot serve this request right now; retry shortly",
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body {
            error: self.code.as_str(),
            error_description: &self.description,
        })
        .expect("error body serializes");
        let mut res = json(self.status, "application/json", Caching::NoStore, body);
        let h = res.headers_mut();
        match self.code {
            // RFC 6749 §5.2 and RFC 7235 §3.1: a 401 names the scheme to use.
            ErrorCode::InvalidClient => {
                h.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"keyflow\", charset=\"UTF-8\""),
                );
            }
            ErrorCode::TemporarilyUnavailable => match &self.rate_limit {
                Some(d) => d.write_headers(h),
                None => {
                    h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                }
            },
            _ => {}
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    #[tokio::test]
    async fn renders_rfc6749_json_with_no_store() {
        let res =
            OAuthError::new(ErrorCode::InvalidScope, "scope \"x\" is unknown").into_response();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        let body = to_bytes(res.into_body(), 1024).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error": "invalid_scope", "error_description": "scope \"x\" is unknown"})
        );
    }

    #[test]
    fn invalid_client_is_401_with_basic_challenge() {
        let res = OAuthError::invalid_client("x").into_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            res.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with("Basic ")
        );
    }
}
