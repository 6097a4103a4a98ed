//! The authorization endpoint's use cases (RFC 6749 §4.1, OIDC Core
//! §3.1.2): the client a request names, the workspaces a user may grant
//! in, remembered consent, recording consent, issuing a code; and the
//! account pages' connected apps, which end such grants.

use serde_json::json;

use crate::app::App;
use crate::domain::audit::{Actor, AuditEntry, AuditEvent, Origin};
use crate::domain::authorize_request::{AuthorizationRequest, CODE_TTL};
use crate::domain::consent;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::PlainSecret;
use crate::domain::user::{Role, grant_role, grantable};
use crate::service::clients::AuthError;
use crate::service::sessions::SignedIn;
use crate::service::{During, StoreFailure};
use crate::storage::ClientRecord;
use crate::storage::{
    AuthCodeRecord, CodeState, ConnectedApp, ConsentRecord, Membership, OAuthClientRecord,
};

#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    /// The user's role in the chosen workspace grants none of the request.
    #[error("the user's role in the workspace cannot grant the requested scopes")]
    NothingGrantable,
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

/// A consent about to be saved: what to grant now, the record (the union
/// with earlier consent) and its audit entry.
#[derive(Debug)]
pub struct GivenConsent {
    pub scope: ScopeSet,
    pub record: ConsentRecord,
    pub audit: AuditEntry,
}

pub struct Authorizations<'a> {
    app: &'a App,
}

impl<'a> Authorizations<'a> {
    pub fn new(app: &'a App) -> Self {
        Self { app }
    }

    /// A third-party client with its OAuth registration, both from the
    /// leased caches the token endpoint reads them from.
    pub async fn client(
        &self,
        client_id: &str,
    ) -> Result<Option<(ClientRecord, OAuthClientRecord)>, StoreFailure> {
        let entry = match self.app.clients.find(client_id).await {
            Ok(entry) => entry,
            Err(AuthError::Storage(e)) => return Err(e).during("read the client"),
            Err(_) => return Ok(None),
        };
        let registration = self
            .app
            .clients
            .registration(client_id)
            .await
            .during("read the client's OAuth registration")?;
        Ok(registration.map(|oauth| (entry.client.clone(), OAuthClientRecord::clone(&oauth))))
    }

    /// The workspaces a user may grant `client_id` access to, with the role
    /// the grant acts with. keyflow's own CLI acts as the person in every
    /// workspace, each call judged by their role there (docs/cli.md), so
    /// its grant is trimmed by their highest role (RFC 6749 §3.3) wherever
    /// it is recorded: one who administers any workspace grants the
    /// administrator scopes it asks for.
    pub async fn memberships(
        &self,
        user_id: &str,
        client_id: &str,
    ) -> Result<Vec<Membership>, StoreFailure> {
        let mut all = self
            .app
            .store
            .memberships(user_id)
            .await
            .during("read the user's workspaces")?;
        let roles: Vec<Option<Role>> = all
            .iter()
            .map(|m| grant_role(&all, &m.workspace_id, client_id))
            .collect();
        for (m, role) in all.iter_mut().zip(roles) {
            // Each membership names its own workspace, so there is a role.
            m.role = role.unwrap_or(m.role);
        }
        Ok(all)
    }

    /// The workspace whose stored consent covers the request, the most
    /// recently granted if several do; `None` asks for consent.
    pub async fn remembered<'m>(
        &self,
        user_id: &str,
        r: &AuthorizationRequest,
        memberships: &'m [Membership],
    ) -> Result<Option<&'m Membership>, StoreFailure> {
        let mut covering = Vec::new();
        for m in memberships {
            let Some(c) = self.stored_consent(user_id, r, &m.workspace_id).await? else {
                continue;
            };
            if consent::covers(&r.scope, m.role, &c.scope) {
                covering.push((m, c.granted_at));
            }
        }
        Ok(consent::latest(covering))
    }

    async fn stored_consent(
        &self,
        user_id: &str,
        r: &AuthorizationRequest,
        workspace_id: &str,
    ) -> Result<Option<ConsentRecord>, StoreFailure> {
        self.app
            .store
            .consent(user_id, &r.client.client_id, workspace_id)
            .await
            .during("read the consent")
    }

    /// Records that the user allowed the request in workspace `m`, and
    /// answers the scopes to grant now: what the role can grant.
    pub async fn consent(
        &self,
        user_id: &str,
        r: &AuthorizationRequest,
        m: &Membership,
        origin: Origin,
    ) -> Result<ScopeSet, ConsentError> {
        let given = self
            .consent_to(user_id, &r.client.client_id, &r.scope, m, origin)
            .await?;
        self.app
            .store
            .save_consent(&given.record, &given.audit)
            .await
            .during("save the consent")?;
        Ok(given.scope)
    }

    /// The consent of `user_id` to `client_id` for `requested` in
    /// workspace `m`, to be saved by the caller with its audit entry:
    /// merged with what they allowed it before, so that consent is
    /// remembered as the union, and the scopes to grant now (what the role
    /// can grant). Shared by the code flow and the device flow (RFC 8628
    /// §3.3), which saves it in the transaction of its decision.
    pub async fn consent_to(
        &self,
        user_id: &str,
        client_id: &str,
        requested: &ScopeSet,
        m: &Membership,
        origin: Origin,
    ) -> Result<GivenConsent, ConsentError> {
        let scope = grantable(requested, m.role);
        if scope.is_empty() {
            return Err(ConsentError::NothingGrantable);
        }
        let now = self.app.clock.now();
        let previous = self
            .app
            .store
            .consent(user_id, client_id, &m.workspace_id)
            .await
            .during("read the consent")?
            .map(|c| c.scope);
        let record = ConsentRecord {
            user_id: user_id.to_owned(),
            client_id: client_id.to_owned(),
            workspace_id: m.workspace_id.clone(),
            scope: consent::merge(&scope, previous.as_ref()),
            granted_at: now,
        };
        let audit = AuditEntry::new(AuditEvent::ConsentGranted, Actor::user(user_id), now)
            .workspace(&m.workspace_id)
            .origin(origin)
            .details(json!({"clientId": client_id, "scope": scope.to_string()}));
        Ok(GivenConsent {
            scope,
            record,
            audit,
        })
    }

    /// RFC 6749 §4.1.2: a single-use code bound to everything it was
    /// issued for; only its hash is stored.
    pub async fn issue_code(
        &self,
        r: &AuthorizationRequest,
        signed_in: &SignedIn,
        workspace_id: &str,
        scope: &ScopeSet,
    ) -> Result<PlainSecret, StoreFailure> {
        let now = self.app.clock.now();
        let code = PlainSecret::generate("");
        let record = AuthCodeRecord {
            code_hash: self.app.clients.hasher().hash(&code),
            family_id: uuid::Uuid::new_v4().to_string(),
            client_id: r.client.client_id.clone(),
            user_id: signed_in.user.id.clone(),
            workspace_id: workspace_id.to_owned(),
            redirect_uri: r.redirect_uri.clone(),
            scope: scope.clone(),
            resources: r.resources.clone(),
            code_challenge: r.code_challenge.clone(),
            nonce: r.nonce.clone(),
            auth_time: signed_in.session.auth_time,
            created_at: now,
            expires_at: now + CODE_TTL,
            state: CodeState::Pending,
        };
        self.app
            .store
            .insert_auth_code(&record)
            .await
            .during("store an authorization code")?;
        Ok(code)
    }

    /// The apps a user connected: one per client and workspace consented.
    pub async fn connected_apps(&self, user_id: &str) -> Result<Vec<ConnectedApp>, StoreFailure> {
        self.app
            .store
            .connected_apps(user_id)
            .await
            .during("list the connected apps")
    }

    /// Every integration acting in a workspace: one consent per person and
    /// client, by client name.
    pub async fn workspace_connections(
        &self,
        workspace_id: &str,
    ) -> Result<Vec<ConnectedApp>, StoreFailure> {
        self.app
            .store
            .workspace_connected_apps(workspace_id)
            .await
            .during("list the workspace's connected apps")
    }

    /// Disconnects an app from a workspace for everybody: every member's
    /// consent to it there goes, with their refresh and access tokens.
    /// How many people it acted for (0: nothing was connected).
    pub async fn disconnect_for_everyone(
        &self,
        client_id: &str,
        workspace_id: &str,
        ctx: &crate::domain::audit::AuditContext,
    ) -> Result<u64, StoreFailure> {
        let now = self.app.clock.now();
        let audit = ctx
            .entry(AuditEvent::ConsentRevoked, now)
            .workspace(workspace_id)
            .details(json!({"clientId": client_id, "everyone": true}));
        let ended = self
            .app
            .store
            .revoke_client_in_workspace(client_id, workspace_id, now, &audit)
            .await
            .during("disconnect the app for everyone")?;
        if ended > 0 {
            self.app.reload_revocations().await;
        }
        Ok(ended)
    }

    /// Disconnects an app: its consent goes and its refresh and access
    /// tokens are revoked (RFC 7009 §2.1 spirit: the whole grant ends).
    /// `false` when there was nothing to disconnect.
    pub async fn disconnect(
        &self,
        user_id: &str,
        client_id: &str,
        workspace_id: &str,
        origin: Origin,
    ) -> Result<bool, StoreFailure> {
        let now = self.app.clock.now();
        let audit = AuditEntry::new(AuditEvent::ConsentRevoked, Actor::user(user_id), now)
            .workspace(workspace_id)
            .origin(origin)
            .details(json!({"clientId": client_id}));
        let ended = self
            .app
            .store
            .revoke_consent(user_id, client_id, workspace_id, now, &audit)
            .await
            .during("disconnect the app")?;
        if ended {
            self.app.reload_revocations().await;
        }
        Ok(ended)
    }
}
