//! Authorization codes and refresh tokens: issued, redeemed once, rotated, and
//! revoked by family.

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::domain::audit::AuditEntry;
use crate::domain::authorization_code::AuthCodeRecord;
use crate::domain::issuance::{Issuance, RefreshTokenRecord};
use crate::domain::secret::SecretHash;

use super::Result;

/// Whose user grants an action ends: every grant matching all the ids
/// given. At least one id is always given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grants<'a> {
    pub user_id: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub workspace_id: Option<&'a str>,
}

impl<'a> Grants<'a> {
    /// One user's consent to one client in one workspace.
    pub fn of(user_id: &'a str, client_id: &'a str, workspace_id: &'a str) -> Self {
        Self {
            user_id: Some(user_id),
            client_id: Some(client_id),
            workspace_id: Some(workspace_id),
        }
    }

    /// Everything a user granted, to any client in any workspace.
    pub fn user(user_id: &'a str) -> Self {
        Self {
            user_id: Some(user_id),
            client_id: None,
            workspace_id: None,
        }
    }

    /// Everything a user granted in one workspace.
    pub fn membership(user_id: &'a str, workspace_id: &'a str) -> Self {
        Self {
            user_id: Some(user_id),
            client_id: None,
            workspace_id: Some(workspace_id),
        }
    }

    /// Everything granted to one client.
    pub fn client(client_id: &'a str) -> Self {
        Self {
            user_id: None,
            client_id: Some(client_id),
            workspace_id: None,
        }
    }
}

#[async_trait]
pub trait GrantStore: Send + Sync {
    async fn insert_auth_code(&self, code: &AuthCodeRecord) -> Result<()>;

    /// The code in whatever state it is, expired or not.
    async fn auth_code(&self, code_hash: &SecretHash) -> Result<Option<AuthCodeRecord>>;

    /// Marks a pending, unexpired code exchanged and stores `issuance`, in
    /// one transaction. False (and nothing written) when the code was not
    /// pending or has expired, for example because a concurrent request
    /// redeemed it first.
    async fn redeem_auth_code(
        &self,
        code_hash: &SecretHash,
        now: UnixTime,
        issuance: &Issuance,
    ) -> Result<bool>;

    async fn refresh_token(&self, token_hash: &SecretHash) -> Result<Option<RefreshTokenRecord>>;

    /// Marks the token rotated (keeping the first rotation time) and stores
    /// `issuance`, in one transaction, if the token is unrevoked, unexpired
    /// at `now`, and either unrotated or rotated at or after
    /// `rotated_not_before` (the reuse grace period). False, with nothing
    /// written, otherwise.
    async fn rotate_refresh_token(
        &self,
        token_hash: &SecretHash,
        now: UnixTime,
        rotated_not_before: UnixTime,
        issuance: &Issuance,
    ) -> Result<bool>;

    /// Revokes every refresh token of the family and denylists its access
    /// tokens that are still unexpired, in one transaction; returns how
    /// many refresh tokens it revoked.
    async fn revoke_family(
        &self,
        family_id: &str,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<u64>;

    /// Forgets expired sessions, refresh tokens and issued-token records,
    /// and authorization and device codes an hour past expiry (so late
    /// replays are still caught)
    /// whose family has no unexpired access token left; returns how many
    /// rows went.
    async fn purge_expired_auth(&self, now: UnixTime) -> Result<u64>;
}
