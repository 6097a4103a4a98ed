//! Signing an access token with the configured algorithm's active key.

use super::{IssuedTokens, Tokens};
use crate::clock::UnixTime;
use crate::crypto::keyring::KeyringError;
use crate::domain::access_token::{Grant, IssuedAccessToken, issue};

/// No active key for the algorithm: the keyring is not ready.
#[derive(Debug, thiserror::Error)]
#[error("no signing key: {0}")]
pub struct SigningFailed(#[from] pub KeyringError);

impl Tokens<'_> {
    /// An RFC 9068 access token for `grant`, living `lifetime` seconds.
    pub(super) fn sign_access(
        &self,
        grant: &Grant,
        lifetime: i64,
        now: UnixTime,
    ) -> Result<IssuedAccessToken, SigningFailed> {
        let settings = &self.app.settings;
        let keyring = self.app.keyring.load();
        let key = keyring.active(settings.access_token_alg)?;
        Ok(issue(grant, key, &settings.issuer, lifetime, now))
    }

    /// The answer of a grant that issues an access token alone.
    pub(super) fn access_only(
        &self,
        grant: &Grant,
        lifetime: i64,
        issued_token_type: Option<&'static str>,
    ) -> Result<IssuedTokens, SigningFailed> {
        let access = self.sign_access(grant, lifetime, self.app.clock.now())?;
        Ok(IssuedTokens {
            access_token: access.token,
            expires_in: access.expires_in,
            scope: grant.scope.to_string(),
            issued_token_type,
            refresh_token: None,
            id_token: None,
            rate_limit: None,
        })
    }
}
