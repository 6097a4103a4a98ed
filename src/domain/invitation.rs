//! An invitation into a workspace: sent to an email address with a role,
//! good for seven days and for one use. Only the hash of the token the
//! link carries is stored.

use crate::clock::UnixTime;
use crate::domain::secret::SecretHash;
use crate::domain::user::Role;

/// How long an invitation link works.
pub const INVITATION_TTL_SECONDS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRecord {
    pub id: String,
    pub token_hash: SecretHash,
    pub workspace_id: String,
    /// Lower-cased.
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub accepted_at: Option<UnixTime>,
    pub revoked_at: Option<UnixTime>,
}

/// Where an invitation stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InvitationRecord {
    pub fn state(&self, now: UnixTime) -> InvitationState {
        if self.accepted_at.is_some() {
            InvitationState::Accepted
        } else if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if now >= self.expires_at {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }
}

/// A workspace's pending invitation as the members page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvitation {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation() -> InvitationRecord {
        InvitationRecord {
            id: "inv_1".into(),
            token_hash: SecretHash::from_slice(&[1; 32]).unwrap(),
            workspace_id: "w".into(),
            email: "bo@example.com".into(),
            role: Role::Member,
            invited_by: None,
            created_at: 0,
            expires_at: INVITATION_TTL_SECONDS,
            accepted_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn an_invitation_is_pending_until_used_revoked_or_seven_days_old() {
        let mut i = invitation();
        assert_eq!(
            i.state(INVITATION_TTL_SECONDS - 1),
            InvitationState::Pending
        );
        assert_eq!(i.state(INVITATION_TTL_SECONDS), InvitationState::Expired);
        i.revoked_at = Some(5);
        assert_eq!(i.state(6), InvitationState::Revoked);
        i.accepted_at = Some(4);
        assert_eq!(i.state(6), InvitationState::Accepted);
    }
}
