//! Browser sessions, keyed by the hash of the cookie value.

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::domain::audit::AuditEntry;
use crate::domain::secret::SecretHash;
use crate::domain::session::SessionRecord;

use super::Result;

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &SessionRecord, audit: &AuditEntry) -> Result<()>;

    /// The session, if it has not expired at `now`.
    async fn session(&self, id_hash: &SecretHash, now: UnixTime) -> Result<Option<SessionRecord>>;

    async fn delete_session(&self, id_hash: &SecretHash) -> Result<()>;
}
