//! The console: server-rendered pages where people create workspaces, copy
//! their keys, regenerate secrets, manage members and their account. Every
//! action calls the same service as the `/v1` API and the CLI; the pages
//! work without JavaScript, and `keyflow.js` adds copying and dialogs.

mod account;
mod admin;
mod api_keys;
mod audit;
mod chart;
mod connections;
mod device;
mod home;
mod integration;
mod join;
mod members;
mod passwords;
mod views;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

use super::Route;
use super::browser::{self, PageError, csrf_ok, csrf_token, error_page, page, see_other};
use crate::app::App;
use crate::domain::audit::{Actor, AuditContext, Origin};
use crate::domain::permission::recently_authenticated;
use crate::domain::secret::PlainSecret;
use crate::http::form::OAuthForm;
use crate::service::members::MemberError;
use crate::service::sessions::{SignInError, SignedIn};
pub use views::Frame;
use views::ReauthPage;

pub const CONSOLE_PATH: &str = "/console";
pub const SIGN_OUT_PATH: &str = "/console/sign-out";
pub use join::INVITATION_PATH;

pub fn routes() -> Vec<Route> {
    let mut routes = workspace_routes();
    routes.extend(api_key_routes());
    routes.extend(activity_routes());
    routes.extend(person_routes());
    routes
}

/// The console's home, a workspace's integration and members.
fn workspace_routes() -> Vec<Route> {
    vec![
        Route::new(CONSOLE_PATH, get(home::index)),
        Route::new("/console/workspaces", post(home::create)),
        Route::new("/console/workspaces/{id}", get(integration::to_tab)),
        Route::new(
            "/console/workspaces/{id}/integration",
            get(integration::show),
        ),
        Route::new(
            "/console/workspaces/{id}/regenerate",
            get(integration::confirm).post(integration::regenerate),
        ),
        Route::new("/console/workspaces/{id}/members", get(members::show)),
        Route::new(
            "/console/workspaces/{id}/members/invite",
            post(members::invite),
        ),
        Route::new(
            "/console/workspaces/{id}/members/role",
            post(members::change_role),
        ),
        Route::new(
            "/console/workspaces/{id}/members/remove",
            post(members::remove),
        ),
        Route::new(
            "/console/workspaces/{id}/invitations/revoke",
            post(members::revoke_invitation),
        ),
    ]
}

/// A workspace's API Keys tab, a key's page, and their actions.
fn api_key_routes() -> Vec<Route> {
    vec![
        Route::new(
            "/console/workspaces/{id}/api-keys",
            get(api_keys::list).post(api_keys::create),
        ),
        Route::new(
            "/console/workspaces/{id}/api-keys/new",
            get(api_keys::new_page),
        ),
        Route::new(
            "/console/workspaces/{id}/api-keys/{key}",
            get(api_keys::show),
        ),
        Route::new(
            "/console/workspaces/{id}/api-keys/{key}/edit",
            post(api_keys::edit),
        ),
        Route::new(
            "/console/workspaces/{id}/api-keys/{key}/active",
            post(api_keys::set_active),
        ),
        Route::new(
            "/console/workspaces/{id}/api-keys/{key}/roll",
            get(api_keys::roll_page).post(api_keys::roll),
        ),
        Route::new(
            "/console/workspaces/{id}/api-keys/{key}/revoke",
            get(api_keys::revoke_page).post(api_keys::revoke),
        ),
    ]
}

/// Who and what acts in a workspace: its audit log and connected apps.
fn activity_routes() -> Vec<Route> {
    vec![
        Route::new("/console/workspaces/{id}/audit", get(audit::workspace_log)),
        Route::new(
            "/console/workspaces/{id}/connections",
            get(connections::show),
        ),
        Route::new(
            "/console/workspaces/{id}/connections/disconnect",
            get(connections::disconnect_page).post(connections::disconnect),
        ),
    ]
}

/// The person's account, the platform admin's pages, and getting in.
fn person_routes() -> Vec<Route> {
    vec![
        Route::new(
            crate::http::device_authorization::VERIFICATION_PATH,
            get(device::show).post(device::enter),
        ),
        Route::new(device::DECISION_PATH, post(device::decide)),
        Route::new("/console/account", get(account::show)),
        Route::new("/console/account/password", post(account::change_password)),
        Route::new(
            "/console/account/sessions/end",
            post(account::sign_out_everywhere),
        ),
        Route::new(SIGN_OUT_PATH, post(account::sign_out)),
        Route::new(admin::USERS_PATH, get(admin::users)),
        Route::new(audit::PLATFORM_PATH, get(audit::platform_log)),
        Route::new("/console/admin/users/status", post(admin::set_status)),
        Route::new("/console/admin/users/reset-link", post(admin::reset_link)),
        Route::new(
            admin::CLIENTS_PATH,
            get(admin::clients).post(admin::register_client),
        ),
        Route::new("/console/admin/clients/rotate", post(admin::rotate_client)),
        Route::new(
            passwords::RESET_PATH,
            get(passwords::reset_page).post(passwords::reset),
        ),
        Route::new(
            passwords::FORGOT_PATH,
            get(passwords::forgot_page).post(passwords::forgot),
        ),
        Route::new(join::SETUP_PATH, get(join::setup_page).post(join::setup)),
        Route::new(join::SIGNUP_PATH, get(join::signup_page).post(join::signup)),
        Route::new(
            join::INVITATION_PATH,
            get(join::invitation_page).post(join::accept_invitation),
        ),
    ]
}

/// `?done=…`: what a post-redirect-get just did, for the page to say.
#[derive(Debug, serde::Deserialize)]
pub struct Done {
    pub done: Option<String>,
}

/// `?token=…`: a one-time link's token (setup, password reset).
#[derive(Debug, serde::Deserialize)]
pub struct TokenQuery {
    pub token: Option<String>,
}

/// The signed-in person, or a redirect to the sign-in page that comes back
/// to `return_to`.
pub(crate) async fn require_session(
    app: &App,
    headers: &HeaderMap,
    return_to: &str,
) -> Result<SignedIn, PageError> {
    match browser::signed_in(app, headers).await? {
        Some(s) => Ok(s),
        None => Err(see_other(&format!(
            "/login?return_to={}",
            percent_encoding::utf8_percent_encode(return_to, percent_encoding::NON_ALPHANUMERIC)
        ))
        .into()),
    }
}

/// A console form: signed in, with this session's CSRF token.
pub(crate) async fn form_session(
    app: &App,
    headers: &HeaderMap,
    form: &OAuthForm,
) -> Result<SignedIn, PageError> {
    let session = require_session(app, headers, CONSOLE_PATH).await?;
    if !csrf_ok(app, &session.session_id, form.get("csrf")) {
        return Err(expired());
    }
    Ok(session)
}

pub(crate) fn expired() -> PageError {
    error_page(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "For your safety keyflow did not act on it. Go back, reload the page and try again.",
    )
    .into()
}

pub(crate) fn frame(app: &App, session: &SignedIn, nav: &'static str) -> Frame {
    Frame {
        user_email: session.user.email.clone(),
        csrf: csrf_token(app, &session.session_id),
        platform_admin: session.user.platform_admin,
        nav,
    }
}

pub(crate) fn audit_context(session: &SignedIn, origin: Origin) -> AuditContext {
    AuditContext {
        actor: Actor::user(&session.user.id),
        origin,
    }
}

/// Sensitive actions need a sign-in within the last ten minutes. A form
/// that carries `password` re-authenticates on the way; otherwise the
/// person gets a password prompt that posts the same form again to
/// `action` with `fields`, and then the action goes on.
pub(crate) async fn require_recent_auth(
    app: &App,
    session: &SignedIn,
    form: &mut OAuthForm,
    origin: &Origin,
    action: &str,
    fields: &[(&str, &str)],
) -> Result<(), PageError> {
    if recently_authenticated(session.session.auth_time, app.clock.now()) {
        return Ok(());
    }
    let error = match form.take("password") {
        None => None,
        Some(p) => match app
            .sessions()
            .reauthenticate(session, PlainSecret::new(p), origin.clone())
            .await
        {
            Ok(()) => return Ok(()),
            Err(SignInError::Store(f)) => return Err(f.into()),
            Err(SignInError::Throttled(s)) => Some(format!(
                "Too many failed attempts. Try again in {s} seconds."
            )),
            Err(_) => Some("That password is not right.".to_owned()),
        },
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    Err(page(
        status,
        ReauthPage {
            frame: frame(app, session, ""),
            action: action.to_owned(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            error,
        },
    )
    .into())
}

/// How a refused workspace action is shown.
impl From<MemberError> for PageError {
    fn from(e: MemberError) -> Self {
        let (status, title) = match &e {
            MemberError::NoSuchWorkspace => (StatusCode::NOT_FOUND, "No such workspace"),
            MemberError::Forbidden { .. } => (StatusCode::FORBIDDEN, "Not allowed"),
            MemberError::Store(f) => return browser::unavailable(f).into(),
            MemberError::NoSuchMember | MemberError::NoSuchInvitation => {
                (StatusCode::NOT_FOUND, "Not found")
            }
            _ => (StatusCode::BAD_REQUEST, "That did not work"),
        };
        error_page(status, title, &capitalized(&e.to_string())).into()
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn when(t: crate::clock::UnixTime) -> String {
    let s = crate::clock::rfc3339(t);
    match (s.get(..10), s.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => s,
    }
}

/// A workspace tab: the person's access to it (or the page saying there is
/// no such workspace) and the header every tab shows.
pub(crate) async fn workspace_tab(
    app: &App,
    session: &SignedIn,
    workspace_id: &str,
    tab: &'static str,
) -> Result<
    (
        crate::service::members::WorkspaceAccess,
        views::WorkspaceHeader,
    ),
    PageError,
> {
    let access = app.members().access(&session.user, workspace_id).await?;
    let header = views::WorkspaceHeader {
        id: access.workspace.id.clone(),
        name: access.workspace.name.clone(),
        role: match access.role {
            Some(r) => home::role_label(r).to_owned(),
            None => "Platform admin (view only)".to_owned(),
        },
        tab,
        administers: access.may(crate::domain::permission::WorkspaceAction::Administer),
    };
    Ok((access, header))
}
