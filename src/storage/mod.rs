//! Storage: one trait, one implementation per backend (SQLite embedded,
//! PostgreSQL for several nodes). Queries are checked at run time and
//! exercised by the same tests on both backends.

pub mod admin;
mod admin_sql;
pub mod auth;
mod auth_rows;
mod auth_sql;
mod postgres;
mod sql;
mod sqlite;
mod write;

pub use crate::domain::api_key_record::ApiKeyRecord;
pub use crate::domain::client::{ClientKind, ClientRecord};

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::crypto::signing::Algorithm;
use crate::domain::audit::{AuditEntry, AuditQuery, AuditRecord};
use crate::domain::secret::SecretHash;
use crate::domain::workspace::Workspace;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// A unique constraint refused the write.
    #[error("already exists")]
    Conflict,
    #[error(
        "database {url} does not exist; create it with `keyflow migrate` (or by starting \
         `keyflow serve`), or point --database-url / KEYFLOW_DATABASE_URL at the server's database"
    )]
    Missing { url: String },
    #[error(
        "database {url} has no keyflow tables; set it up with `keyflow migrate` (or by starting \
         `keyflow serve`), or point --database-url / KEYFLOW_DATABASE_URL at the server's database"
    )]
    NotSetUp { url: String },
}

impl StorageError {
    /// Turns a unique-constraint violation into [`StorageError::Conflict`].
    pub fn from_write(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StorageError::Conflict,
            _ => StorageError::Database(e),
        }
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

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

/// A signing key as stored: the PKCS#8 private key sealed under the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    pub kid: String,
    pub alg: Algorithm,
    pub sealed_private_key: Vec<u8>,
    pub created_at: UnixTime,
    pub retired_at: Option<UnixTime>,
}

impl fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// A PATCH: fields left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeyChanges {
    pub name: Option<String>,
    pub scopes: Option<String>,
    pub deactivated: Option<bool>,
    /// `Some(None)` removes the overrides.
    pub rate_limits: Option<Option<String>>,
}

/// Batched API key usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyUsage {
    pub id: String,
    pub uses: i64,
    pub last_used_at: UnixTime,
}

/// Counters that change whenever credentials or signing keys change, so that
/// every node can tell when its caches are stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Epochs {
    pub credentials: i64,
    pub signing_keys: i64,
    pub revocations: i64,
}

/// What verifiers must refuse although the signature is good.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevocationList {
    /// (jti, exp) of access tokens revoked one by one.
    pub tokens: Vec<(String, UnixTime)>,
    /// (client_id, time): the client's tokens issued before the time.
    pub clients: Vec<(String, UnixTime)>,
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

/// Every query keyflow runs. The user-facing half (users, sessions,
/// consent, codes, refresh tokens) lives in [`auth::AuthStore`], and what
/// operators change or end in [`admin::AdminStore`].
#[async_trait]
pub trait Store: auth::AuthStore + admin::AdminStore + Send + Sync + fmt::Debug + 'static {
    fn backend(&self) -> Backend;

    /// Applies this backend's migrations (idempotent).
    async fn migrate(&self) -> Result<()>;

    /// A trivial round trip, for readiness checks.
    async fn ping(&self) -> Result<()>;

    /// The value sealed under the master key when the database was set up.
    async fn master_key_check(&self) -> Result<Option<Vec<u8>>>;

    /// Stores `sealed` as the master key check unless one is there already,
    /// and returns the stored one: of two processes setting up one database
    /// at once, both learn which key won.
    async fn init_master_key_check(&self, sealed: &[u8], now: UnixTime) -> Result<Vec<u8>>;

    /// Whether the database holds anything made under a master key:
    /// clients, signing keys or users.
    async fn holds_data(&self) -> Result<bool>;

    async fn epochs(&self) -> Result<Epochs>;

    /// Creates the workspace, its application client and that client's first
    /// secret in one transaction.
    async fn create_workspace(
        &self,
        workspace: &Workspace,
        client_id: &str,
        secret: &NewSecret,
        audit: &AuditEntry,
    ) -> Result<()>;

    /// Creates a client that belongs to no workspace, with its first secret.
    async fn create_client(
        &self,
        client: &ClientRecord,
        secret: &NewSecret,
        audit: &AuditEntry,
    ) -> Result<()>;

    /// Returns false when the workspace does not exist.
    async fn set_allow_appkey_only(
        &self,
        workspace_id: &str,
        allow: bool,
        audit: &AuditEntry,
    ) -> Result<bool>;

    async fn get_workspace(&self, id: &str) -> Result<Option<Workspace>>;

    async fn list_workspaces(&self) -> Result<Vec<Workspace>>;

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

    /// Adds batched usage counts in one transaction.
    async fn record_usage(&self, usage: &[ClientUsage]) -> Result<()>;

    async fn list_signing_keys(&self) -> Result<Vec<StoredSigningKey>>;

    /// Stores `key`; when `retire_active` is set, the algorithm's active keys
    /// are retired at `key.created_at` in the same transaction.
    async fn insert_signing_key(
        &self,
        key: &StoredSigningKey,
        retire_active: bool,
        audit: &AuditEntry,
    ) -> Result<()>;

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

    async fn append_audit(&self, entry: &AuditEntry) -> Result<()>;

    /// Fails with [`StorageError::Conflict`] if the prefix is taken.
    async fn insert_api_key(&self, key: &ApiKeyRecord, audit: &AuditEntry) -> Result<()>;

    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKeyRecord>>;

    async fn list_api_keys(
        &self,
        workspace_id: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<ApiKeyRecord>>;

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

    async fn record_api_key_usage(&self, usage: &[ApiKeyUsage]) -> Result<()>;

    /// One GCRA step for `bucket`, atomically (see `rate_limit.rs`):
    /// `Ok(new tat)` when allowed, `Err(current tat)` when not.
    async fn rate_limit_advance(
        &self,
        bucket: &str,
        now_us: i64,
        emission_ms: i64,
        tolerance_ms: i64,
    ) -> Result<std::result::Result<i64, i64>>;

    /// Forgets buckets that have fully refilled.
    async fn purge_rate_limits(&self, now_us: i64) -> Result<u64>;

    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>>;
}

/// Whether a command may create the database it is pointed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// `serve` and `migrate`: create the database when it is missing.
    Create,
    /// Every other command: the database must exist and have been set up,
    /// so that a mistyped path or URL is an error, not a new empty database.
    Existing,
}

/// Opens the store named by `url` and applies its migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    open(url, OpenMode::Create).await
}

/// Opens the store named by `url` as `mode` allows, then applies any
/// migrations it lacks.
pub async fn open(url: &str, mode: OpenMode) -> Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(SqliteStore::open(url, mode).await?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(PostgresStore::open(url, mode).await?)
    } else {
        return Err(StorageError::UnsupportedUrl(redact_url(url)));
    };
    store.migrate().await?;
    Ok(store)
}

/// The URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod tests;
