//! What a user's grant hands out and keyflow remembers: refresh tokens,
//! kept as hashes in a family that starts with a code, and the access
//! tokens issued with them.

use crate::clock::UnixTime;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::SecretHash;

/// A refresh token as stored: hashed, in a family that starts with a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub token_hash: SecretHash,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub workspace_id: String,
    /// The scope of the grant; a refresh may ask for less, never more.
    pub scope: ScopeSet,
    /// The grant's resource indicators (RFC 8707 §2.2), as on its code.
    pub resources: Vec<String>,
    pub auth_time: UnixTime,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    /// When it was exchanged for a successor.
    pub rotated_at: Option<UnixTime>,
    pub revoked_at: Option<UnixTime>,
}

/// An access token issued to a user's grant, remembered until it expires so
/// that revoking the grant revokes it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedAccessToken {
    pub jti: String,
    pub family_id: String,
    pub client_id: String,
    pub expires_at: UnixTime,
}

/// The tokens one exchange hands out, written in the transaction that
/// consumes the code or refresh token they replace (RFC 9700 §4.14.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuance {
    pub access: IssuedAccessToken,
    pub refresh: Option<RefreshTokenRecord>,
}
