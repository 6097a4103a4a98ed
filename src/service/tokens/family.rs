//! What redeeming a code and rotating a refresh token share: the client's
//! OAuth registration, the user as they are now, and the revocation of a
//! grant whose code or refresh token was replayed.

use std::sync::Arc;

use super::Tokens;
use crate::domain::audit::{Actor, AuditEntry, AuditEvent};
use crate::domain::grants::authorization_code::{CodeRejection, scope_for};
use crate::domain::scope::ScopeSet;
use crate::domain::user::{Role, grant_role};
use crate::service::clients::AuthenticatedClient;
use crate::service::{During, StoreFailure};
use crate::storage::ClientKind;
use crate::storage::{OAuthClientRecord, UserRecord};

/// What was presented a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Replay {
    /// RFC 6749 §4.1.2.
    Code,
    /// RFC 9700 §4.14.2, after the grace period.
    RefreshToken,
}

impl Replay {
    fn as_str(self) -> &'static str {
        match self {
            Replay::Code => "code_replay",
            Replay::RefreshToken => "refresh_token_reuse",
        }
    }
}

/// The grant a replayed code or refresh token belongs to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Family<'a> {
    pub family_id: &'a str,
    pub client_id: &'a str,
    pub workspace_id: &'a str,
}

impl Tokens<'_> {
    /// The client's OAuth registration; only third-party clients use the
    /// user grants, so `None` for any other. The client was authenticated
    /// through the cache; its registration comes from the cache too.
    pub(super) async fn third_party(
        &self,
        client: &AuthenticatedClient,
    ) -> Result<Option<Arc<OAuthClientRecord>>, StoreFailure> {
        let record = client.record();
        if record.kind != ClientKind::ThirdParty {
            return Ok(None);
        }
        self.app
            .clients
            .registration(&record.client_id)
            .await
            .during("read the client's OAuth registration")
    }

    /// The person behind a grant, still active, and what their role in the
    /// workspace still grants of what they consented to (they may have
    /// left it or changed role since): shared by the code and device
    /// grants.
    pub(super) async fn grantor<E>(
        &self,
        user_id: &str,
        workspace_id: &str,
        client_id: &str,
        consented: &ScopeSet,
    ) -> Result<(UserRecord, ScopeSet), E>
    where
        E: From<CodeRejection> + From<StoreFailure>,
    {
        let (user, role) = self
            .person_and_role(user_id, workspace_id, client_id)
            .await?;
        let user = user.ok_or(CodeRejection::UserGone)?;
        Ok((user, scope_for(consented, role)?))
    }

    /// The person behind a grant unless they were deleted or disabled
    /// since, and the role a grant to `client_id` acts with: their role in
    /// the workspace, if they still belong to it. keyflow's own CLI acts as
    /// the person wherever they are a member, their role in each workspace
    /// checked at each call (`http::api::access`): its grant lasts while
    /// they are a member anywhere, and is trimmed by their highest role.
    /// It never exceeds what they consented to at sign-in. One read of the
    /// store, on every refresh, code exchange and device poll.
    pub(super) async fn person_and_role(
        &self,
        user_id: &str,
        workspace_id: &str,
        client_id: &str,
    ) -> Result<(Option<UserRecord>, Option<Role>), StoreFailure> {
        let Some((user, memberships)) = self
            .app
            .store
            .user_with_memberships(user_id)
            .await
            .during("read the grant's user and memberships")?
        else {
            return Ok((None, None));
        };
        let role = grant_role(&memberships, workspace_id, client_id);
        Ok((Some(user).filter(|u| u.disabled_at.is_none()), role))
    }

    /// Revokes every token of a grant whose code or refresh token was
    /// replayed, and records why. A failure is logged, not returned: the
    /// request is refused either way.
    pub(super) async fn revoke_replayed(&self, family: Family<'_>, replay: Replay) {
        let Family {
            family_id,
            client_id,
            workspace_id,
        } = family;
        let reason = replay.as_str();
        let now = self.app.clock.now();
        let audit = AuditEntry::new(AuditEvent::GrantRevoked, Actor::client(client_id), now)
            .workspace(workspace_id)
            .details(serde_json::json!({"familyId": family_id, "reason": reason}));
        match self.app.store.revoke_family(family_id, now, &audit).await {
            Ok(n) => {
                self.app.reload_revocations().await;
                tracing::warn!(
                    client_id,
                    family_id,
                    reason,
                    refresh_tokens = n,
                    "grant revoked after replay"
                );
            }
            Err(e) => tracing::error!(error = %e, family_id, "revoking a replayed grant failed"),
        }
    }
}
