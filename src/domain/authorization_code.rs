//! An authorization code as keyflow stores it, and the stages it goes
//! through (RFC 6749 §4.1.2: a code is redeemed once).

use crate::clock::UnixTime;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::SecretHash;

/// The stages of an authorization code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeState {
    /// Issued, not yet redeemed.
    Pending,
    /// Redeemed once; any further attempt is a replay (RFC 6749 §4.1.2).
    Exchanged,
    /// Spent unredeemed because the user withdrew consent.
    Revoked,
}

impl CodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeState::Pending => "pending",
            CodeState::Exchanged => "exchanged",
            CodeState::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(CodeState::Pending),
            "exchanged" => Ok(CodeState::Exchanged),
            "revoked" => Ok(CodeState::Revoked),
            other => Err(format!("unknown authorization code state {other:?}")),
        }
    }
}

/// An authorization code and everything it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCodeRecord {
    pub code_hash: SecretHash,
    /// Every token issued from this code, and their refresh successors,
    /// share this id, so that one replay can revoke them all.
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub workspace_id: String,
    pub redirect_uri: String,
    pub scope: ScopeSet,
    /// RFC 8707 §2.1: the resources named in the authorization request,
    /// which bound what the token request may name.
    pub resources: Vec<String>,
    /// RFC 7636 §4.2, S256: BASE64URL(SHA256(code_verifier)).
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub auth_time: UnixTime,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub state: CodeState,
}
