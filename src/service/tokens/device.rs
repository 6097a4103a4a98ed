//! Polling with a device code (RFC 8628 §3.4, §3.5): the rules of
//! [`crate::domain::grants::device_code`] against the stored
//! authorization; tokens once the person allowed it, issued in the
//! transaction that spends the device code.

use std::sync::Arc;

use super::mint::UserGrant;
use super::{IssuedTokens, MintError, Tokens};
use crate::domain::device_code::SLOW_DOWN_STEP;
use crate::domain::grants::authorization_code::CodeRejection;
use crate::domain::grants::device_code::{
    DeviceCodeRequest, IssuedDeviceCode, PollRejection, poll,
};
use crate::service::clients::AuthenticatedClient;
use crate::service::{During, StoreFailure};
use crate::storage::{DeviceCodeRecord, OAuthClientRecord};

#[derive(Debug, thiserror::Error)]
pub enum DevicePollError {
    /// Only third-party clients registered for the device grant use it
    /// (RFC 6749 §5.2 `unauthorized_client`).
    #[error("this client may not use the device authorization grant")]
    UnauthorizedClient,
    #[error(transparent)]
    Poll(#[from] PollRejection),
    /// The person left the workspace, lost the role, or was disabled
    /// between allowing and the poll: `invalid_grant`.
    #[error(transparent)]
    Grant(#[from] CodeRejection),
    #[error(transparent)]
    Mint(#[from] MintError),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

impl Tokens<'_> {
    /// The client's registration, if it may use the device grant.
    pub(crate) async fn device_client(
        &self,
        client: &AuthenticatedClient,
    ) -> Result<Option<Arc<OAuthClientRecord>>, StoreFailure> {
        Ok(self.third_party(client).await?.filter(|o| o.device_grant))
    }

    /// Answers one poll: an RFC 8628 §3.5 error while the person has not
    /// allowed it, the tokens once they have.
    pub async fn redeem_device_code(
        &self,
        client: &AuthenticatedClient,
        request: DeviceCodeRequest,
    ) -> Result<IssuedTokens, DevicePollError> {
        let oauth = self
            .device_client(client)
            .await?
            .ok_or(DevicePollError::UnauthorizedClient)?;
        let hash = self.app.clients.hasher().hash_str(&request.device_code);
        let code = self
            .app
            .store
            .device_code(&hash)
            .await
            .during("read the device code")?
            .ok_or(PollRejection::Unknown)?;
        let now = self.app.clock.now();
        self.judge_poll(&code, &oauth.client_id, now).await?;
        let approval = code.approval.as_ref().ok_or(PollRejection::Unknown)?;
        let (user, scope) = self
            .grantor::<DevicePollError>(
                &approval.user_id,
                &approval.workspace_id,
                &oauth.client_id,
                &approval.scope,
            )
            .await?;
        let grant = UserGrant {
            oauth: &oauth,
            family_id: &code.family_id,
            user: &user,
            workspace_id: &approval.workspace_id,
            granted: &scope,
            scope: &scope,
            auth_time: approval.auth_time,
            nonce: None,
            granted_resources: &code.resources,
            resources: &request.resources,
        };
        let (tokens, issuance) = self.mint(&grant)?;
        let redeemed = self
            .app
            .store
            .redeem_device_code(&hash, now, &issuance)
            .await
            .during("redeem the device code")?;
        // A concurrent poll redeemed it between our read and our write:
        // exactly one poll gets the tokens.
        if !redeemed {
            return Err(PollRejection::Redeemed.into());
        }
        Ok(tokens)
    }

    /// RFC 8628 §3.5 for one poll: `Ok` when the tokens may be issued.
    /// A pending code's poll is recorded, with the grown interval after a
    /// `slow_down`, so that the next poll is judged by it.
    async fn judge_poll(
        &self,
        code: &DeviceCodeRecord,
        client_id: &str,
        now: crate::clock::UnixTime,
    ) -> Result<(), DevicePollError> {
        let hash = &code.device_code_hash;
        let record = |interval| {
            self.app
                .store
                .record_device_poll(hash, code.last_polled_at, now, interval)
        };
        match poll(&issued(code), client_id, now) {
            Err(PollRejection::AuthorizationPending) => {
                let recorded = record(code.interval).await.during("record a device poll")?;
                // Another poll was recorded since this one read the code:
                // two polls at once are too fast.
                Err(if recorded {
                    PollRejection::AuthorizationPending
                } else {
                    PollRejection::SlowDown {
                        interval: code.interval + SLOW_DOWN_STEP,
                    }
                }
                .into())
            }
            Err(PollRejection::SlowDown { interval }) => {
                // The grown interval holds for every later poll.
                record(interval).await.during("record a device poll")?;
                Err(PollRejection::SlowDown { interval }.into())
            }
            other => Ok(other?),
        }
    }
}

fn issued(code: &DeviceCodeRecord) -> IssuedDeviceCode<'_> {
    IssuedDeviceCode {
        client_id: &code.client_id,
        state: code.state,
        expires_at: code.expires_at,
        interval: code.interval,
        last_polled_at: code.last_polled_at,
    }
}
