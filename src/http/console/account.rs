//! The person's account: their password, their sessions, signing out.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::views::{AccountPage, SessionView};
use super::{Done, form_session, frame, require_session, when};
use crate::app::App;
use crate::domain::secret::PlainSecret;
use crate::http::browser::{BrowserForm, PageError, SESSION_COOKIE, clear_cookie, page, see_other};
use crate::http::origin::RequestOrigin;
use crate::service::passwords::PasswordChangeError;
use crate::service::sessions::SignedIn;

pub const ACCOUNT_PATH: &str = "/console/account";

pub async fn show(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, ACCOUNT_PATH).await?;
    let notice = (q.done.as_deref() == Some("password"))
        .then(|| "Your password was changed. Every other browser was signed out.".to_owned());
    account_page(&app, &session, StatusCode::OK, notice, None).await
}

async fn account_page(
    app: &App,
    session: &SignedIn,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let sessions = app.sessions().list(session).await?;
    Ok(page(
        status,
        AccountPage {
            frame: frame(app, session, "account"),
            name: session.user.name.clone().unwrap_or_default(),
            email: session.user.email.clone(),
            sessions: sessions
                .into_iter()
                .map(|(s, current)| SessionView {
                    signed_in: when(s.created_at),
                    last_password: when(s.auth_time),
                    ip: s.ip.unwrap_or_else(|| "unknown".into()),
                    user_agent: s.user_agent.unwrap_or_else(|| "unknown".into()),
                    current,
                })
                .collect(),
            notice,
            error,
        },
    ))
}

pub async fn change_password(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let current = PlainSecret::new(form.take("current_password").unwrap_or_default());
    let new = PlainSecret::new(form.take("new_password").unwrap_or_default());
    let error = match app
        .passwords()
        .change_password(&session, current, new.expose(), origin)
        .await
    {
        Ok(()) => return Ok(see_other(&format!("{ACCOUNT_PATH}?done=password"))),
        Err(PasswordChangeError::Store(f)) => return Err(f.into()),
        Err(PasswordChangeError::WrongPassword) => (
            StatusCode::UNAUTHORIZED,
            "The current password is not right.".to_owned(),
        ),
        Err(PasswordChangeError::Throttled(s)) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed attempts. Try again in {s} seconds."),
        ),
        Err(PasswordChangeError::Password(p)) => (
            StatusCode::BAD_REQUEST,
            format!("The new password was not set: {p}."),
        ),
    };
    account_page(&app, &session, error.0, None, Some(error.1)).await
}

/// Back to the sign-in page, with the session cookie cleared.
fn signed_out(app: &App) -> Response {
    let mut res = see_other("/login?return_to=/console");
    res.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(app, SESSION_COOKIE));
    res
}

pub async fn sign_out_everywhere(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    app.sessions().sign_out_everywhere(&session, origin).await?;
    Ok(signed_out(&app))
}

pub async fn sign_out(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    app.sessions().sign_out(&session, None, origin).await?;
    Ok(signed_out(&app))
}
