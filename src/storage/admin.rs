//! Storage of what operators change or end: disabling users, removing
//! memberships, changing and deleting clients. Each ends the grants it
//! takes away (consents, refresh tokens, pending codes, live access tokens)
//! in the transaction that makes the change.

use async_trait::async_trait;

use super::auth::OAuthClientRecord;
use super::{ClientKind, Result};
use crate::clock::UnixTime;
use crate::domain::audit::AuditEntry;

/// Whose user grants an action ends: every grant matching all the ids
/// given. At least one id is always given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grants<'a> {
    pub user_id: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub workspace_id: Option<&'a str>,
}

impl<'a> Grants<'a> {
    /// One user's consent to one client in one workspace.
    pub fn of(user_id: &'a str, client_id: &'a str, workspace_id: &'a str) -> Self {
        Self {
            user_id: Some(user_id),
            client_id: Some(client_id),
            workspace_id: Some(workspace_id),
        }
    }

    /// Everything a user granted, to any client in any workspace.
    pub fn user(user_id: &'a str) -> Self {
        Self {
            user_id: Some(user_id),
            client_id: None,
            workspace_id: None,
        }
    }

    /// Everything a user granted in one workspace.
    pub fn membership(user_id: &'a str, workspace_id: &'a str) -> Self {
        Self {
            user_id: Some(user_id),
            client_id: None,
            workspace_id: Some(workspace_id),
        }
    }

    /// Everything granted to one client.
    pub fn client(client_id: &'a str) -> Self {
        Self {
            user_id: None,
            client_id: Some(client_id),
            workspace_id: None,
        }
    }
}

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
pub trait AdminStore: Send + Sync {
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

    /// Replaces a third-party client's name and OAuth settings (not
    /// whether it is public). False when there is no such client.
    async fn update_oauth_client(
        &self,
        name: &str,
        oauth: &OAuthClientRecord,
        audit: &AuditEntry,
    ) -> Result<bool>;

    /// Deletes a client of `kind` that belongs to no workspace, with its
    /// secrets, after ending every grant made to it. False when there is no
    /// such client.
    async fn delete_client(
        &self,
        client_id: &str,
        kind: ClientKind,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<bool>;
}
