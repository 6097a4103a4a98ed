//! `GET /login` and `POST /login`: the password form. Within an
//! authorization request it continues the flow; on its own it leads to the
//! account pages.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::proceed;
use crate::app::App;
use crate::domain::audit::{Actor, AuditEntry, AuditEvent, Origin};
use crate::domain::secret::PlainSecret;
use crate::domain::user::{normalize_email, verify_password};
use crate::http::browser::pages::{ClientView, LoginPage};
use crate::http::browser::{
    self, CSRF_COOKIE, SESSION_COOKIE, SignedIn, csrf_ok, csrf_token, error_page, login_binding,
    page, see_other, session_hash, set_cookie, unavailable,
};
use crate::http::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::http::origin::RequestOrigin;
use crate::storage::auth::SessionRecord;

/// Where a sign-in outside an authorization request lands.
pub const ACCOUNT_HOME: &str = "/account/apps";

/// Only keyflow's own account pages: never an open redirect.
fn local_target(return_to: &str) -> &str {
    let ok = return_to.starts_with("/account/")
        && !return_to.contains("//")
        && !return_to.contains('\\');
    if ok { return_to } else { ACCOUNT_HOME }
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

pub async fn login_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let return_to = local_target(q.return_to.as_deref().unwrap_or(ACCOUNT_HOME)).to_owned();
    match browser::signed_in(&app, &headers).await {
        Ok(Some(_)) => return see_other(&return_to),
        Ok(None) => {}
        Err(e) => return unavailable(&e),
    }
    form_page(
        &app,
        &headers,
        None,
        String::new(),
        return_to,
        String::new(),
        None,
    )
}

/// The login form, with a fresh CSRF binding cookie when the browser has
/// none.
pub(super) fn form_page(
    app: &App,
    headers: &HeaderMap,
    client: Option<ClientView>,
    request: String,
    return_to: String,
    username: String,
    failure: Option<(StatusCode, String, Option<u64>)>,
) -> Response {
    let (binding, new) = login_binding(headers);
    // A throttled answer says when to retry; the template words it.
    let (status, error, retry_after) = match failure {
        Some((s, _, Some(r))) => (s, None, Some(r)),
        Some((s, e, None)) => (s, Some(e), None),
        None => (StatusCode::OK, None, None),
    };
    let mut res = page(
        status,
        LoginPage {
            client,
            csrf: csrf_token(app, &binding),
            request,
            return_to,
            username,
            error,
            retry_after,
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
    form: Result<OAuthForm, OAuthError>,
) -> Response {
    let Ok(mut form) = form else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This form could not be read",
            "Go back and try again.",
        );
    };
    let request = form.take("request").unwrap_or_default();
    let return_to = local_target(form.get("return_to").unwrap_or(ACCOUNT_HOME)).to_owned();
    // Login CSRF (RFC 6749 §10.12): the token must match this browser's
    // binding cookie.
    let binding = browser::cookie(&headers, CSRF_COOKIE).unwrap_or("");
    if binding.is_empty() || !csrf_ok(&app, binding, form.get("csrf")) {
        return error_page(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "For your safety keyflow did not act on it. Go back, reload the page and sign in again.",
        );
    }
    // Within an authorization request, check it again before anything
    // else: the page shows whom the user is signing in for.
    let authz = if request.is_empty() {
        None
    } else {
        match super::check(&app, &request).await {
            Ok(r) => Some(r),
            Err(res) => return res,
        }
    };
    let client = authz.as_ref().map(super::client_view);
    let username = form.take("username").unwrap_or_default();
    let password = PlainSecret::new(form.take("password").unwrap_or_default());
    let retry = |status: StatusCode, message: &str, wait: Option<u64>| {
        form_page(
            &app,
            &headers,
            client.clone(),
            request.clone(),
            return_to.clone(),
            username.clone(),
            Some((status, message.to_owned(), wait)),
        )
    };
    let Some(email) = normalize_email(&username) else {
        return retry(
            StatusCode::BAD_REQUEST,
            "Enter the email address of your account.",
            None,
        );
    };
    // The attempt is counted before the password is checked, so parallel
    // attempts cannot outrun the budget (OWASP, "Account lockout").
    let reservation = match app
        .login_throttle
        .reserve(&email, origin.ip.as_deref(), app.clock.now_us())
        .await
    {
        Ok(Ok(r)) => r,
        Ok(Err(wait)) => {
            return retry(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed sign-ins.",
                Some(wait),
            );
        }
        Err(e) => return unavailable(&e),
    };
    let user = match app.store.user_by_email(&email).await {
        Ok(u) => u,
        Err(e) => return unavailable(&e),
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let ok = app
        .password_checks
        .run(move || verify_password(password.expose(), stored.as_deref()))
        .await
        .unwrap_or(false);
    let now = app.clock.now();
    let Some(user) = user.filter(|_| ok) else {
        return failed(&app, &email, origin, now)
            .await
            .unwrap_or_else(|| retry(StatusCode::UNAUTHORIZED, "Wrong email or password.", None));
    };
    // Said only after the right password, so it tells nothing to a guesser;
    // the attempt stays counted.
    if user.disabled_at.is_some() {
        return failed(&app, &email, origin, now).await.unwrap_or_else(|| {
            retry(
                StatusCode::FORBIDDEN,
                "This account is disabled. Ask your administrator to enable it.",
                None,
            )
        });
    }
    if let Err(e) = app.login_throttle.refund(reservation).await {
        return unavailable(&e);
    }
    let session = match start_session(&app, &headers, &user, origin, now).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let cookie = set_cookie(
        &app,
        SESSION_COOKIE,
        &session.session_id,
        app.settings.auth.session_ttl,
    );
    let mut res = match authz {
        Some(r) => proceed(&app, &headers, r, &request, Some(session), true).await,
        None => see_other(&return_to),
    };
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res
}

/// Audits a failure (its attempt stays counted); `Some` is the response
/// when storage fails.
async fn failed(app: &App, email: &str, origin: Origin, now: i64) -> Option<Response> {
    // The email is recorded so that operators can see attacks on one
    // account; the password never is.
    let audit = AuditEntry::new(AuditEvent::LoginFailed, Actor::system(), now)
        .origin(origin)
        .details(json!({"email": email}));
    if let Err(e) = app.store.append_audit(&audit).await {
        return Some(unavailable(&e));
    }
    None
}

/// A new session id on every sign-in, so that a session fixed before
/// login is worthless after it.
async fn start_session(
    app: &App,
    headers: &HeaderMap,
    user: &crate::storage::auth::UserRecord,
    origin: Origin,
    now: i64,
) -> Result<SignedIn, Response> {
    if let Some(old) = browser::cookie(headers, SESSION_COOKIE) {
        let _ = app.store.delete_session(&session_hash(app, old)).await;
    }
    let id = PlainSecret::generate("");
    let record = SessionRecord {
        id_hash: session_hash(app, id.expose()),
        user_id: user.id.clone(),
        auth_time: now,
        created_at: now,
        expires_at: now + app.settings.auth.session_ttl,
    };
    let audit =
        AuditEntry::new(AuditEvent::LoginSucceeded, Actor::user(&user.id), now).origin(origin);
    app.store
        .create_session(&record, &audit)
        .await
        .map_err(|e| unavailable(&e))?;
    Ok(SignedIn {
        session_id: id.expose().to_owned(),
        session: record,
        user: user.clone(),
    })
}
