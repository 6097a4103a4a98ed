//! Clients and their secrets: application clients of workspaces, third-party
//! clients with their OAuth settings, resource servers; secret rotation and
//! batched usage.

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::domain::audit::AuditEntry;
use crate::domain::secret::SecretHash;
use crate::domain::usage::DailyCount;

use super::{ClientKind, ClientRecord, OAuthClientRecord, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    pub id: String,
    pub hash: SecretHash,
    pub created_at: UnixTime,
    /// `None` for the current secret; a superseded one works until this time.
    pub expires_at: Option<UnixTime>,
    pub last_used_at: Option<UnixTime>,
}

impl SecretRecord {
    pub fn is_valid_at(&self, now: UnixTime) -> bool {
        self.expires_at.is_none_or(|e| now < e)
    }
}

/// A client and every secret it has that may still be valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientWithSecrets {
    pub client: ClientRecord,
    pub secrets: Vec<SecretRecord>,
    /// The workspace lets old integrations send the application key alone.
    pub allow_appkey_only: bool,
}

/// A new secret to store: only its hash, never the plaintext.
#[derive(Debug, Clone)]
pub struct NewSecret {
    pub id: String,
    pub hash: SecretHash,
}

impl NewSecret {
    pub fn new(hash: SecretHash) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            hash,
        }
    }
}

/// Usage gathered in memory and written in batches, never per token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientUsage {
    pub client_id: String,
    pub secret_id: String,
    pub tokens_issued: i64,
    pub last_used_at: UnixTime,
}

/// What a secret rotation does to the secrets that were valid before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretRotation {
    pub now: UnixTime,
    /// When the previous secrets stop working: `now` for an immediate cut-over.
    pub previous_expire_at: UnixTime,
    /// Also revoke every access token the client was issued until `now`.
    pub revoke_issued_tokens: bool,
}

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Creates a client that belongs to no workspace, with its first secret.
    async fn create_client(
        &self,
        client: &ClientRecord,
        secret: &NewSecret,
        audit: &AuditEntry,
    ) -> Result<()>;

    /// The client and its secrets that are still valid at `now`.
    async fn find_client(
        &self,
        client_id: &str,
        now: UnixTime,
    ) -> Result<Option<ClientWithSecrets>>;

    async fn application_client(&self, workspace_id: &str) -> Result<Option<ClientRecord>>;

    /// Every client of `kind`, oldest first.
    async fn list_clients(&self, kind: ClientKind) -> Result<Vec<ClientRecord>>;

    /// Every superseded secret still inside its grace period at `now`
    /// (`expires_at > now`), newest first.
    async fn previous_secrets(&self, client_id: &str, now: UnixTime) -> Result<Vec<SecretRecord>>;

    /// Adds `secret` as the client's current secret; every previously valid
    /// secret expires at `rotation.previous_expire_at` or at its own expiry,
    /// whichever is sooner. Returns false when the client does not exist.
    async fn rotate_client_secret(
        &self,
        client_id: &str,
        secret: &NewSecret,
        rotation: SecretRotation,
        audit: &AuditEntry,
    ) -> Result<bool>;

    /// Adds batched usage: the totals per secret, and the counts per day
    /// and outcome per client, in one transaction.
    async fn record_usage(&self, usage: &[ClientUsage], daily: &[DailyCount]) -> Result<()>;

    /// Creates a third-party client with its OAuth settings and, unless it
    /// is public, its first secret.
    async fn create_oauth_client(
        &self,
        client: &ClientRecord,
        oauth: &OAuthClientRecord,
        secret: Option<&NewSecret>,
        audit: &AuditEntry,
    ) -> Result<()>;

    /// The client row with its OAuth settings.
    async fn oauth_client(
        &self,
        client_id: &str,
    ) -> Result<Option<(ClientRecord, OAuthClientRecord)>>;

    /// Replaces a third-party client's name and OAuth settings (not
    /// whether it is public). False when there is no such client.
    async fn update_oauth_client(
        &self,
        name: &str,
        oauth: &OAuthClientRecord,
        audit: &AuditEntry,
    ) -> Result<bool>;

    /// Deletes a client of `kind` that belongs to no workspace, with its
    /// secrets, after ending every grant made to it. False when there is no
    /// such client.
    async fn delete_client(
        &self,
        client_id: &str,
        kind: ClientKind,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<bool>;
}
