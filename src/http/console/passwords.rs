//! Password-reset links and "Forgot your password?". The reset page comes
//! before a session, so its form is bound to the pre-login cookie.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::TokenQuery;
use super::join::{bound_page, check_binding, link_gone};
use super::views::{ForgotPage, ResetPage};
use crate::app::App;
use crate::http::browser::{BrowserForm, PageError, error_page, see_other};
use crate::http::origin::RequestOrigin;
use crate::service::passwords::ResetError;

pub use crate::service::passwords::RESET_PATH;
pub const FORGOT_PATH: &str = "/forgot-password";

pub async fn reset_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let token = q.token.unwrap_or_default();
    if token.is_empty() || !app.passwords().link_usable(&token).await? {
        return Err(link_gone());
    }
    Ok(bound_page(&app, &headers, StatusCode::OK, |csrf| {
        ResetPage {
            csrf,
            token,
            error: None,
        }
    }))
}

pub async fn reset(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    check_binding(&app, &headers, &form)?;
    let token = form.take("token").unwrap_or_default();
    let password = form.take("password").unwrap_or_default();
    match app.passwords().reset(&token, &password, origin).await {
        Ok(_) => Ok(see_other("/login?return_to=/console&reset=1")),
        Err(ResetError::LinkUnusable) | Err(ResetError::NoSuchUser) => Err(link_gone()),
        Err(ResetError::Store(f)) => Err(f.into()),
        Err(ResetError::Password(p)) => Ok(bound_page(
            &app,
            &headers,
            StatusCode::BAD_REQUEST,
            |csrf| ResetPage {
                csrf,
                token,
                error: Some(format!("The password was not set: {p}.")),
            },
        )),
    }
}

fn without_smtp() -> PageError {
    error_page(
        StatusCode::NOT_FOUND,
        "Ask your administrator",
        "This keyflow sends no email. A platform admin can create a password-reset link for you.",
    )
    .into()
}

pub async fn forgot_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if app.settings.mail.is_none() {
        return Err(without_smtp());
    }
    Ok(bound_page(&app, &headers, StatusCode::OK, |csrf| {
        ForgotPage { csrf, sent: false }
    }))
}

/// The same answer whether or not the address has an account.
pub async fn forgot(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    if app.settings.mail.is_none() {
        return Err(without_smtp());
    }
    check_binding(&app, &headers, &form)?;
    let email = form.get("email").unwrap_or_default();
    app.passwords().request_by_email(email, origin).await?;
    Ok(bound_page(&app, &headers, StatusCode::OK, |csrf| {
        ForgotPage { csrf, sent: true }
    }))
}
