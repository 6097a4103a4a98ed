//! RFC 6749 §5.2 errors: the one vocabulary of the OAuth endpoints. The
//! description is public; internal causes are logged where they happen and
//! never serialized.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::response::{Caching, json};
use crate::domain::grants::client_credentials::ClientCredentialsError;
use crate::domain::grants::device_code::PollRejection;
use crate::domain::grants::token_exchange::TokenExchangeError;
use crate::node::rate_limit::Decision;
use crate::service::StoreFailure;
use crate::service::device::StartError;
use crate::service::tokens::{
    ClientCredentialsFailure, DevicePollError, MintError, RedeemError, RefreshError, RevokeError,
    SigningFailed, TokenExchangeFailure,
};

/// What a client is told when the server cannot serve it.
const UNAVAILABLE: &str = "the server cannot serve this request right now; retry shortly";

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
    /// RFC 8628 §3.5: the person has not decided yet; poll again.
    AuthorizationPending,
    /// RFC 8628 §3.5: polling too fast; the interval grows by 5 s.
    SlowDown,
    /// RFC 8628 §3.5: the person denied the authorization.
    AccessDenied,
    /// RFC 8628 §3.5: the device code expired; start again.
    ExpiredToken,
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
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ExpiredToken => "expired_token",
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
        Self::new(ErrorCode::TemporarilyUnavailable, UNAVAILABLE)
    }
}

/// A storage failure: logged once with its operation, answered with 503,
/// its cause never sent.
impl From<StoreFailure> for OAuthError {
    fn from(f: StoreFailure) -> Self {
        f.log();
        Self::new(ErrorCode::TemporarilyUnavailable, UNAVAILABLE)
    }
}

impl From<SigningFailed> for OAuthError {
    fn from(e: SigningFailed) -> Self {
        tracing::error!(error = %e.0, "no signing key");
        Self::new(
            ErrorCode::ServerError,
            "the server cannot sign tokens right now",
        )
    }
}

impl From<MintError> for OAuthError {
    fn from(e: MintError) -> Self {
        match e {
            MintError::Resource(e) => Self::new(ErrorCode::InvalidTarget, e.to_string()),
            MintError::Signing(e) => e.into(),
        }
    }
}

/// Only third-party clients use the user grants.
fn not_for_this_client() -> OAuthError {
    OAuthError::new(
        ErrorCode::UnauthorizedClient,
        "this client may not use this grant type",
    )
}

impl From<RedeemError> for OAuthError {
    fn from(e: RedeemError) -> Self {
        match e {
            RedeemError::UnauthorizedClient => not_for_this_client(),
            RedeemError::Rejected(r) => Self::new(ErrorCode::InvalidGrant, r.to_string()),
            RedeemError::Mint(e) => e.into(),
            RedeemError::Store(f) => f.into(),
        }
    }
}

impl From<DevicePollError> for OAuthError {
    fn from(e: DevicePollError) -> Self {
        match e {
            DevicePollError::UnauthorizedClient => {
                Self::new(ErrorCode::UnauthorizedClient, e.to_string())
            }
            DevicePollError::Poll(p) => {
                // RFC 8628 §3.5, each a 400 like every RFC 6749 §5.2 error.
                let code = match p {
                    PollRejection::AuthorizationPending => ErrorCode::AuthorizationPending,
                    PollRejection::SlowDown { .. } => ErrorCode::SlowDown,
                    PollRejection::AccessDenied => ErrorCode::AccessDenied,
                    PollRejection::ExpiredToken => ErrorCode::ExpiredToken,
                    PollRejection::Unknown
                    | PollRejection::OtherClient
                    | PollRejection::Redeemed => ErrorCode::InvalidGrant,
                };
                Self::new(code, p.to_string())
            }
            DevicePollError::Grant(r) => Self::new(ErrorCode::InvalidGrant, r.to_string()),
            DevicePollError::Mint(e) => e.into(),
            DevicePollError::Store(f) => f.into(),
        }
    }
}

impl From<StartError> for OAuthError {
    fn from(e: StartError) -> Self {
        let code = match e {
            StartError::Store(f) => return f.into(),
            StartError::UnauthorizedClient => ErrorCode::UnauthorizedClient,
            StartError::InvalidScope(_) => ErrorCode::InvalidScope,
            StartError::InvalidTarget(_) => ErrorCode::InvalidTarget,
        };
        Self::new(code, e.to_string())
    }
}

impl From<RefreshError> for OAuthError {
    fn from(e: RefreshError) -> Self {
        match e {
            RefreshError::UnauthorizedClient => not_for_this_client(),
            RefreshError::Rejected(r) if r.is_scope() => {
                Self::new(ErrorCode::InvalidScope, r.to_string())
            }
            RefreshError::Rejected(r) => Self::new(ErrorCode::InvalidGrant, r.to_string()),
            RefreshError::Mint(e) => e.into(),
            RefreshError::Store(f) => f.into(),
        }
    }
}

impl From<ClientCredentialsFailure> for OAuthError {
    fn from(e: ClientCredentialsFailure) -> Self {
        match e {
            ClientCredentialsFailure::Rejected(e) => {
                let code = match e {
                    ClientCredentialsError::Scope(_) => ErrorCode::InvalidScope,
                    ClientCredentialsError::Resource(_) => ErrorCode::InvalidTarget,
                    ClientCredentialsError::UnauthorizedClient => ErrorCode::UnauthorizedClient,
                };
                Self::new(code, e.to_string())
            }
            ClientCredentialsFailure::RateLimited(d) => Self::rate_limited(d),
            ClientCredentialsFailure::Limiter(e) => Self::unavailable(&e),
            ClientCredentialsFailure::Signing(e) => e.into(),
        }
    }
}

impl From<TokenExchangeFailure> for OAuthError {
    fn from(e: TokenExchangeFailure) -> Self {
        match e {
            // RFC 8693 §2.2.2: an unacceptable subject_token is invalid_request.
            TokenExchangeFailure::Subject(_) => Self::invalid_request(e.to_string()),
            TokenExchangeFailure::RateLimited(d) => Self::rate_limited(d),
            TokenExchangeFailure::Limiter => {
                Self::new(ErrorCode::TemporarilyUnavailable, "retry shortly")
            }
            TokenExchangeFailure::Rejected(e) => {
                let code = match e {
                    TokenExchangeError::Scope(_) => ErrorCode::InvalidScope,
                    TokenExchangeError::Resource(_) => ErrorCode::InvalidTarget,
                };
                Self::new(code, e.to_string())
            }
            TokenExchangeFailure::Signing(e) => e.into(),
            TokenExchangeFailure::Store(f) => f.into(),
        }
    }
}

impl From<RevokeError> for OAuthError {
    fn from(e: RevokeError) -> Self {
        match e {
            RevokeError::NotIssuedToCaller => {
                Self::new(ErrorCode::UnauthorizedClient, e.to_string())
            }
            RevokeError::Store(f) => f.into(),
        }
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
