//! API keys: stored as keyed hashes, changed, rolled and revoked under the
//! scopes their caller was checked against.

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::domain::api_key::ApiKeyType;
use crate::domain::audit::AuditEntry;
use crate::domain::usage::DailyCount;

use super::{ApiKeyRecord, Result};

/// A PATCH: fields left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeyChanges {
    pub name: Option<String>,
    pub scopes: Option<String>,
    pub deactivated: Option<bool>,
    /// `Some(None)` removes the overrides.
    pub rate_limits: Option<Option<String>>,
}

/// What the key table shows: one page of the keys that match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyListQuery {
    /// Part of the name (any case), or the start of the prefix.
    pub search: Option<String>,
    /// `active`, `deactivated`, `expired`, `revoked`, or `expiring`
    /// (active, and expiring before `expiring_before`).
    pub status: Option<&'static str>,
    pub key_type: Option<ApiKeyType>,
    pub sort: KeySort,
    /// The time statuses are judged at.
    pub now: UnixTime,
    pub expiring_before: UnixTime,
    pub offset: u64,
    pub limit: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeySort {
    #[default]
    NewestFirst,
    OldestFirst,
    /// Most recently used first; never used last.
    LastUsed,
}

/// A workspace's keys in figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyCounts {
    pub total: i64,
    pub active: i64,
    /// Active and never used.
    pub never_used: i64,
    /// Active and unused (or, never used, created) before the cut-off.
    pub stale: i64,
}

/// Batched API key usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyUsage {
    pub id: String,
    pub uses: i64,
    pub last_used_at: UnixTime,
}

#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Fails with [`StorageError::Conflict`] if the prefix is taken.
    async fn insert_api_key(&self, key: &ApiKeyRecord, audit: &AuditEntry) -> Result<()>;

    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKeyRecord>>;

    async fn list_api_keys(
        &self,
        workspace_id: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<ApiKeyRecord>>;

    /// The workspace's key `id`, revoked or not.
    async fn api_key(&self, workspace_id: &str, id: &str) -> Result<Option<ApiKeyRecord>>;

    /// One page of the workspace's keys that match, and how many match.
    async fn api_key_page(
        &self,
        workspace_id: &str,
        q: &KeyListQuery,
    ) -> Result<(Vec<ApiKeyRecord>, u64)>;

    /// Counts of the workspace's keys, judged at `now`; stale means unused
    /// since before `stale_before`. With the first `limit` stale keys,
    /// longest unused first.
    async fn api_key_counts(
        &self,
        workspace_id: &str,
        now: UnixTime,
        stale_before: UnixTime,
        limit: u64,
    ) -> Result<(KeyCounts, Vec<ApiKeyRecord>)>;

    /// Changes a key that is not revoked and still holds `expected_scopes`
    /// (what the caller's right to act on it was checked against); `None`
    /// if there is no such key.
    async fn update_api_key(
        &self,
        workspace_id: &str,
        id: &str,
        expected_scopes: &str,
        changes: &ApiKeyChanges,
        audit: &AuditEntry,
    ) -> Result<Option<ApiKeyRecord>>;

    /// Revokes for good; false if there is no unrevoked key that still
    /// holds `expected_scopes`.
    async fn revoke_api_key(
        &self,
        workspace_id: &str,
        id: &str,
        expected_scopes: &str,
        audit: &AuditEntry,
    ) -> Result<bool>;

    /// Stores `new` and lets the old key work until `old_expires_at` (never
    /// later than it already would), in one transaction; false, with
    /// nothing written, unless the old key is unrevoked and still holds
    /// `expected_scopes` (`new.scopes`).
    async fn roll_api_key(
        &self,
        workspace_id: &str,
        id: &str,
        new: &ApiKeyRecord,
        old_expires_at: UnixTime,
        audit: &AuditEntry,
    ) -> Result<bool>;

    /// Adds a usage batch: the totals of successful uses, and the counts
    /// per day and outcome, in one transaction.
    async fn record_api_key_usage(&self, usage: &[ApiKeyUsage], daily: &[DailyCount])
    -> Result<()>;
}
