//! `GET /login` and `POST /login`: the password form. Within an
//! authorization request it continues the flow; on its own it leads to the
//! account pages.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::proceed;
use crate::app::App;
use crate::domain::secret::PlainSecret;
use crate::http::browser::pages::{ClientView, LoginPage};
use crate::http::browser::{
    self, BrowserForm, CSRF_COOKIE, PageError, SESSION_COOKIE, csrf_ok, csrf_token, error_page,
    login_binding, page, see_other, set_cookie,
};
use crate::http::origin::RequestOrigin;
use crate::service::sessions::SignInError;

/// Where a sign-in outside an authorization request lands.
pub const ACCOUNT_HOME: &str = "/console";

/// Only keyflow's own console and account pages, invitation links, and
/// `/device` with its code: never an open redirect.
fn local_target(return_to: &str) -> &str {
    let device = return_to == "/device" || return_to.starts_with("/device?");
    let ours = device
        || ["/console", "/account/", "/invitations/"]
            .iter()
            .any(|p| return_to.starts_with(p));
    let ok = ours && !return_to.contains("//") && !return_to.contains('\\');
    if ok { return_to } else { ACCOUNT_HOME }
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    /// Set after a password reset, to say so.
    reset: Option<String>,
}

pub async fn login_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let return_to = local_target(q.return_to.as_deref().unwrap_or(ACCOUNT_HOME)).to_owned();
    if browser::signed_in(&app, &headers).await?.is_some() {
        return Ok(see_other(&return_to));
    }
    let form = LoginForm {
        return_to,
        notice: q
            .reset
            .map(|_| "Your password was changed. Sign in with the new one.".to_owned()),
        ..LoginForm::default()
    };
    Ok(form_page(&app, &headers, form, None))
}

/// What the login form shows again after a failed attempt.
#[derive(Debug, Default)]
pub(super) struct LoginForm {
    /// Whom the user is signing in for, within an authorization request.
    pub client: Option<ClientView>,
    /// The authorization request, travelling in the form.
    pub request: String,
    pub return_to: String,
    pub username: String,
    pub notice: Option<String>,
}

/// Why the previous attempt failed: status, message, seconds to wait.
type Failure = (StatusCode, &'static str, Option<u64>);

/// The login form, with a fresh CSRF binding cookie when the browser has
/// none.
pub(super) fn form_page(
    app: &App,
    headers: &HeaderMap,
    form: LoginForm,
    failure: Option<Failure>,
) -> Response {
    let (binding, new) = login_binding(headers);
    // A throttled answer says when to retry; the template words it.
    let (status, error, retry_after) = match failure {
        Some((s, _, Some(r))) => (s, None, Some(r)),
        Some((s, e, None)) => (s, Some(e.to_owned()), None),
        None => (StatusCode::OK, None, None),
    };
    let mut res = page(
        status,
        LoginPage {
            client: form.client,
            csrf: csrf_token(app, &binding),
            request: form.request,
            return_to: form.return_to,
            username: form.username,
            error,
            retry_after,
            notice: form.notice,
            can_reset: app.settings.mail.is_some(),
            signup_open: app.settings.auth.signup == crate::config::SignupPolicy::Open,
        },
    );
    if let Some(r) = retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, r.max(1).into());
    }
    if new {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(app, CSRF_COOKIE, &binding, app.settings.auth.session_ttl),
        );
    }
    res
}

pub async fn login_submit(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let request = form.take("request").unwrap_or_default();
    let return_to = local_target(form.get("return_to").unwrap_or(ACCOUNT_HOME)).to_owned();
    // Login CSRF (RFC 6749 §10.12): the token must match this browser's
    // binding cookie.
    let binding = browser::cookie(&headers, CSRF_COOKIE).unwrap_or("");
    if binding.is_empty() || !csrf_ok(&app, binding, form.get("csrf")) {
        return Err(expired());
    }
    // Within an authorization request, check it again before anything
    // else: the page shows whom the user is signing in for.
    let authz = match request.as_str() {
        "" => None,
        query => Some(super::check(&app, query).await?),
    };
    let username = form.take("username").unwrap_or_default();
    let password = PlainSecret::new(form.take("password").unwrap_or_default());
    let replacing = browser::cookie(&headers, SESSION_COOKIE);
    let signed_in = match app
        .sessions()
        .sign_in(&username, password, origin, replacing)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            let again = LoginForm {
                client: authz.as_ref().map(super::client_view),
                request,
                return_to,
                username,
                notice: None,
            };
            return Ok(form_page(&app, &headers, again, Some(failure(e)?)));
        }
    };
    let cookie = set_cookie(
        &app,
        SESSION_COOKIE,
        &signed_in.session_id,
        app.settings.auth.session_ttl,
    );
    let mut res = match authz {
        Some(r) => proceed(&app, &headers, r, &request, Some(signed_in), true).await?,
        None => see_other(&return_to),
    };
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

fn expired() -> PageError {
    error_page(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "For your safety keyflow did not act on it. Go back, reload the page and sign in again.",
    )
    .into()
}

/// How a refused sign-in is shown on the form again.
fn failure(e: SignInError) -> Result<Failure, PageError> {
    Ok(match e {
        SignInError::InvalidEmail => (
            StatusCode::BAD_REQUEST,
            "Enter the email address of your account.",
            None,
        ),
        SignInError::Throttled(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins.",
            Some(wait),
        ),
        SignInError::WrongCredentials => {
            (StatusCode::UNAUTHORIZED, "Wrong email or password.", None)
        }
        SignInError::Disabled => (
            StatusCode::FORBIDDEN,
            "This account is disabled. Ask your administrator to enable it.",
            None,
        ),
        SignInError::Store(f) => return Err(f.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_returns_only_to_keyflows_own_pages() {
        for ours in [
            "/console/workspaces/w1",
            "/account/apps",
            "/invitations/abc",
            "/device",
            "/device?user_code=BCDF-GHJK",
        ] {
            assert_eq!(local_target(ours), ours);
        }
        for other in [
            "https://evil.example/",
            "//evil.example/",
            "/console//evil.example",
            "/devices",
            "/device/decision",
            "/oauth/token",
            "/console\\evil",
        ] {
            assert_eq!(local_target(other), ACCOUNT_HOME, "{other}");
        }
    }
}
