//! The authenticated caller a handler receives, and how refusals after
//! authentication reach an API key's usage counts.

use std::sync::Arc;

use axum::http::StatusCode;

use super::{LegacyMessages, Rejection};
use crate::clock::UnixTime;
use crate::domain::scope::ScopeSet;
use crate::node::rate_limit::Limits;

/// How the caller proved itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A JWT access token (RFC 9068).
    AccessToken,
    /// Legacy `appkey` with `secretkey`.
    AppKeyAndSecret,
    /// Legacy `appkey` alone, where the workspace allows it.
    AppKeyOnly,
    /// A developer's API key, as a Bearer token.
    ApiKey,
}

/// Checks API keys presented as Bearer tokens.
#[async_trait::async_trait]
pub trait ApiKeyAuthenticator: Send + Sync + 'static {
    async fn authenticate(&self, key: &str) -> Result<Principal, Rejection>;

    /// A request with the key `subject` authenticated was then refused
    /// (for want of a scope, or by its rate limit), for usage analytics.
    fn refused(&self, _subject: &str, _outcome: crate::domain::usage::Outcome) {}
}

/// Where a principal's later refusals are counted: the authenticator of
/// the API key it stands for.
#[derive(Clone)]
pub struct RefusalReport(pub(super) Arc<dyn ApiKeyAuthenticator>);

impl std::fmt::Debug for RefusalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefusalReport")
    }
}

/// Two principals are the same credential whatever counts their refusals.
impl PartialEq for RefusalReport {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for RefusalReport {}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `sub`: the user, or the client itself for client_credentials.
    pub subject: String,
    pub client_id: String,
    pub workspace_id: Option<String>,
    /// The user, when a person authorized the token.
    pub user_id: Option<String>,
    pub scopes: ScopeSet,
    pub kind: CredentialKind,
    /// The token's `jti` and `exp`, for access tokens.
    pub jti: Option<String>,
    pub expires_at: Option<UnixTime>,
    pub issued_at: Option<UnixTime>,
    /// Set on the legacy path, so that scope failures answer in its shape.
    pub(crate) legacy_messages: Option<Arc<LegacyMessages>>,
    /// The credential's own rate limits (API keys), if it has any.
    pub rate_limit: Option<Arc<RateLimitBudget>>,
    /// Set for API keys, so that refusals after authentication count.
    pub refusals: Option<RefusalReport>,
}

/// Whose budget a request spends, and how large it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitBudget {
    pub bucket: String,
    pub limits: Limits,
}

impl Principal {
    /// Counts a refusal against the API key this principal stands for.
    pub(crate) fn report(&self, outcome: crate::domain::usage::Outcome) {
        if let Some(RefusalReport(sink)) = &self.refusals {
            sink.refused(&self.subject, outcome);
        }
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// 403 unless the credential carries `scope` (RFC 6750 §3.1
    /// `insufficient_scope`, or the legacy shape on the appkey path).
    pub fn require_scope(&self, scope: &str) -> Result<(), Rejection> {
        if self.has_scope(scope) {
            return Ok(());
        }
        self.report(crate::domain::usage::Outcome::InsufficientScope);
        Err(match &self.legacy_messages {
            Some(m) => Rejection::legacy(StatusCode::FORBIDDEN, m.insufficient_scope.clone()),
            None => Rejection::insufficient_scope(scope),
        })
    }
}
