//! Device authorizations (RFC 8628): stored when a client asks, decided
//! once by a person, and redeemed once by the client's poll.

use async_trait::async_trait;

use super::Result;
use crate::clock::UnixTime;
use crate::domain::audit::AuditEntry;
use crate::domain::consent::ConsentRecord;
use crate::domain::device_code::{DeviceApproval, DeviceCodeRecord};
use crate::domain::issuance::Issuance;
use crate::domain::secret::SecretHash;

/// A person's decision on a device authorization (RFC 8628 §3.3).
#[derive(Debug, Clone, Copy)]
pub enum DeviceDecision<'a> {
    /// Allowed as `approval` says, recording `consent` (merged with any
    /// earlier one) with its own audit entry.
    Allow {
        approval: &'a DeviceApproval,
        consent: &'a ConsentRecord,
        consent_audit: &'a AuditEntry,
    },
    Deny,
}

#[async_trait]
pub trait DeviceCodeStore: Send + Sync {
    /// [`StorageError::Conflict`](super::StorageError::Conflict) if the
    /// user code is taken (the caller draws another).
    async fn insert_device_code(&self, code: &DeviceCodeRecord) -> Result<()>;

    /// The authorization in whatever state it is, expired or not.
    async fn device_code(&self, device_code_hash: &SecretHash) -> Result<Option<DeviceCodeRecord>>;

    async fn device_code_by_user_code(
        &self,
        user_code_hash: &SecretHash,
    ) -> Result<Option<DeviceCodeRecord>>;

    /// The person's decision on a pending, unexpired authorization, with
    /// `audit` (and, when allowed, the consent it records) in the same
    /// transaction. False, with nothing written, when it was no longer
    /// pending or has expired.
    async fn decide_device_code(
        &self,
        user_code_hash: &SecretHash,
        decision: DeviceDecision<'_>,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<bool>;

    /// Records a poll of a pending authorization at `now`, with the
    /// interval the client must keep from now on, if the last poll is
    /// still `last_polled_at` (the one the caller judged the poll by).
    /// False when another poll came in between, or it is no longer
    /// pending.
    async fn record_device_poll(
        &self,
        device_code_hash: &SecretHash,
        last_polled_at: Option<UnixTime>,
        now: UnixTime,
        interval: i64,
    ) -> Result<bool>;

    /// Marks an allowed, unexpired authorization redeemed and stores
    /// `issuance`, in one transaction. False, with nothing written, when
    /// it was not allowed or has expired, for example because a
    /// concurrent poll redeemed it first.
    async fn redeem_device_code(
        &self,
        device_code_hash: &SecretHash,
        now: UnixTime,
        issuance: &Issuance,
    ) -> Result<bool>;
}
