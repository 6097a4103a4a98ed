//! Getting in: the first-run setup page, sign-up (under `--signup open`),
//! and invitation links. These pages come before a session, so their forms
//! are bound to the browser's pre-login cookie, as the login form is.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::views::{InvitationMode, InvitationPage, SetupPage, SignupPage};
use super::{CONSOLE_PATH, TokenQuery};
use crate::app::App;
use crate::config::SignupPolicy;
use crate::domain::invitation::InvitationState;
use crate::http::browser::{
    self, BrowserForm, CSRF_COOKIE, PageError, SESSION_COOKIE, csrf_ok, csrf_token, error_page,
    login_binding, page, see_other, set_cookie,
};
use crate::http::form::OAuthForm;
use crate::http::origin::RequestOrigin;
use crate::service::sessions::SignedIn;
use crate::service::signup::{InvitationView, NewAccount, SignUpError};

pub const SETUP_PATH: &str = "/setup";
pub const SIGNUP_PATH: &str = "/signup";
pub const INVITATION_PATH: &str = "/invitations/{token}";

/// A pre-login page, with a fresh binding cookie when the browser has none.
pub(super) fn bound_page<T: IntoResponse>(
    app: &App,
    headers: &HeaderMap,
    status: StatusCode,
    view: impl FnOnce(String) -> T,
) -> Response {
    let (binding, new) = login_binding(headers);
    let mut res = page(status, view(csrf_token(app, &binding)));
    if new {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(app, CSRF_COOKIE, &binding, app.settings.auth.session_ttl),
        );
    }
    res
}

pub(super) fn check_binding(
    app: &App,
    headers: &HeaderMap,
    form: &OAuthForm,
) -> Result<(), PageError> {
    let binding = browser::cookie(headers, CSRF_COOKIE).unwrap_or("");
    if binding.is_empty() || !csrf_ok(app, binding, form.get("csrf")) {
        return Err(super::expired());
    }
    Ok(())
}

/// Signed in: the session cookie, and on to `to`.
pub(super) fn signed_in_to(app: &App, signed_in: &SignedIn, to: &str) -> Response {
    let mut res = see_other(to);
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            app,
            SESSION_COOKIE,
            &signed_in.session_id,
            app.settings.auth.session_ttl,
        ),
    );
    res
}

/// How a refused sign-up shows on its form, or a failure page.
fn refusal(e: SignUpError) -> Result<(StatusCode, String), PageError> {
    let status = match &e {
        SignUpError::Store(f) => return Err(browser::unavailable(f).into()),
        SignUpError::EmailTaken => StatusCode::CONFLICT,
        SignUpError::InvitationOnly | SignUpError::Closed | SignUpError::WrongAccount(_) => {
            StatusCode::FORBIDDEN
        }
        SignUpError::LinkUnusable => StatusCode::GONE,
        SignUpError::TooMany => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut text = e.to_string();
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    Ok((status, format!("{text}.")))
}

pub(super) fn link_gone() -> PageError {
    error_page(
        StatusCode::GONE,
        "This link no longer works",
        "It has been used, has expired, or was revoked. Ask for a new one.",
    )
    .into()
}

pub async fn setup_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let token = q.token.unwrap_or_default();
    if token.is_empty() || !app.signup().setup_link_usable(&token).await? {
        return Err(link_gone());
    }
    Ok(bound_page(&app, &headers, StatusCode::OK, |csrf| {
        SetupPage {
            csrf,
            token,
            email: String::new(),
            name: String::new(),
            error: None,
        }
    }))
}

pub async fn setup(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    check_binding(&app, &headers, &form)?;
    let token = form.take("token").unwrap_or_default();
    let email = form.take("email").unwrap_or_default();
    let name = form.take("name").unwrap_or_default();
    let password = form.take("password").unwrap_or_default();
    let account = NewAccount {
        email: &email,
        name: &name,
        password: &password,
    };
    match app.signup().complete_setup(&token, account, origin).await {
        Ok(s) => Ok(signed_in_to(&app, &s, CONSOLE_PATH)),
        Err(SignUpError::LinkUnusable) => Err(link_gone()),
        Err(e) => {
            let (status, error) = refusal(e)?;
            Ok(bound_page(&app, &headers, status, |csrf| SetupPage {
                csrf,
                token,
                email,
                name,
                error: Some(error),
            }))
        }
    }
}

fn signup_closed(policy: SignupPolicy) -> PageError {
    let message = match policy {
        SignupPolicy::Invite => {
            "keyflow accounts here are by invitation only. Ask a workspace owner to invite you."
        }
        _ => "Accounts here are created by an administrator.",
    };
    error_page(StatusCode::FORBIDDEN, "Sign-up is not open", message).into()
}

pub async fn signup_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let policy = app.signup().policy();
    if policy != SignupPolicy::Open {
        return Err(signup_closed(policy));
    }
    Ok(bound_page(&app, &headers, StatusCode::OK, |csrf| {
        SignupPage {
            csrf,
            email: String::new(),
            name: String::new(),
            error: None,
        }
    }))
}

pub async fn signup(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let policy = app.signup().policy();
    if policy != SignupPolicy::Open {
        return Err(signup_closed(policy));
    }
    check_binding(&app, &headers, &form)?;
    let email = form.take("email").unwrap_or_default();
    let name = form.take("name").unwrap_or_default();
    let password = form.take("password").unwrap_or_default();
    let account = NewAccount {
        email: &email,
        name: &name,
        password: &password,
    };
    match app.signup().sign_up(account, origin).await {
        Ok(s) => Ok(signed_in_to(&app, &s, CONSOLE_PATH)),
        Err(e) => {
            let (status, error) = refusal(e)?;
            Ok(bound_page(&app, &headers, status, |csrf| SignupPage {
                csrf,
                email,
                name,
                error: Some(error),
            }))
        }
    }
}

/// The invitation behind a link, if it can still be used.
async fn usable(app: &App, token: &str) -> Result<InvitationView, PageError> {
    match app.signup().invitation(token).await? {
        Some(v) if v.state == InvitationState::Pending => Ok(v),
        _ => Err(link_gone()),
    }
}

fn mode(view: &InvitationView, session: Option<&SignedIn>) -> InvitationMode {
    match session {
        Some(s) if s.user.email == view.invitation.email => InvitationMode::Join,
        Some(_) => InvitationMode::WrongAccount,
        None if view.has_account => InvitationMode::SignIn,
        None => InvitationMode::SignUp,
    }
}

/// The invitation page for `view`, bound to the session when the person
/// is signed in as the invitee, else to the pre-login cookie.
fn render_invitation(
    app: &App,
    headers: &HeaderMap,
    status: StatusCode,
    view: &InvitationView,
    form: InvitationForm,
) -> Response {
    let session_binding = browser::cookie(headers, SESSION_COOKIE)
        .filter(|_| form.mode == InvitationMode::Join)
        .map(|id| csrf_token(app, id));
    let build = |csrf: String| InvitationPage {
        csrf: session_binding.clone().unwrap_or(csrf),
        token: form.token,
        workspace_name: view.workspace_name.clone(),
        email: view.invitation.email.clone(),
        role: view.invitation.role.as_str(),
        mode: form.mode,
        name: form.name,
        error: form.error,
    };
    bound_page(app, headers, status, build)
}

/// What the invitation form shows again.
struct InvitationForm {
    token: String,
    mode: InvitationMode,
    name: String,
    error: Option<String>,
}

pub async fn invitation_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let view = usable(&app, &token).await?;
    let session = browser::signed_in(&app, &headers).await?;
    let mode = mode(&view, session.as_ref());
    if mode == InvitationMode::SignUp && app.signup().policy() == SignupPolicy::Closed {
        return Err(signup_closed(SignupPolicy::Closed));
    }
    let form = InvitationForm {
        token,
        mode,
        name: String::new(),
        error: None,
    };
    Ok(render_invitation(
        &app,
        &headers,
        StatusCode::OK,
        &view,
        form,
    ))
}

pub async fn accept_invitation(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path(token): Path<String>,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let view = usable(&app, &token).await?;
    let signup = app.signup();
    if let Some(session) = browser::signed_in(&app, &headers).await? {
        if !csrf_ok(&app, &session.session_id, form.get("csrf")) {
            return Err(super::expired());
        }
        return match signup.accept_as(&token, &session, origin).await {
            Ok(ws) => Ok(see_other(&format!("/console/workspaces/{ws}/integration"))),
            Err(e) => {
                let (status, error) = refusal(e)?;
                Err(error_page(status, "The invitation was not accepted", &error).into())
            }
        };
    }
    check_binding(&app, &headers, &form)?;
    let name = form.take("name").unwrap_or_default();
    let password = form.take("password").unwrap_or_default();
    match signup.accept_as_new(&token, &name, &password, origin).await {
        Ok((s, ws)) => Ok(signed_in_to(
            &app,
            &s,
            &format!("/console/workspaces/{ws}/integration"),
        )),
        Err(e) => {
            let (status, error) = refusal(e)?;
            let form = InvitationForm {
                token,
                mode: mode(&view, None),
                name,
                error: Some(error),
            };
            Ok(render_invitation(&app, &headers, status, &view, form))
        }
    }
}
