//! What users allowed clients to do, and withdrawing it.

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::domain::audit::AuditEntry;
use crate::domain::consent::{ConnectedApp, ConsentRecord};

use super::Result;

#[async_trait]
pub trait ConsentStore: Send + Sync {
    async fn consent(
        &self,
        user_id: &str,
        client_id: &str,
        workspace_id: &str,
    ) -> Result<Option<ConsentRecord>>;

    /// Stores the consent, replacing an earlier one for the same user,
    /// client and workspace.
    async fn save_consent(&self, consent: &ConsentRecord, audit: &AuditEntry) -> Result<()>;

    /// The user's consents, newest first.
    async fn connected_apps(&self, user_id: &str) -> Result<Vec<ConnectedApp>>;

    /// Every consent given in the workspace, by client name, then oldest
    /// first.
    async fn workspace_connected_apps(&self, workspace_id: &str) -> Result<Vec<ConnectedApp>>;

    /// Ends every person's grant to `client_id` in the workspace (consents,
    /// refresh tokens with their access tokens, pending codes) in one
    /// transaction; how many consents went (0: nothing, and no audit).
    async fn revoke_client_in_workspace(
        &self,
        client_id: &str,
        workspace_id: &str,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<u64>;

    /// Deletes the consent, revokes every refresh token of the user, client
    /// and workspace with the access tokens issued with them, and revokes
    /// their pending codes, in one transaction. False when there was no
    /// consent.
    async fn revoke_consent(
        &self,
        user_id: &str,
        client_id: &str,
        workspace_id: &str,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<bool>;
}
