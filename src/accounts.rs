//! Operator actions on people and third-party integrations: creating users
//! and their memberships, and registering OAuth clients. The CLI calls
//! these; they hold the rules, the store holds the rows.

use crate::clock::UnixTime;
use crate::crypto::signing::Algorithm;
use crate::domain::audit::{AuditContext, AuditEvent};
use crate::domain::redirect_uri::{self, RedirectUriError};
use crate::domain::scope::{ScopeCatalogue, ScopeSet};
use crate::domain::secret::{PlainSecret, SecretHasher, random_base62};
use crate::domain::user::{PasswordError, Role, hash_password, normalize_email};
use crate::domain::workspace::new_secret_key;
use crate::storage::auth::{OAuthClientRecord, UserRecord};
use crate::storage::{ClientKind, ClientRecord, NewSecret, StorageError, Store};

pub const USER_ID_PREFIX: &str = "usr_";
pub const CLIENT_ID_PREFIX: &str = "cli_";
/// Scopes a client gets when the operator names none.
pub const DEFAULT_CLIENT_SCOPES: &str = "openid profile email offline_access api:read api:write";

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
    let email =
        normalize_email(new.email).ok_or_else(|| AccountError::InvalidEmail(new.email.into()))?;
    let name = match new.name {
        Some(n) => Some(
            crate::domain::label(n)
                .ok_or(AccountError::InvalidName)?
                .to_owned(),
        ),
        None => None,
    };
    for (ws, _) in &new.memberships {
        if store.get_workspace(ws).await?.is_none() {
            return Err(AccountError::NoSuchWorkspace(ws.clone()));
        }
    }
    let password = PlainSecret::new(new.password.to_owned());
    let password_hash = tokio::task::spawn_blocking(move || hash_password(password.expose()))
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))??;
    let user = UserRecord {
        id: format!("{USER_ID_PREFIX}{}", random_base62(24)),
        email,
        name,
        password_hash,
        created_at: now,
    };
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

/// Adds a user to a workspace, or changes the role they have there.
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
        true => Ok(()),
        false => Err(AccountError::NotFound),
    }
}

#[derive(Debug)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub scopes: Vec<String>,
    pub logo_uri: Option<String>,
    pub id_token_alg: Algorithm,
}

/// A registered client, with the one-time plaintext of its secret.
#[derive(Debug)]
pub struct CreatedClient {
    pub client_id: String,
    pub secret: Option<PlainSecret>,
}

pub async fn create_client(
    store: &dyn Store,
    hasher: &SecretHasher,
    catalogue: &ScopeCatalogue,
    new: NewClient,
    now: UnixTime,
    ctx: &AuditContext,
) -> Result<CreatedClient, AccountError> {
    let name = crate::domain::label(&new.name).ok_or(AccountError::InvalidName)?;
    if new.redirect_uris.is_empty() {
        return Err(AccountError::NoRedirectUri);
    }
    for uri in &new.redirect_uris {
        redirect_uri::validate(uri)?;
    }
    for uri in &new.post_logout_redirect_uris {
        redirect_uri::validate(uri).map_err(AccountError::PostLogoutUri)?;
    }
    let scopes = if new.scopes.is_empty() {
        ScopeSet::parse(DEFAULT_CLIENT_SCOPES).expect("default scopes are valid")
    } else {
        new.scopes
            .iter()
            .flat_map(|s| s.split(' '))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    if let Some(unknown) = scopes.iter().find(|s| catalogue.get(s).is_none()) {
        return Err(AccountError::UnknownScope(unknown.to_owned()));
    }
    if let Some(logo) = &new.logo_uri
        && !url::Url::parse(logo).is_ok_and(|u| u.scheme() == "https")
    {
        return Err(AccountError::InvalidLogo);
    }
    let client = ClientRecord {
        client_id: format!("{CLIENT_ID_PREFIX}{}", random_base62(24)),
        workspace_id: None,
        kind: ClientKind::ThirdParty,
        name: name.to_owned(),
        secret_rotated_at: (!new.public).then_some(now),
        tokens_issued: 0,
        last_used_at: None,
        created_at: now,
        tokens_revoked_before: None,
    };
    let oauth = OAuthClientRecord {
        client_id: client.client_id.clone(),
        public: new.public,
        redirect_uris: new.redirect_uris,
        post_logout_redirect_uris: new.post_logout_redirect_uris,
        scopes: scopes.to_string(),
        logo_uri: new.logo_uri,
        id_token_alg: new.id_token_alg,
    };
    let secret = (!new.public).then(new_secret_key);
    let stored = secret.as_ref().map(|s| NewSecret::new(hasher.hash(s)));
    let audit = ctx
        .entry(AuditEvent::ClientCreated, now)
        .details(serde_json::json!({
            "clientId": client.client_id,
            "kind": "third_party",
            "name": name,
            "public": new.public,
            "redirectUris": oauth.redirect_uris,
            "scope": oauth.scopes,
        }));
    store
        .create_oauth_client(&client, &oauth, stored.as_ref(), &audit)
        .await?;
    Ok(CreatedClient {
        client_id: client.client_id,
        secret,
    })
}
