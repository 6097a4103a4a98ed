//! Workspaces: create one with its application client, read, list, and the
//! appkey-only setting.

use async_trait::async_trait;

use crate::clock::UnixTime;

use crate::domain::audit::AuditEntry;
use crate::domain::workspace::Workspace;

use super::{NewSecret, Result};

#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    /// Creates the workspace, its application client and that client's first
    /// secret in one transaction; `owner`, when given, becomes its first
    /// owner in the same transaction.
    async fn create_workspace(
        &self,
        workspace: &Workspace,
        client_id: &str,
        secret: &NewSecret,
        owner: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<()>;

    /// Returns false when the workspace does not exist.
    async fn set_allow_appkey_only(
        &self,
        workspace_id: &str,
        allow: bool,
        audit: &AuditEntry,
    ) -> Result<bool>;

    async fn get_workspace(&self, id: &str) -> Result<Option<Workspace>>;

    async fn list_workspaces(&self) -> Result<Vec<Workspace>>;

    /// Claims, once per secret, the workspaces whose application secret was
    /// set before `due_before` and whose owners have not been told since:
    /// marks them told at `now` and returns `(workspace_id, rotated_at)`.
    /// The conditional update lets only one node claim each.
    async fn claim_rotation_notices(
        &self,
        due_before: UnixTime,
        now: UnixTime,
    ) -> Result<Vec<(String, UnixTime)>>;
}
