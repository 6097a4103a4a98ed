//! Redeeming an authorization code (RFC 6749 §4.1.3): the rules of
//! [`crate::domain::grants::authorization_code`] against the stored code,
//! and the code consumed in the transaction that records its tokens.

use super::family::{Family, Replay};
use super::mint::UserGrant;
use super::{IssuedTokens, MintError, Tokens};
use crate::domain::grants::authorization_code::{
    AuthorizationCodeRequest, CodeRejection, CodeStage, IssuedCode, check,
};
use crate::service::clients::AuthenticatedClient;
use crate::service::{During, StoreFailure};
use crate::storage::{AuthCodeRecord, CodeState};

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    /// Only third-party clients use the grant.
    #[error("this client may not use this grant type")]
    UnauthorizedClient,
    #[error(transparent)]
    Rejected(#[from] CodeRejection),
    #[error(transparent)]
    Mint(#[from] MintError),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

impl Tokens<'_> {
    /// Trades `request.code` for tokens. A code presented again revokes
    /// every token issued from it (RFC 6749 §4.1.2).
    pub async fn redeem_code(
        &self,
        client: &AuthenticatedClient,
        request: AuthorizationCodeRequest,
    ) -> Result<IssuedTokens, RedeemError> {
        let oauth = self
            .third_party(client)
            .await?
            .ok_or(RedeemError::UnauthorizedClient)?;
        let hash = self.app.clients.hasher().hash_str(&request.code);
        let code = self
            .app
            .store
            .auth_code(&hash)
            .await
            .during("read the authorization code")?
            .ok_or(CodeRejection::Unknown)?;
        let now = self.app.clock.now();
        if let Err(e) = check(&issued(&code), &oauth.client_id, &request, now) {
            return Err(self.rejected(&code, &oauth.client_id, e).await.into());
        }
        let (user, scope) = self
            .grantor::<RedeemError>(
                &code.user_id,
                &code.workspace_id,
                &code.client_id,
                &code.scope,
            )
            .await?;
        let grant = UserGrant {
            oauth: &oauth,
            family_id: &code.family_id,
            user: &user,
            workspace_id: &code.workspace_id,
            granted: &scope,
            scope: &scope,
            auth_time: code.auth_time,
            nonce: code.nonce.as_deref(),
            granted_resources: &code.resources,
            resources: &request.resources,
        };
        let (tokens, issuance) = self.mint(&grant)?;
        let redeemed = self
            .app
            .store
            .redeem_auth_code(&hash, now, &issuance)
            .await
            .during("redeem the authorization code")?;
        if !redeemed {
            // Another request redeemed it between our read and our write.
            let replayed = CodeRejection::Replayed;
            return Err(self
                .rejected(&code, &oauth.client_id, replayed)
                .await
                .into());
        }
        Ok(tokens)
    }

    /// Logs a stolen code and revokes the grant of a replayed one.
    async fn rejected(
        &self,
        code: &AuthCodeRecord,
        presenter: &str,
        e: CodeRejection,
    ) -> CodeRejection {
        match e {
            CodeRejection::OtherClient => {
                tracing::warn!(client_id = %presenter, "a client presented another client's code");
            }
            CodeRejection::Replayed => {
                let family = Family {
                    family_id: &code.family_id,
                    client_id: &code.client_id,
                    workspace_id: &code.workspace_id,
                };
                self.revoke_replayed(family, Replay::Code).await;
            }
            _ => {}
        }
        e
    }
}

fn issued(code: &AuthCodeRecord) -> IssuedCode<'_> {
    IssuedCode {
        client_id: &code.client_id,
        stage: match code.state {
            CodeState::Pending => CodeStage::Pending,
            CodeState::Exchanged => CodeStage::Exchanged,
            CodeState::Revoked => CodeStage::Revoked,
        },
        expires_at: code.expires_at,
        redirect_uri: &code.redirect_uri,
        code_challenge: &code.code_challenge,
    }
}
