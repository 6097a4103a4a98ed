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
