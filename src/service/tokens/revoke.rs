//! Token revocation (RFC 7009) and the revocation list offline verifiers
//! poll.

use std::sync::Arc;

use super::Tokens;
use crate::app::StoreRevocations;
use crate::domain::audit::{Actor, AuditContext, AuditEvent, Origin};
use crate::service::clients::AuthenticatedClient;
use crate::service::{During, StoreFailure};
use crate::verifier::{Principal, RevocationDocument};

#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// RFC 7009 §2.1: a client may revoke only the tokens issued to it.
    #[error("the token was not issued to this client")]
    NotIssuedToCaller,
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

impl Tokens<'_> {
    /// Revokes an access token, or the grant of a refresh token. A token
    /// that is unknown, expired or already revoked is no error (§2.2).
    pub async fn revoke(
        &self,
        caller: &AuthenticatedClient,
        token: &str,
        origin: Origin,
    ) -> Result<(), RevokeError> {
        let caller = &caller.record().client_id;
        match self.app.verifier.verify_access_token(token).await {
            Ok(principal) => self.revoke_access_token(caller, &principal, origin).await,
            Err(_) => self.revoke_refresh_token(caller, token, origin).await,
        }
    }

    async fn revoke_access_token(
        &self,
        caller: &str,
        principal: &Principal,
        origin: Origin,
    ) -> Result<(), RevokeError> {
        if principal.client_id != caller {
            return Err(RevokeError::NotIssuedToCaller);
        }
        let (Some(jti), Some(exp)) = (&principal.jti, principal.expires_at) else {
            return Ok(());
        };
        let ctx = AuditContext {
            actor: Actor::client(&principal.client_id),
            origin,
        };
        let mut audit = ctx
            .entry(AuditEvent::TokenRevoked, self.app.clock.now())
            .details(serde_json::json!({"jti": jti, "clientId": principal.client_id}));
        audit.workspace_id = principal.workspace_id.clone();
        self.app
            .store
            .revoke_token(jti, &principal.client_id, exp, &audit)
            .await
            .during("revoke the access token")?;
        self.app.reload_revocations().await;
        Ok(())
    }

    /// §2.1: revoking a refresh token also revokes the access tokens of the
    /// same grant; keyflow revokes the grant's whole family.
    async fn revoke_refresh_token(
        &self,
        caller: &str,
        token: &str,
        origin: Origin,
    ) -> Result<(), RevokeError> {
        let hash = self.app.clients.hasher().hash_str(token);
        let found = self
            .app
            .store
            .refresh_token(&hash)
            .await
            .during("read the refresh token")?;
        let Some(rt) = found.filter(|rt| rt.revoked_at.is_none()) else {
            return Ok(());
        };
        if rt.client_id != caller {
            return Err(RevokeError::NotIssuedToCaller);
        }
        let audit = AuditContext {
            actor: Actor::client(caller),
            origin,
        }
        .entry(AuditEvent::TokenRevoked, self.app.clock.now())
        .workspace(&rt.workspace_id)
        .details(serde_json::json!({"refreshTokenFamily": rt.family_id, "clientId": caller}));
        self.app
            .store
            .revoke_family(&rt.family_id, self.app.clock.now(), &audit)
            .await
            .during("revoke the refresh token's grant")?;
        self.app.reload_revocations().await;
        Ok(())
    }

    /// What offline verifiers must refuse although the signature is good.
    pub async fn revocation_document(&self) -> Result<RevocationDocument, StoreFailure> {
        let source = StoreRevocations {
            store: Arc::clone(&self.app.store),
            clock: Arc::clone(&self.app.clock),
            window: self.app.settings.access_token_ttl,
        };
        source.document().await.during("read the revocation list")
    }
}
