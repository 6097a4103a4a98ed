//! How people get an account: the first-run setup link (the first platform
//! admin), open sign-up, and taking up an invitation, with or without an
//! account already. Each ends signed in.

use serde_json::json;

use crate::app::App;
use crate::config::SignupPolicy;
use crate::domain::audit::{Actor, AuditContext, AuditEntry, AuditEvent, Origin};
use crate::domain::invitation::{InvitationRecord, InvitationState};
use crate::domain::one_time_link::{LinkPurpose, OneTimeLink};
use crate::domain::secret::PlainSecret;
use crate::domain::user::PasswordError;
use crate::node::rate_limit::Category;
use crate::service::accounts::{self, AccountError, NewUser};
use crate::service::sessions::SignedIn;
use crate::service::{During, StoreFailure};
use crate::storage::{Acceptance, Invitee, LinkUse};

#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    #[error("sign-up is by invitation only")]
    InvitationOnly,
    #[error("sign-up is closed")]
    Closed,
    #[error("enter a valid email address")]
    InvalidEmail,
    #[error("enter a name of 1 to {} characters", crate::domain::MAX_LABEL_CHARS)]
    InvalidName,
    #[error("an account with this email exists already: sign in instead")]
    EmailTaken,
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// Used, revoked, expired or never issued.
    #[error("this link has been used, has expired, or was revoked")]
    LinkUnusable,
    /// An invitation is for its email address only.
    #[error("this invitation is for {0}: sign in with that account")]
    WrongAccount(String),
    #[error("too many sign-ups from this address: wait a minute and try again")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

impl From<AccountError> for SignUpError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::InvalidEmail(_) => SignUpError::InvalidEmail,
            AccountError::InvalidName => SignUpError::InvalidName,
            AccountError::EmailTaken => SignUpError::EmailTaken,
            AccountError::Password(p) => SignUpError::Password(p),
            AccountError::Storage(s) => StoreFailure::new("create the account", s).into(),
            other => {
                tracing::error!(error = %other, "unexpected account error at sign-up");
                StoreFailure::new(
                    "create the account",
                    crate::storage::StorageError::Corrupt(other.to_string()),
                )
                .into()
            }
        }
    }
}

/// What a person fills in to get an account.
#[derive(Debug)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password: &'a str,
}

/// An invitation as its link page shows it.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub invitation: InvitationRecord,
    pub workspace_name: String,
    pub state: InvitationState,
    /// Whether someone with the invited email has an account already.
    pub has_account: bool,
}

pub struct SignUp<'a> {
    app: &'a App,
}

impl<'a> SignUp<'a> {
    pub fn new(app: &'a App) -> Self {
        Self { app }
    }

    pub fn policy(&self) -> SignupPolicy {
        self.app.settings.auth.signup
    }

    /// On a first start with no users: a setup link's token, good for an
    /// hour or one use, which creates the first platform admin.
    pub async fn first_run_link(&self) -> Result<Option<PlainSecret>, StoreFailure> {
        let store = &self.app.store;
        if store.has_users().await.during("count users")? {
            return Ok(None);
        }
        let now = self.app.clock.now();
        let token = PlainSecret::generate("");
        let link = OneTimeLink::issue(
            self.app.clients.hasher().hash(&token),
            LinkPurpose::Setup,
            None,
            now,
        );
        let audit = AuditEntry::new(AuditEvent::SetupLinkCreated, Actor::system(), now);
        store
            .create_link(&link, Some(&audit))
            .await
            .during("create the setup link")?;
        Ok(Some(token))
    }

    /// Whether a setup link still works.
    pub async fn setup_link_usable(&self, token: &str) -> Result<bool, StoreFailure> {
        let hash = self.app.clients.hasher().hash_str(token);
        let link = self
            .app
            .store
            .usable_link(&hash, LinkPurpose::Setup, self.app.clock.now())
            .await
            .during("read the setup link")?;
        Ok(link.is_some())
    }

    /// Uses the setup link: creates the platform admin and signs them in.
    pub async fn complete_setup(
        &self,
        token: &str,
        account: NewAccount<'_>,
        origin: Origin,
    ) -> Result<SignedIn, SignUpError> {
        // The link first: without one, nobody makes the server hash.
        if !self.setup_link_usable(token).await? {
            return Err(SignUpError::LinkUnusable);
        }
        let now = self.app.clock.now();
        let mut admin = self.record(&account).await?;
        admin.platform_admin = true;
        let audit = AuditEntry::new(AuditEvent::UserCreated, Actor::user(&admin.id), now)
            .origin(origin.clone())
            .details(json!({"userId": admin.id, "platformAdmin": true, "via": "setup"}));
        let hash = self.app.clients.hasher().hash_str(token);
        match self
            .app
            .store
            .complete_setup(&hash, &admin, now, &audit)
            .await
            .during("complete the setup")?
        {
            LinkUse::Done { .. } => Ok(self.app.sessions().start(admin, origin).await?),
            LinkUse::Unusable => Err(SignUpError::LinkUnusable),
            LinkUse::EmailTaken => Err(SignUpError::EmailTaken),
        }
    }

    /// Open sign-up: anyone may create an account when the policy is
    /// `open`.
    pub async fn sign_up(
        &self,
        account: NewAccount<'_>,
        origin: Origin,
    ) -> Result<SignedIn, SignUpError> {
        match self.policy() {
            SignupPolicy::Open => {}
            SignupPolicy::Invite => return Err(SignUpError::InvitationOnly),
            SignupPolicy::Closed => return Err(SignUpError::Closed),
        }
        if !self.may_sign_up(origin.ip.as_deref()).await {
            return Err(SignUpError::TooMany);
        }
        let now = self.app.clock.now();
        let name = name_of(&account)?;
        let new = NewUser {
            email: account.email,
            password: account.password,
            name: Some(name),
            memberships: Vec::new(),
        };
        let ctx = AuditContext {
            actor: Actor::system(),
            origin: origin.clone(),
        };
        let user_id = accounts::create_user(self.app.store.as_ref(), new, now, &ctx).await?;
        let user = self
            .app
            .store
            .user_by_id(&user_id)
            .await
            .during("read the new user")?
            .ok_or_else(|| {
                StoreFailure::new(
                    "read the new user",
                    crate::storage::StorageError::Corrupt("a created user is missing".into()),
                )
            })?;
        Ok(self.app.sessions().start(user, origin).await?)
    }

    /// Ten sign-ups a minute per client address on this node: each one
    /// costs an Argon2id hash.
    async fn may_sign_up(&self, ip: Option<&str>) -> bool {
        let Some(ip) = ip else { return true };
        let app = self.app;
        let bucket = format!("signup-ip:{ip}");
        match app
            .token_limiter
            .check(&bucket, Category::Write, 10, app.clock.now_us())
            .await
        {
            Ok(d) => d.allowed,
            Err(e) => {
                tracing::warn!(error = %e, "sign-up limiter failed");
                false
            }
        }
    }

    /// The invitation a link names, whatever its state; `None` when no
    /// invitation has this token.
    pub async fn invitation(&self, token: &str) -> Result<Option<InvitationView>, StoreFailure> {
        let store = &self.app.store;
        let hash = self.app.clients.hasher().hash_str(token);
        let Some(invitation) = store
            .invitation_by_token(&hash)
            .await
            .during("read the invitation")?
        else {
            return Ok(None);
        };
        let workspace_name = store
            .get_workspace(&invitation.workspace_id)
            .await
            .during("read the invitation's workspace")?
            .map(|w| w.name)
            .unwrap_or_default();
        let has_account = store
            .user_by_email(&invitation.email)
            .await
            .during("look up the invited email")?
            .is_some();
        Ok(Some(InvitationView {
            state: invitation.state(self.app.clock.now()),
            invitation,
            workspace_name,
            has_account,
        }))
    }

    /// Takes up an invitation by signing up through its link, under any
    /// policy but `closed`; the account gets the invited email.
    pub async fn accept_as_new(
        &self,
        token: &str,
        name: &str,
        password: &str,
        origin: Origin,
    ) -> Result<(SignedIn, String), SignUpError> {
        if self.policy() == SignupPolicy::Closed {
            return Err(SignUpError::Closed);
        }
        let view = self
            .invitation(token)
            .await?
            .ok_or(SignUpError::LinkUnusable)?;
        let account = NewAccount {
            email: &view.invitation.email,
            name,
            password,
        };
        let user = self.record(&account).await?;
        match self
            .accept(&view, token, Invitee::New(&user), &user.id, origin.clone())
            .await?
        {
            Acceptance::Joined { workspace_id, .. } => {
                Ok((self.app.sessions().start(user, origin).await?, workspace_id))
            }
            Acceptance::Unusable => Err(SignUpError::LinkUnusable),
            Acceptance::EmailTaken => Err(SignUpError::EmailTaken),
        }
    }

    /// Takes up an invitation as the signed-in person, whose email must be
    /// the invited one. Returns the workspace joined.
    pub async fn accept_as(
        &self,
        token: &str,
        signed_in: &SignedIn,
        origin: Origin,
    ) -> Result<String, SignUpError> {
        let view = self
            .invitation(token)
            .await?
            .ok_or(SignUpError::LinkUnusable)?;
        if view.invitation.email != signed_in.user.email {
            return Err(SignUpError::WrongAccount(view.invitation.email));
        }
        let user_id = &signed_in.user.id;
        match self
            .accept(&view, token, Invitee::Existing(user_id), user_id, origin)
            .await?
        {
            Acceptance::Joined { workspace_id, .. } => Ok(workspace_id),
            Acceptance::Unusable => Err(SignUpError::LinkUnusable),
            Acceptance::EmailTaken => Err(SignUpError::EmailTaken),
        }
    }

    async fn accept(
        &self,
        view: &InvitationView,
        token: &str,
        invitee: Invitee<'_>,
        user_id: &str,
        origin: Origin,
    ) -> Result<Acceptance, StoreFailure> {
        let now = self.app.clock.now();
        let hash = self.app.clients.hasher().hash_str(token);
        let new_account = matches!(invitee, Invitee::New(_));
        let audit = AuditEntry::new(AuditEvent::InvitationAccepted, Actor::user(user_id), now)
            .origin(origin)
            .workspace(&view.invitation.workspace_id)
            .details(json!({
                "invitationId": view.invitation.id,
                "userId": user_id,
                "role": view.invitation.role.as_str(),
                "newAccount": new_account,
            }));
        self.app
            .store
            .accept_invitation(&hash, invitee, now, &audit)
            .await
            .during("accept the invitation")
    }

    async fn record(
        &self,
        account: &NewAccount<'_>,
    ) -> Result<crate::domain::user_record::UserRecord, SignUpError> {
        let name = name_of(account)?;
        Ok(accounts::new_user_record(
            account.email,
            Some(name),
            account.password,
            self.app.clock.now(),
        )
        .await?)
    }
}

fn name_of<'n>(account: &NewAccount<'n>) -> Result<&'n str, SignUpError> {
    crate::domain::label(account.name).ok_or(SignUpError::InvalidName)
}
