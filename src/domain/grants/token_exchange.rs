//! Token exchange (RFC 8693) of an API key for a short-lived access token
//! with equal or narrower scope.

use crate::clock::UnixTime;
use crate::domain::access_token::Grant;
use crate::domain::api_key_record::ApiKeyRecord;
use crate::domain::resource::{ResourceError, ResourcePolicy};
use crate::domain::scope::{ScopeError, ScopeSet};

/// The `subject_token_type` that names a keyflow API key.
pub const API_KEY_TOKEN_TYPE: &str = "urn:keyflow:params:oauth:token-type:api_key";
/// RFC 8693 §3: what is issued.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Exchanged tokens live at most this long, and never past the key.
pub const MAX_LIFETIME: i64 = 900;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenExchangeError {
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Resource(#[from] ResourceError),
}

/// What the exchanged token may do, and for how long.
pub fn decide(
    key: &ApiKeyRecord,
    requested: Option<ScopeSet>,
    resources: &[String],
    policy: &ResourcePolicy,
    ttl: i64,
    now: UnixTime,
) -> Result<(Grant, i64), TokenExchangeError> {
    let held = &key.scopes;
    let scope = match requested {
        Some(r) => {
            if let Some(extra) = r.iter().find(|s| !held.contains(s)) {
                return Err(ScopeError::NotAllowed(extra.to_owned()).into());
            }
            r
        }
        None => held.clone(),
    };
    let lifetime = ttl
        .min(MAX_LIFETIME)
        .min(key.expires_at.map_or(i64::MAX, |e| e - now));
    Ok((
        Grant {
            subject: key.id.clone(),
            client_id: key.prefix.clone(),
            workspace_id: Some(key.workspace_id.clone()),
            scope,
            audience: policy.audience(resources)?,
        },
        lifetime,
    ))
}

/// The token request of the grant (RFC 8693 §2.1).
pub struct TokenExchangeRequest {
    /// The API key.
    pub subject_token: String,
    pub scope: Option<ScopeSet>,
    /// RFC 8707 §2.
    pub resources: Vec<String>,
}

impl std::fmt::Debug for TokenExchangeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenExchangeRequest")
            .field("subject_token", &crate::domain::secret::Redacted)
            .field("scope", &self.scope)
            .field("resources", &self.resources)
            .finish()
    }
}
