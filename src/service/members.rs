//! People in workspaces, as the console and the `/v1` API manage them: who
//! may do what in a workspace, the members list, invitations (one use,
//! seven days, only the token's hash stored), role changes and removal.
//! The rules are in [`crate::domain::permission`] and
//! [`crate::domain::invitation`]; the last-owner rule is kept by the store.

use serde_json::json;

use crate::app::App;
use crate::clock::UnixTime;
use crate::domain::audit::{AuditContext, AuditEvent};
use crate::domain::invitation::{INVITATION_TTL_SECONDS, InvitationRecord, PendingInvitation};
use crate::domain::permission::WorkspaceAction;
use crate::domain::secret::{PlainSecret, random_base62};
use crate::domain::user::{Role, normalize_email};
use crate::domain::user_record::{Member, Membership, UserRecord};
use crate::domain::workspace::Workspace;
use crate::mail::messages;
use crate::service::accounts::{self, AccountError};
use crate::service::notify::{self, Delivery};
use crate::service::{During, StoreFailure};

pub const INVITATION_ID_PREFIX: &str = "inv_";

/// The link an invitation's token is accepted at (the console's
/// `/invitations/{token}` page); the console and `/v1` both hand it out.
pub fn invitation_url(issuer: &str, token: &PlainSecret) -> String {
    format!("{issuer}/invitations/{}", token.expose())
}

#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    /// Not a member and not a platform admin: shown as "no such
    /// workspace", so that ids cannot be probed.
    #[error("no such workspace")]
    NoSuchWorkspace,
    /// `needs` names who may: "an owner", "an owner or admin".
    #[error("your role in this workspace does not allow that: it needs {needs}")]
    Forbidden { needs: &'static str },
    #[error("not an email address")]
    InvalidEmail,
    #[error("{0} is already a member of this workspace")]
    AlreadyMember(String),
    #[error("no such member")]
    NoSuchMember,
    #[error("no such pending invitation")]
    NoSuchInvitation,
    #[error("the workspace needs another owner first: its last owner cannot leave or be demoted")]
    LastOwner,
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

impl From<AccountError> for MemberError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::LastOwner => MemberError::LastOwner,
            AccountError::NotAMember | AccountError::NotFound => MemberError::NoSuchMember,
            AccountError::Storage(s) => StoreFailure::new("change a membership", s).into(),
            other => {
                // The membership functions raise nothing else.
                tracing::error!(error = %other, "unexpected membership error");
                MemberError::NoSuchMember
            }
        }
    }
}

/// What a person may do in one workspace.
#[derive(Debug, Clone)]
pub struct WorkspaceAccess {
    pub workspace: Workspace,
    /// `None` for a platform admin who is not a member: they may look.
    pub role: Option<Role>,
}

impl WorkspaceAccess {
    pub fn may(&self, action: WorkspaceAction) -> bool {
        match self.role {
            Some(role) => action.allowed_for(role),
            None => action == WorkspaceAction::View,
        }
    }

    pub fn require(&self, action: WorkspaceAction) -> Result<(), MemberError> {
        self.may(action)
            .then_some(())
            .ok_or(MemberError::Forbidden {
                needs: action.needs(),
            })
    }
}

/// A new invitation, with the one-time token its link carries.
#[derive(Debug)]
pub struct CreatedInvitation {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub token: PlainSecret,
    pub expires_at: UnixTime,
    /// Whether the link was emailed to the invitee.
    pub delivery: Delivery,
}

pub struct Members<'a> {
    app: &'a App,
}

impl<'a> Members<'a> {
    pub fn new(app: &'a App) -> Self {
        Self { app }
    }

    /// The workspace as `person` may see it: a member sees it with their
    /// role, a platform admin sees any workspace, anyone else gets
    /// `NoSuchWorkspace`.
    pub async fn access(
        &self,
        person: &UserRecord,
        workspace_id: &str,
    ) -> Result<WorkspaceAccess, MemberError> {
        let memberships = self.app.store.memberships(&person.id).await;
        let memberships = memberships.during("read memberships")?;
        self.access_with(person, &memberships, workspace_id).await
    }

    /// [`Self::access`] once `person`'s memberships are read.
    async fn access_with(
        &self,
        person: &UserRecord,
        memberships: &[Membership],
        workspace_id: &str,
    ) -> Result<WorkspaceAccess, MemberError> {
        let role = memberships
            .iter()
            .find(|m| m.workspace_id == workspace_id)
            .map(|m| m.role);
        if role.is_none() && !person.platform_admin {
            return Err(MemberError::NoSuchWorkspace);
        }
        let workspace = self.workspace(workspace_id).await?;
        Ok(WorkspaceAccess { workspace, role })
    }

    async fn workspace(&self, workspace_id: &str) -> Result<Workspace, MemberError> {
        self.app
            .store
            .get_workspace(workspace_id)
            .await
            .during("read the workspace")?
            .ok_or(MemberError::NoSuchWorkspace)
    }

    /// The person a token names, while they exist and are not disabled.
    pub async fn active_user(&self, user_id: &str) -> Result<Option<UserRecord>, MemberError> {
        let user = self
            .app
            .store
            .user_by_id(user_id)
            .await
            .during("read the user")?;
        Ok(user.filter(|u| u.disabled_at.is_none()))
    }

    /// [`Self::access`] for the person a token names; a person who is gone
    /// or disabled has no workspace.
    pub async fn access_for_user_id(
        &self,
        user_id: &str,
        workspace_id: &str,
    ) -> Result<WorkspaceAccess, MemberError> {
        let found = self
            .app
            .store
            .user_with_memberships(user_id)
            .await
            .during("read the user and their memberships")?;
        match found {
            Some((person, memberships)) if person.disabled_at.is_none() => {
                self.access_with(&person, &memberships, workspace_id).await
            }
            _ => Err(MemberError::NoSuchWorkspace),
        }
    }

    /// The workspace as its own application key sees it: that credential
    /// already administers the workspace (it can regenerate its own
    /// secret), so it acts as an owner would.
    pub async fn access_for_application(
        &self,
        workspace_id: &str,
    ) -> Result<WorkspaceAccess, MemberError> {
        Ok(WorkspaceAccess {
            workspace: self.workspace(workspace_id).await?,
            role: Some(Role::Owner),
        })
    }

    /// The workspaces `person` belongs to, by name, and for a platform
    /// admin every other workspace too.
    pub async fn workspaces_of(
        &self,
        person: &UserRecord,
    ) -> Result<(Vec<Membership>, Vec<Workspace>), MemberError> {
        let store = &self.app.store;
        let mine = store
            .memberships(&person.id)
            .await
            .during("read memberships")?;
        let others = if person.platform_admin {
            let mut all = store
                .list_workspaces()
                .await
                .during("list the workspaces")?;
            all.retain(|w| !mine.iter().any(|m| m.workspace_id == w.id));
            all
        } else {
            Vec::new()
        };
        Ok((mine, others))
    }

    /// The members, owners first, and the invitations still pending.
    pub async fn list(
        &self,
        workspace_id: &str,
    ) -> Result<(Vec<Member>, Vec<PendingInvitation>), MemberError> {
        let store = &self.app.store;
        let members = store
            .members(workspace_id)
            .await
            .during("read the members")?;
        let pending = store
            .pending_invitations(workspace_id, self.app.clock.now())
            .await
            .during("read the invitations")?;
        Ok((members, pending))
    }

    /// Invites `email` with `role`. Only owners invite; the link works once
    /// and for seven days.
    pub async fn invite(
        &self,
        access: &WorkspaceAccess,
        inviter: &UserRecord,
        email: &str,
        role: Role,
        ctx: &AuditContext,
    ) -> Result<CreatedInvitation, MemberError> {
        self.invite_by(access, Some(&inviter.id), email, role, ctx)
            .await
    }

    /// [`Self::invite`] for a caller who may not be a person: the
    /// workspace's own application key invites with no inviter.
    pub async fn invite_by(
        &self,
        access: &WorkspaceAccess,
        inviter_id: Option<&str>,
        email: &str,
        role: Role,
        ctx: &AuditContext,
    ) -> Result<CreatedInvitation, MemberError> {
        access.require(WorkspaceAction::ManageMembers)?;
        let email = normalize_email(email).ok_or(MemberError::InvalidEmail)?;
        let workspace_id = &access.workspace.id;
        let (members, _) = self.list(workspace_id).await?;
        if members.iter().any(|m| m.email == email) {
            return Err(MemberError::AlreadyMember(email));
        }
        let now = self.app.clock.now();
        let token = PlainSecret::generate("");
        let invitation = InvitationRecord {
            id: format!("{INVITATION_ID_PREFIX}{}", random_base62(20)),
            token_hash: self.app.clients.hasher().hash(&token),
            workspace_id: workspace_id.clone(),
            email: email.clone(),
            role,
            invited_by: inviter_id.map(str::to_owned),
            created_at: now,
            expires_at: now + INVITATION_TTL_SECONDS,
            accepted_at: None,
            revoked_at: None,
        };
        let audit = ctx
            .entry(AuditEvent::InvitationCreated, now)
            .workspace(workspace_id)
            .details(json!({"invitationId": invitation.id, "email": email, "role": role.as_str()}));
        self.app
            .store
            .create_invitation(&invitation, &audit)
            .await
            .during("create the invitation")?;
        let link = invitation_url(&self.app.settings.issuer, &token);
        let message = messages::invitation(
            &access.workspace.name,
            role.as_str(),
            &link,
            &crate::clock::rfc3339(invitation.expires_at),
        );
        let delivery = notify::email(self.app, &email, message).await;
        Ok(CreatedInvitation {
            id: invitation.id,
            email,
            role,
            token,
            expires_at: invitation.expires_at,
            delivery,
        })
    }

    pub async fn revoke_invitation(
        &self,
        access: &WorkspaceAccess,
        invitation_id: &str,
        ctx: &AuditContext,
    ) -> Result<(), MemberError> {
        access.require(WorkspaceAction::ManageMembers)?;
        let now = self.app.clock.now();
        let workspace_id = &access.workspace.id;
        let audit = ctx
            .entry(AuditEvent::InvitationRevoked, now)
            .workspace(workspace_id)
            .details(json!({"invitationId": invitation_id}));
        let revoked = self
            .app
            .store
            .revoke_invitation(workspace_id, invitation_id, now, &audit)
            .await
            .during("revoke the invitation")?;
        revoked.then_some(()).ok_or(MemberError::NoSuchInvitation)
    }

    /// Changes a member's role; owners only. The last owner stays owner.
    pub async fn change_role(
        &self,
        access: &WorkspaceAccess,
        user_id: &str,
        role: Role,
        ctx: &AuditContext,
    ) -> Result<(), MemberError> {
        access.require(WorkspaceAction::ManageMembers)?;
        let workspace_id = &access.workspace.id;
        let (members, _) = self.list(workspace_id).await?;
        if !members.iter().any(|m| m.user_id == user_id) {
            return Err(MemberError::NoSuchMember);
        }
        let now = self.app.clock.now();
        accounts::set_membership(
            self.app.store.as_ref(),
            user_id,
            workspace_id,
            role,
            now,
            ctx,
        )
        .await?;
        Ok(())
    }

    /// Removes a member (owners), or lets a person leave (anyone, for
    /// themselves); the last owner can do neither.
    pub async fn remove(
        &self,
        access: &WorkspaceAccess,
        person: &UserRecord,
        user_id: &str,
        ctx: &AuditContext,
    ) -> Result<(), MemberError> {
        self.remove_by(access, Some(&person.id), user_id, ctx).await
    }

    /// [`Self::remove`] for a caller who may not be a person (`None`: the
    /// workspace's application key), who therefore never leaves.
    pub async fn remove_by(
        &self,
        access: &WorkspaceAccess,
        person_id: Option<&str>,
        user_id: &str,
        ctx: &AuditContext,
    ) -> Result<(), MemberError> {
        if person_id != Some(user_id) || access.role.is_none() {
            access.require(WorkspaceAction::ManageMembers)?;
        }
        let now = self.app.clock.now();
        accounts::remove_membership(
            self.app.store.as_ref(),
            user_id,
            &access.workspace.id,
            now,
            ctx,
        )
        .await?;
        Ok(())
    }
}
