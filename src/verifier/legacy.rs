//! The legacy `appkey` path, for clients that predate OAuth: the
//! application key in an `appkey` header with the secret key in `secretkey`,
//! or, where an operator allowed it for a workspace, the application key
//! alone (weaker: the key is an identifier, not a secret).

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;

use super::{CredentialKind, Principal};
use crate::domain::scope::{ScopeCatalogue, ScopeSet};
use crate::service::clients::{AuthError, ClientRegistry};
use crate::storage::ClientKind;

/// The texts of legacy error responses; operators may replace them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LegacyMessages {
    /// 412: no credential header at all.
    pub missing_credentials: String,
    /// 401: wrong, unknown or revoked credentials.
    pub invalid_credentials: String,
    /// 403: valid credentials without the needed scope.
    pub insufficient_scope: String,
}

impl Default for LegacyMessages {
    fn default() -> Self {
        Self {
            missing_credentials: "Missing credentials: send an appkey header (and secretkey) or an Authorization header"
                .into(),
            invalid_credentials: "Invalid appkey or secretkey".into(),
            insufficient_scope: "These credentials may not perform this operation".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LegacyFailure {
    #[error("invalid credentials")]
    Invalid,
    #[error("credential check unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait LegacyAuthenticator: Send + Sync + 'static {
    async fn authenticate(
        &self,
        appkey: &str,
        secretkey: Option<&str>,
    ) -> Result<Principal, LegacyFailure>;
}

/// Checks legacy credentials against keyflow's database, through the same
/// cached, lease-guarded registry as the token endpoint.
pub struct StoreLegacyAuthenticator {
    registry: Arc<ClientRegistry>,
    full: ScopeSet,
    read_only: ScopeSet,
}

impl StoreLegacyAuthenticator {
    /// An application key with its secret gets every scope an application
    /// token may request; the key alone only the `…:read` ones.
    pub fn new(registry: Arc<ClientRegistry>, scopes: &ScopeCatalogue) -> Self {
        let full = scopes.application_scopes();
        let read_only = ScopeSet::from_iter(
            full.iter()
                .filter(|s| s.ends_with(":read"))
                .map(str::to_owned),
        );
        Self {
            registry,
            full,
            read_only,
        }
    }
}

#[async_trait]
impl LegacyAuthenticator for StoreLegacyAuthenticator {
    async fn authenticate(
        &self,
        appkey: &str,
        secretkey: Option<&str>,
    ) -> Result<Principal, LegacyFailure> {
        let failure = |e: AuthError| match e {
            AuthError::Storage(e) => LegacyFailure::Unavailable(e.to_string()),
            _ => LegacyFailure::Invalid,
        };
        let (entry, kind, scopes, expires_at) = match secretkey {
            Some(secret) => {
                let c = self
                    .registry
                    .authenticate(appkey, secret)
                    .await
                    .map_err(failure)?;
                let expires_at = c.secret_expires_at();
                let full = self.full.clone();
                (c.entry, CredentialKind::AppKeyAndSecret, full, expires_at)
            }
            None => {
                let entry = self.registry.find(appkey).await.map_err(failure)?;
                if !entry.allow_appkey_only {
                    return Err(LegacyFailure::Invalid);
                }
                let read_only = self.read_only.clone();
                (entry, CredentialKind::AppKeyOnly, read_only, None)
            }
        };
        if entry.client.kind != ClientKind::Application {
            return Err(LegacyFailure::Invalid);
        }
        Ok(Principal {
            subject: entry.client.client_id.clone(),
            client_id: entry.client.client_id.clone(),
            workspace_id: entry.client.workspace_id.clone(),
            user_id: None,
            scopes,
            kind,
            jti: None,
            // When the matched secret's grace period ends: a cache of this
            // answer must not outlive it.
            expires_at,
            issued_at: None,
            legacy_messages: None,
            refusals: None,
            rate_limit: None,
        })
    }
}
