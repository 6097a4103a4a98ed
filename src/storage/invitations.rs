//! Invitations into workspaces, keyed by the hash of the link's token.

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::domain::audit::AuditEntry;
use crate::domain::invitation::{InvitationRecord, PendingInvitation};
use crate::domain::secret::SecretHash;
use crate::domain::user::Role;
use crate::domain::user_record::UserRecord;

use super::Result;

/// Who takes up an invitation.
#[derive(Debug, Clone, Copy)]
pub enum Invitee<'a> {
    /// Someone who already has an account.
    Existing(&'a str),
    /// Someone who signs up through the link: created in the same
    /// transaction.
    New(&'a UserRecord),
}

/// How taking up an invitation went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acceptance {
    /// The invitee is now a member. When they were one already, their
    /// role is left as it was.
    Joined { workspace_id: String, role: Role },
    /// Accepted before, revoked, expired, or never issued.
    Unusable,
    /// Signing up: an account with this email exists already.
    EmailTaken,
}

#[async_trait]
pub trait InvitationStore: Send + Sync {
    async fn create_invitation(
        &self,
        invitation: &InvitationRecord,
        audit: &AuditEntry,
    ) -> Result<()>;

    async fn invitation_by_token(
        &self,
        token_hash: &SecretHash,
    ) -> Result<Option<InvitationRecord>>;

    /// The workspace's invitations that can still be accepted at `now`,
    /// newest first.
    async fn pending_invitations(
        &self,
        workspace_id: &str,
        now: UnixTime,
    ) -> Result<Vec<PendingInvitation>>;

    /// Revokes a pending invitation of the workspace; false when there is
    /// no such pending invitation there.
    async fn revoke_invitation(
        &self,
        workspace_id: &str,
        invitation_id: &str,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<bool>;

    /// Uses the invitation once: marks it accepted, creates the invitee's
    /// account when it is new, and adds the membership, in one transaction.
    async fn accept_invitation(
        &self,
        token_hash: &SecretHash,
        invitee: Invitee<'_>,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<Acceptance>;
}
