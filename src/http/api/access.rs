//! Who a `/v1` caller is: the checks every management call makes on its
//! credential, and the one mapping from a token to what it may do in a
//! workspace. The rules themselves are the members service's, the same
//! the console applies to people.

use super::{ADMIN_SCOPE, ApiError};
use crate::app::App;
use crate::domain::api_key::{ApiKeyType, KeyAccess, KeyCaller};
use crate::domain::audit::{Actor, AuditContext, Origin};
use crate::domain::client::CLI_CLIENT_ID;
use crate::domain::permission::WorkspaceAction;
use crate::domain::user::{ADMIN_SCOPES, Role};
use crate::service::admin::PlatformAdmin;
use crate::service::api_keys::Creator;
use crate::service::members::WorkspaceAccess;
use crate::storage::UserRecord;
use crate::verifier::{CredentialKind, Principal, Rejection};

/// Who acts: the user, when a person authorized the token (a third-party
/// integration acting for them), else the client itself.
pub fn audit_context(principal: &Principal, origin: Origin) -> AuditContext {
    AuditContext {
        actor: match &principal.user_id {
            Some(user) => Actor::user(user),
            None => Actor::client(&principal.client_id),
        },
        origin,
    }
}

/// Access tokens of the workspace itself, with `workspace:admin`. Another
/// workspace's token gets 404 whatever its scopes. keyflow's CLI is judged
/// by the person's role instead (see [`acts_as_person`]).
pub fn authorize(principal: &Principal, workspace_id: &str) -> Result<(), ApiError> {
    require_token(principal)?;
    if !reaches(principal, workspace_id) {
        return Err(ApiError::NotFound);
    }
    if !acts_as_person(principal) {
        principal.require_scope(ADMIN_SCOPE)?;
    }
    Ok(())
}

/// An access token with `workspace:admin`, for the calls that name no
/// workspace in their path; or a session of keyflow's CLI.
pub fn authorize_admin(principal: &Principal) -> Result<(), ApiError> {
    require_token(principal)?;
    if !acts_as_person(principal) {
        principal.require_scope(ADMIN_SCOPE)?;
    }
    Ok(())
}

/// A session of keyflow's own CLI (docs/cli.md): it acts as the person who
/// signed in, as the console does. It reaches every workspace they belong
/// to, and each call is judged by their role there now, capped by the
/// session's scopes: one without the administrator scopes (a member's
/// session, RFC 6749 §3.3) acts as a member would.
pub fn acts_as_person(principal: &Principal) -> bool {
    principal.kind == CredentialKind::AccessToken
        && principal.user_id.is_some()
        && principal.client_id == CLI_CLIENT_ID
}

/// Whether the credential may act in `workspace_id` at all (its role or
/// type is checked next): a credential of that workspace, or a CLI
/// session. A workspace the person does not belong to is then a 404 from
/// [`access_of`].
fn reaches(principal: &Principal, workspace_id: &str) -> bool {
    principal.workspace_id.as_deref() == Some(workspace_id) || acts_as_person(principal)
}

fn require_token(principal: &Principal) -> Result<(), ApiError> {
    if principal.kind != CredentialKind::AccessToken {
        return Err(Rejection::missing_bearer().into());
    }
    Ok(())
}

/// What the caller may do in `workspace_id`, after [`authorize`]: a token
/// a person authorized acts with that person's role there now (not when
/// it was issued); the workspace's own application token acts as an
/// owner. The role checks are then `WorkspaceAccess::require`, in the
/// members service, as for the console.
pub async fn workspace_access(
    app: &App,
    principal: &Principal,
    workspace_id: &str,
) -> Result<WorkspaceAccess, ApiError> {
    authorize(principal, workspace_id)?;
    access_of(app, principal, workspace_id).await
}

/// The mapping of [`workspace_access`] alone, for the API-key routes,
/// which check their credential (a token or an API key) their own way.
pub async fn access_of(
    app: &App,
    principal: &Principal,
    workspace_id: &str,
) -> Result<WorkspaceAccess, ApiError> {
    let members = app.members();
    Ok(match &principal.user_id {
        Some(user_id) => {
            let mut access = members.access_for_user_id(user_id, workspace_id).await?;
            let full = ADMIN_SCOPES.iter().all(|s| principal.scopes.contains(s));
            if acts_as_person(principal) && !full {
                // Owner < Admin < Member: at most a member's role.
                access.role = access.role.map(|r| r.max(Role::Member));
            }
            access
        }
        None => members.access_for_application(workspace_id).await?,
    })
}

/// The person who authorized the token, after [`authorize_admin`]; `None`
/// for an application's own token. A person since removed or disabled
/// makes the token worthless (RFC 6750 §3.1 `invalid_token`).
pub async fn person(app: &App, principal: &Principal) -> Result<Option<UserRecord>, ApiError> {
    let Some(user_id) = &principal.user_id else {
        return Ok(None);
    };
    match app.members().active_user(user_id).await? {
        Some(user) => Ok(Some(user)),
        None => Err(Rejection::invalid_token("the token's user no longer exists").into()),
    }
}

/// Third-party clients belong to no workspace: only a platform
/// administrator's own token manages them.
pub async fn platform_admin(app: &App, principal: &Principal) -> Result<UserRecord, ApiError> {
    authorize_admin(principal)?;
    match person(app, principal).await? {
        // The console's rule, stated once in the admin service.
        Some(user) if PlatformAdmin::new(app, &user).is_ok() => Ok(user),
        Some(_) => Err(ApiError::Forbidden(
            "only a platform administrator may manage third-party clients".into(),
        )),
        None => Err(ApiError::Forbidden(
            "third-party clients are managed with a platform administrator's token; \
             this token was issued to an application"
                .into(),
        )),
    }
}

/// Who may touch a workspace's keys (docs/api-keys.md): access tokens of
/// the workspace and its API keys, with the scope `access` needs; only
/// secret keys and tokens write. Another workspace's credential gets 404.
/// A token a person authorized also needs their role now: admin to
/// write, any member to read, as in the console.
pub async fn key_creator(
    app: &App,
    principal: &Principal,
    workspace_id: &str,
    access: KeyAccess,
    origin: AuditContext,
) -> Result<Creator, ApiError> {
    if acts_as_person(principal) {
        return session_key_creator(app, principal, workspace_id, access, origin).await;
    }
    let creator = check_credential(principal, workspace_id, access, origin)?;
    if principal.kind == CredentialKind::AccessToken {
        let needed = match access {
            KeyAccess::Write => WorkspaceAction::Administer,
            KeyAccess::Read => WorkspaceAction::View,
        };
        access_of(app, principal, workspace_id)
            .await?
            .require(needed)?;
    }
    Ok(creator)
}

/// A CLI session manages keys as its person does in the console: admins
/// write, members read, and a key may carry any scope an application may.
async fn session_key_creator(
    app: &App,
    principal: &Principal,
    workspace_id: &str,
    access: KeyAccess,
    origin: AuditContext,
) -> Result<Creator, ApiError> {
    let ws = access_of(app, principal, workspace_id).await?;
    // acts_as_person: a person's token.
    let user_id = principal.user_id.as_deref().unwrap_or(&principal.subject);
    Ok(match access {
        KeyAccess::Write => app.api_keys.person_creator(user_id, &ws, origin)?,
        KeyAccess::Read => {
            ws.require(WorkspaceAction::View)?;
            Creator {
                id: user_id.to_owned(),
                scopes: app.settings.scopes.application_scopes(),
                audit: origin,
            }
        }
    })
}

fn check_credential(
    principal: &Principal,
    workspace_id: &str,
    access: KeyAccess,
    origin: AuditContext,
) -> Result<Creator, ApiError> {
    if !reaches(principal, workspace_id) {
        return match principal.kind {
            CredentialKind::AccessToken | CredentialKind::ApiKey => Err(ApiError::NotFound),
            _ => Err(Rejection::missing_bearer().into()),
        };
    }
    let caller = match principal.kind {
        CredentialKind::ApiKey => match ApiKeyType::of_key(&principal.client_id) {
            Some(t) => KeyCaller::Key(t),
            None => return Err(Rejection::insufficient_scope(access.scope()).into()),
        },
        CredentialKind::AccessToken => KeyCaller::Token,
        CredentialKind::AppKeyAndSecret | CredentialKind::AppKeyOnly => {
            return Err(Rejection::missing_bearer().into());
        }
    };
    if !access.allowed(caller, &principal.scopes) {
        principal.report(crate::domain::usage::Outcome::InsufficientScope);
        return Err(Rejection::insufficient_scope(access.scope()).into());
    }
    Ok(Creator {
        id: principal.subject.clone(),
        scopes: principal.scopes.clone(),
        audit: origin,
    })
}
