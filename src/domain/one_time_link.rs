//! Links that work once: the first-run setup link, which creates the first
//! platform admin, and password-reset links. Each is good for an hour; only
//! the hash of its token is stored.

use crate::clock::UnixTime;
use crate::domain::secret::SecretHash;

/// How long a setup or password-reset link works.
pub const LINK_TTL_SECONDS: i64 = 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Creates the first platform admin; names no user.
    Setup,
    /// Sets the named user's password and ends their sessions.
    PasswordReset,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Setup => "setup",
            LinkPurpose::PasswordReset => "password_reset",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [LinkPurpose::Setup, LinkPurpose::PasswordReset]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeLink {
    pub token_hash: SecretHash,
    pub purpose: LinkPurpose,
    pub user_id: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub used_at: Option<UnixTime>,
}

impl OneTimeLink {
    /// A new link for `purpose`, good for [`LINK_TTL_SECONDS`] from `now`.
    pub fn issue(
        token_hash: SecretHash,
        purpose: LinkPurpose,
        user_id: Option<String>,
        now: UnixTime,
    ) -> Self {
        Self {
            token_hash,
            purpose,
            user_id,
            created_at: now,
            expires_at: now + LINK_TTL_SECONDS,
            used_at: None,
        }
    }

    /// Unused and unexpired at `now`.
    pub fn usable(&self, now: UnixTime) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip() {
        for p in [LinkPurpose::Setup, LinkPurpose::PasswordReset] {
            assert_eq!(LinkPurpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(LinkPurpose::parse("other"), None);
    }

    #[test]
    fn a_link_works_once_for_an_hour() {
        let mut l = OneTimeLink {
            token_hash: SecretHash::from_slice(&[2; 32]).unwrap(),
            purpose: LinkPurpose::Setup,
            user_id: None,
            created_at: 0,
            expires_at: LINK_TTL_SECONDS,
            used_at: None,
        };
        assert!(l.usable(LINK_TTL_SECONDS - 1));
        assert!(!l.usable(LINK_TTL_SECONDS));
        l.used_at = Some(1);
        assert!(!l.usable(2));
    }
}
