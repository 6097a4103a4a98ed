//! Operator actions on people: creating users, adding them to workspaces
//! and taking them out, disabling and enabling them. The CLI calls these;
//! they hold the rules, the store holds the rows. Third-party clients are
//! in [`crate::service::integrations`].

use crate::clock::UnixTime;
use crate::domain::audit::{AuditContext, AuditEvent};
use crate::domain::redirect_uri::RedirectUriError;
use crate::domain::secret::{PlainSecret, random_base62};
use crate::domain::user::{PasswordError, Role, hash_password, normalize_email};
use crate::storage::MembershipChange;
use crate::storage::UserRecord;
use crate::storage::{StorageError, Store};

pub const USER_ID_PREFIX: &str = "usr_";

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0:?} is not an email address")]
    InvalidEmail(String),
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("the name must be 1 to {} characters", crate::domain::MAX_LABEL_CHARS)]
    InvalidName,
    #[error("no such workspace: {0}")]
    NoSuchWorkspace(String),
    #[error("no such user or workspace")]
    NotFound,
    #[error("the user is not a member of that workspace")]
    NotAMember,
    #[error(
        "the user is the workspace's only owner: make another member owner first \
         (`keyflow user add-to-workspace --role owner`)"
    )]
    LastOwner,
    #[error("the user is already disabled")]
    AlreadyDisabled,
    #[error("the user is not disabled")]
    NotDisabled,
    #[error("no third-party client {0:?}; `keyflow client list` shows them")]
    NoSuchClient(String),
    #[error("no resource server {0:?}; `keyflow resource-server list` shows them")]
    NoSuchResourceServer(String),
    #[error("at least one --redirect-uri is required")]
    NoRedirectUri,
    #[error(transparent)]
    RedirectUri(#[from] RedirectUriError),
    #[error("post-logout {0}")]
    PostLogoutUri(RedirectUriError),
    #[error("scope {0:?} is not in the scope catalogue")]
    UnknownScope(String),
    #[error("the logo URI must be an https URL")]
    InvalidLogo,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[derive(Debug)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub name: Option<&'a str>,
    pub memberships: Vec<(String, Role)>,
}

/// Creates a user; the password is hashed with Argon2id off the async
/// workers.
pub async fn create_user(
    store: &dyn Store,
    new: NewUser<'_>,
    now: UnixTime,
    ctx: &AuditContext,
) -> Result<String, AccountError> {
    for (ws, _) in &new.memberships {
        if store.get_workspace(ws).await?.is_none() {
            return Err(AccountError::NoSuchWorkspace(ws.clone()));
        }
    }
    let user = new_user_record(new.email, new.name, new.password, now).await?;
    let memberships: Vec<_> = new
        .memberships
        .iter()
        .map(|(w, r)| serde_json::json!({"workspaceId": w, "role": r.as_str()}))
        .collect();
    let mut audit = ctx
        .entry(AuditEvent::UserCreated, now)
        .details(serde_json::json!({"userId": user.id, "memberships": memberships}));
    // With one workspace, the event shows in that workspace's audit log.
    if let [(workspace, _)] = new.memberships.as_slice() {
        audit = audit.workspace(workspace);
    }
    match store.create_user(&user, &new.memberships, &audit).await {
        Ok(()) => Ok(user.id),
        Err(StorageError::Conflict) => Err(AccountError::EmailTaken),
        Err(e) => Err(e.into()),
    }
}

/// An Argon2id hash of a new password, computed off the async workers;
/// too short or too long a password is refused before hashing.
pub async fn hash_new_password(password: &str) -> Result<String, PasswordError> {
    let password = PlainSecret::new(password.to_owned());
    tokio::task::spawn_blocking(move || hash_password(password.expose()))
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))?
}

/// A new user's record: the email normalized, the name checked, the
/// password hashed.
pub async fn new_user_record(
    email: &str,
    name: Option<&str>,
    password: &str,
    now: UnixTime,
) -> Result<UserRecord, AccountError> {
    let email = normalize_email(email).ok_or_else(|| AccountError::InvalidEmail(email.into()))?;
    let name = match name {
        Some(n) => Some(
            crate::domain::label(n)
                .ok_or(AccountError::InvalidName)?
                .to_owned(),
        ),
        None => None,
    };
    Ok(UserRecord {
        id: format!("{USER_ID_PREFIX}{}", random_base62(24)),
        email,
        name,
        password_hash: hash_new_password(password).await?,
        created_at: now,
        disabled_at: None,
        platform_admin: false,
    })
}

/// Adds a user to a workspace, or changes the role they have there; the
/// workspace's last owner cannot be demoted.
pub async fn set_membership(
    store: &dyn Store,
    user_id: &str,
    workspace_id: &str,
    role: Role,
    now: UnixTime,
    ctx: &AuditContext,
) -> Result<(), AccountError> {
    let audit = ctx
        .entry(AuditEvent::MembershipChanged, now)
        .workspace(workspace_id)
        .details(serde_json::json!({"userId": user_id, "role": role.as_str()}));
    match store
        .set_membership(user_id, workspace_id, role, &audit)
        .await?
    {
        MembershipChange::Done => Ok(()),
        MembershipChange::Missing => Err(AccountError::NotFound),
        MembershipChange::LastOwner => Err(AccountError::LastOwner),
    }
}

/// Takes the user out of the workspace and ends every grant they made
/// there; the workspace's last owner cannot leave.
pub async fn remove_membership(
    store: &dyn Store,
    user_id: &str,
    workspace_id: &str,
    now: UnixTime,
    ctx: &AuditContext,
) -> Result<(), AccountError> {
    let audit = ctx
        .entry(AuditEvent::MembershipRemoved, now)
        .workspace(workspace_id)
        .details(serde_json::json!({"userId": user_id}));
    match store
        .remove_membership(user_id, workspace_id, now, &audit)
        .await?
    {
        MembershipChange::Done => {
            // The denylist of the ended grants' access tokens is cached by nodes.
            crate::node::leased_cache::wait_for_propagation().await;
            Ok(())
        }
        MembershipChange::Missing => Err(AccountError::NotAMember),
        MembershipChange::LastOwner => Err(AccountError::LastOwner),
    }
}

/// Disables the user: sign-in is refused, their sessions end, and every
/// grant they made is ended with its tokens (as a disconnect does). Their
/// memberships stay, for when they are enabled again.
pub async fn disable_user(
    store: &dyn Store,
    user_id: &str,
    now: UnixTime,
    ctx: &AuditContext,
) -> Result<(), AccountError> {
    let audit = ctx
        .entry(AuditEvent::UserDisabled, now)
        .details(serde_json::json!({"userId": user_id}));
    if !store.disable_user(user_id, now, &audit).await? {
        return Err(AccountError::AlreadyDisabled);
    }
    // The denylist of the ended grants' access tokens is cached by nodes.
    crate::node::leased_cache::wait_for_propagation().await;
    Ok(())
}

/// Lets a disabled user sign in again; what was ended stays ended.
pub async fn enable_user(
    store: &dyn Store,
    user_id: &str,
    now: UnixTime,
    ctx: &AuditContext,
) -> Result<(), AccountError> {
    let audit = ctx
        .entry(AuditEvent::UserEnabled, now)
        .details(serde_json::json!({"userId": user_id}));
    match store.enable_user(user_id, &audit).await? {
        true => Ok(()),
        false => Err(AccountError::NotDisabled),
    }
}
