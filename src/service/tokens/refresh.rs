//! Rotating a refresh token (RFC 6749 §6, RFC 9700 §4.14.2): the rules of
//! [`crate::domain::grants::refresh_token`] against the stored token, and
//! the token consumed in the transaction that records its successor.

use super::family::{Family, Replay};
use super::mint::UserGrant;
use super::{IssuedTokens, MintError, Tokens};
use crate::domain::grants::refresh_token::{
    HeldRefreshToken, RefreshRejection, RefreshTokenRequest, check, refreshed_scope,
    requested_scope, reuse_cutoff,
};
use crate::service::clients::AuthenticatedClient;
use crate::service::{During, StoreFailure};
use crate::storage::RefreshTokenRecord;

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Only third-party clients use the grant.
    #[error("this client may not use this grant type")]
    UnauthorizedClient,
    #[error(transparent)]
    Rejected(#[from] RefreshRejection),
    #[error(transparent)]
    Mint(#[from] MintError),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

impl Tokens<'_> {
    /// Trades a refresh token for new tokens and a successor. One presented
    /// again after the grace period revokes its whole grant.
    pub async fn rotate_refresh(
        &self,
        client: &AuthenticatedClient,
        request: RefreshTokenRequest,
    ) -> Result<IssuedTokens, RefreshError> {
        let oauth = self
            .third_party(client)
            .await?
            .ok_or(RefreshError::UnauthorizedClient)?;
        let hash = self.app.clients.hasher().hash_str(&request.refresh_token);
        let token = self
            .app
            .store
            .refresh_token(&hash)
            .await
            .during("read the refresh token")?
            .ok_or(RefreshRejection::Unknown)?;
        let now = self.app.clock.now();
        let grace = self.app.settings.auth.refresh_reuse_grace;
        if let Err(e) = check(&held(&token), &oauth.client_id, now, grace) {
            return Err(self.refused(&token, &oauth.client_id, e).await.into());
        }
        let granted = &token.scope;
        let requested = requested_scope(granted, request.scope)?;
        let (user, role) = self
            .person_and_role(&token.user_id, &token.workspace_id, &oauth.client_id)
            .await?;
        let role = role.ok_or(RefreshRejection::NotAMember)?;
        let user = user.ok_or(RefreshRejection::UserGone)?;
        let scope = refreshed_scope(&requested, role, &oauth.scopes)?;
        let grant = UserGrant {
            oauth: &oauth,
            family_id: &token.family_id,
            user: &user,
            workspace_id: &token.workspace_id,
            granted,
            scope: &scope,
            auth_time: token.auth_time,
            nonce: None,
            granted_resources: &token.resources,
            resources: &request.resources,
        };
        let (tokens, issuance) = self.mint(&grant)?;
        let rotated = self
            .app
            .store
            .rotate_refresh_token(&hash, now, reuse_cutoff(now, grace), &issuance)
            .await
            .during("rotate the refresh token")?;
        if !rotated {
            return Err(RefreshRejection::RotatedMeanwhile.into());
        }
        Ok(tokens)
    }

    /// Logs a stolen token and revokes the grant of a reused one.
    async fn refused(
        &self,
        token: &RefreshTokenRecord,
        presenter: &str,
        e: RefreshRejection,
    ) -> RefreshRejection {
        match e {
            RefreshRejection::OtherClient => {
                tracing::warn!(client_id = %presenter, "a client presented another client's refresh token");
            }
            RefreshRejection::Reused => {
                let family = Family {
                    family_id: &token.family_id,
                    client_id: &token.client_id,
                    workspace_id: &token.workspace_id,
                };
                self.revoke_replayed(family, Replay::RefreshToken).await;
            }
            _ => {}
        }
        e
    }
}

fn held(token: &RefreshTokenRecord) -> HeldRefreshToken<'_> {
    HeldRefreshToken {
        client_id: &token.client_id,
        expires_at: token.expires_at,
        rotated_at: token.rotated_at,
        revoked_at: token.revoked_at,
    }
}
