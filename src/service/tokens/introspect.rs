//! Token introspection (RFC 7662): which tokens a caller may learn about.

use super::Tokens;
use crate::domain::api_key::looks_like_api_key;
use crate::service::clients::AuthenticatedClient;
use crate::storage::{ClientKind, ClientRecord};
use crate::verifier::{CredentialKind, LegacyAuthenticator, LegacyFailure, Principal};

/// An active token the caller may see.
#[derive(Debug)]
pub struct Introspection {
    pub principal: Principal,
    /// `Bearer` for an access token, `api_key` for an API key,
    /// `appkey_secretkey` or `appkey_only` for the legacy headers.
    pub token_type: &'static str,
}

impl Tokens<'_> {
    /// `None` when the token is not active, or when the caller may not
    /// learn about it (RFC 7662 §4 reports both alike). API keys are
    /// answered too, so that services not written in Rust can check them.
    pub async fn introspect(
        &self,
        caller: &AuthenticatedClient,
        token: &str,
    ) -> Option<Introspection> {
        let app = self.app;
        let (verified, token_type) = if looks_like_api_key(token) {
            let key = app.api_keys.verify(token).await;
            (key.map(|k| app.api_keys.principal(&k)).ok(), "api_key")
        } else {
            let verified = app.introspection_verifier.verify_access_token(token).await;
            (verified.ok(), "Bearer")
        };
        let principal = verified.filter(|p| may_see(caller.record(), p))?;
        Some(Introspection {
            principal,
            token_type,
        })
    }
}

impl Tokens<'_> {
    /// A resource server's check of the legacy `appkey` (and `secretkey`)
    /// headers, answered like introspection (docs/resource-servers.md):
    /// `None` when the credentials are wrong or the caller is not a
    /// resource server. The principal's `expires_at` is when the matched
    /// secret's grace period ends, if it has one.
    pub async fn introspect_legacy(
        &self,
        caller: &AuthenticatedClient,
        appkey: &str,
        secretkey: Option<&str>,
    ) -> Result<Option<Introspection>, String> {
        if caller.record().kind != ClientKind::ResourceServer {
            return Ok(None);
        }
        match self.app.legacy.authenticate(appkey, secretkey).await {
            Ok(principal) => Ok(Some(Introspection {
                token_type: match principal.kind {
                    CredentialKind::AppKeyOnly => "appkey_only",
                    _ => "appkey_secretkey",
                },
                principal,
            })),
            Err(LegacyFailure::Invalid) => Ok(None),
            Err(LegacyFailure::Unavailable(e)) => Err(e),
        }
    }
}

/// A resource server may introspect any token; a workspace's application
/// only its own workspace's tokens; a third-party client only its own.
fn may_see(caller: &ClientRecord, p: &Principal) -> bool {
    match caller.kind {
        ClientKind::ResourceServer => true,
        ClientKind::Application => {
            caller.workspace_id.is_some() && caller.workspace_id == p.workspace_id
        }
        ClientKind::ThirdParty => caller.client_id == p.client_id,
    }
}
