//! Users and their workspace memberships; disabling a user or removing a
//! membership ends the grants it takes away.

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::domain::audit::AuditEntry;
use crate::domain::secret::SecretHash;
use crate::domain::user::Role;
use crate::domain::user_record::{Member, Membership, UserRecord};

use super::Result;

/// How changing or removing a membership went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipChange {
    Done,
    /// Removing: the user is not a member of the workspace. Setting: the
    /// user or the workspace does not exist.
    Missing,
    /// The user is the workspace's only owner, who can neither leave nor be
    /// demoted.
    LastOwner,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates the user and its memberships in one transaction; fails with
    /// `Conflict` when the email is taken.
    async fn create_user(
        &self,
        user: &UserRecord,
        memberships: &[(String, Role)],
        audit: &AuditEntry,
    ) -> Result<()>;

    /// Adds the membership or changes its role, unless that demotes the
    /// workspace's last owner. `Missing` when the user or the workspace does
    /// not exist.
    async fn set_membership(
        &self,
        user_id: &str,
        workspace_id: &str,
        role: Role,
        audit: &AuditEntry,
    ) -> Result<MembershipChange>;

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>>;

    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>>;

    /// Every user, oldest first.
    async fn list_users(&self) -> Result<Vec<UserRecord>>;

    /// True once anyone has an account.
    async fn has_users(&self) -> Result<bool>;

    /// The workspace's members, owners first, then by email.
    async fn members(&self, workspace_id: &str) -> Result<Vec<Member>>;

    /// Replaces the user's password hash and ends every session of theirs
    /// but `keep`, in one transaction. False when there is no such user.
    async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        keep: Option<&SecretHash>,
        audit: &AuditEntry,
    ) -> Result<bool>;

    /// The user's workspaces, by workspace name.
    async fn memberships(&self, user_id: &str) -> Result<Vec<Membership>>;

    /// [`Self::user_by_id`] and [`Self::memberships`] in one statement:
    /// what each refresh, code exchange, device poll and call with a
    /// person's token checks. `None` when there is no such user.
    async fn user_with_memberships(
        &self,
        user_id: &str,
    ) -> Result<Option<(UserRecord, Vec<Membership>)>>;

    /// Disables the user: no sign-in from now on; their sessions are
    /// deleted and every grant they made is ended, in one transaction.
    /// False when there is no such user or the user is already disabled.
    async fn disable_user(&self, user_id: &str, now: UnixTime, audit: &AuditEntry) -> Result<bool>;

    /// Lets a disabled user sign in again. Their ended grants stay ended.
    /// False when there is no such user or the user is not disabled.
    async fn enable_user(&self, user_id: &str, audit: &AuditEntry) -> Result<bool>;

    /// Removes the membership and ends the grants the user made in the
    /// workspace, unless the user is its last owner.
    async fn remove_membership(
        &self,
        user_id: &str,
        workspace_id: &str,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<MembershipChange>;
}
