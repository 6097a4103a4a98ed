//! A signed-in browser as keyflow stores it.

use crate::clock::UnixTime;
use crate::domain::secret::SecretHash;

/// A signed-in browser. The cookie holds the session id; only its hash is
/// stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: SecretHash,
    pub user_id: String,
    /// OIDC Core §2 `auth_time`: when the user last entered the password.
    pub auth_time: UnixTime,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    /// Where the browser signed in from, for the account page's list.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}
