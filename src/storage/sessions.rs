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

    /// The user's live sessions, most recent sign-in first.
    async fn user_sessions(&self, user_id: &str, now: UnixTime) -> Result<Vec<SessionRecord>>;

    /// Ends every session of the user but `keep` (the browser asking), in
    /// one transaction with its audit entry; how many ended.
    async fn end_sessions(
        &self,
        user_id: &str,
        keep: Option<&SecretHash>,
        audit: &AuditEntry,
    ) -> Result<u64>;

    /// Records that the password was entered again in this session (OIDC
    /// Core §2 `auth_time`); false when the session is gone.
    async fn reauthenticate(&self, id_hash: &SecretHash, auth_time: UnixTime) -> Result<bool>;
}
