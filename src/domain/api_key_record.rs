//! An API key as keyflow stores it; its format is in [`super::api_key`].

use crate::clock::UnixTime;
use crate::domain::api_key::ApiKeyType;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::SecretHash;

/// An API key as stored: never the key, only its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub key_type: ApiKeyType,
    /// `sk_19656ea`: type marker and lookup prefix.
    pub prefix: String,
    pub hash: SecretHash,
    pub scopes: ScopeSet,
    /// JSON object of per-category overrides, if any.
    pub rate_limits: Option<String>,
    pub created_at: UnixTime,
    /// Who created it: a client id or user id.
    pub created_by: String,
    pub expires_at: Option<UnixTime>,
    pub deactivated: bool,
    pub revoked_at: Option<UnixTime>,
    pub last_used_at: Option<UnixTime>,
    pub usage_count: i64,
}
