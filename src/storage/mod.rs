//! Storage: one trait per aggregate (workspaces, clients and their
//! secrets, signing keys, revocations, audit, API keys, rate limits, users
//! and memberships, sessions, consents, codes and refresh tokens), their
//! union [`Store`], and one implementation per backend (SQLite embedded,
//! PostgreSQL for several nodes). Queries are checked at run time and
//! exercised by the same tests on both backends.

pub mod api_keys;
pub mod audit;
pub mod clients;
pub mod consents;
pub mod device_codes;
pub mod grants;
pub mod invitations;
pub mod links;
mod postgres;
pub mod rate_limits;
pub mod revocations;
pub mod sessions;
pub mod signing_keys;
mod sql;
mod sqlite;
pub mod usage;
pub mod users;
pub mod workspaces;
mod write;

pub use crate::domain::api_key_record::ApiKeyRecord;
pub use crate::domain::authorization_code::{AuthCodeRecord, CodeState};
pub use crate::domain::client::{ClientKind, ClientRecord, OAuthClientRecord};
pub use crate::domain::consent::{ConnectedApp, ConsentRecord};
pub use crate::domain::device_code::{DeviceApproval, DeviceCodeRecord, DeviceCodeState};
pub use crate::domain::issuance::{Issuance, IssuedAccessToken, RefreshTokenRecord};
pub use crate::domain::session::SessionRecord;
pub use crate::domain::user_record::{Membership, UserRecord};
pub use api_keys::{ApiKeyChanges, ApiKeyStore, ApiKeyUsage, KeyCounts, KeyListQuery, KeySort};
pub use audit::AuditStore;
pub use clients::{
    ClientStore, ClientUsage, ClientWithSecrets, NewSecret, SecretRecord, SecretRotation,
};
pub use consents::ConsentStore;
pub use device_codes::{DeviceCodeStore, DeviceDecision};
pub use grants::{GrantStore, Grants};
pub use invitations::{Acceptance, InvitationStore, Invitee};
pub use links::{LinkStore, LinkUse};
pub use rate_limits::RateLimitStore;
pub use revocations::{RevocationList, RevocationStore};
pub use sessions::SessionStore;
pub use signing_keys::{SigningKeyStore, StoredSigningKey};
pub use usage::UsageStore;
pub use users::{MembershipChange, UserStore};
pub use workspaces::WorkspaceStore;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::clock::UnixTime;

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

/// Counters that change whenever credentials or signing keys change, so that
/// every node can tell when its caches are stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Epochs {
    pub credentials: i64,
    pub signing_keys: i64,
    pub revocations: i64,
}

/// Every query keyflow runs: the union of the aggregates' stores, and what
/// belongs to the database as a whole. Each aggregate's trait is in the
/// module named for it, and its SQL in `sql/` under the same name.
#[async_trait]
pub trait Store:
    WorkspaceStore
    + ClientStore
    + SigningKeyStore
    + RevocationStore
    + AuditStore
    + ApiKeyStore
    + RateLimitStore
    + UserStore
    + SessionStore
    + ConsentStore
    + GrantStore
    + DeviceCodeStore
    + InvitationStore
    + LinkStore
    + UsageStore
    + Send
    + Sync
    + fmt::Debug
    + 'static
{
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
    /// clients (but keyflow's own CLI client, which has no secret), signing
    /// keys or users.
    async fn holds_data(&self) -> Result<bool>;

    async fn epochs(&self) -> Result<Epochs>;
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
mod tests;
