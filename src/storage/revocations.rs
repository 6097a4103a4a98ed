//! Revoked access tokens and per-client cut-offs, which every verifier must
//! refuse.

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::domain::audit::AuditEntry;

use super::Result;

/// What verifiers must refuse although the signature is good.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevocationList {
    /// (jti, exp) of access tokens revoked one by one.
    pub tokens: Vec<(String, UnixTime)>,
    /// (client_id, time): the client's tokens issued before the time.
    pub clients: Vec<(String, UnixTime)>,
}

#[async_trait]
pub trait RevocationStore: Send + Sync {
    /// Adds an access token to the denylist until it expires (idempotent).
    async fn revoke_token(
        &self,
        jti: &str,
        client_id: &str,
        expires_at: UnixTime,
        audit: &AuditEntry,
    ) -> Result<()>;

    /// Revoked tokens that have not expired at `now`, and clients whose
    /// tokens were revoked after `now - window` (older cut-offs cover only
    /// tokens that have expired anyway).
    async fn revocations(&self, now: UnixTime, window: i64) -> Result<RevocationList>;

    /// Forgets revoked tokens that have expired; returns how many.
    async fn purge_revocations(&self, now: UnixTime) -> Result<u64>;
}
