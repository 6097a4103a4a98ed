//! What the browser-facing endpoints share: cookies, CSRF tokens, the
//! signed-in session, and page responses with the headers every page needs.

pub mod pages;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use crate::app::App;
use crate::domain::secret::{PlainSecret, Redacted, SecretHash};
use crate::storage::StorageError;
use crate::storage::auth::{SessionRecord, UserRecord};
use pages::ErrorPage;

/// Holds the session id; only its hash is stored.
pub const SESSION_COOKIE: &str = "keyflow_session";
/// Binds the login form's CSRF token to this browser before it signs in.
pub const CSRF_COOKIE: &str = "keyflow_csrf";

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a cookie only this origin's pages see: HttpOnly,
/// SameSite=Lax (it must survive the top-level redirect back from a
/// client), Secure when the issuer is https.
pub fn set_cookie(app: &App, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if app.settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .expect("cookie values are base62")
}

pub fn clear_cookie(app: &App, name: &str) -> HeaderValue {
    set_cookie(app, name, "", 0)
}

/// A CSRF token: an HMAC, under the server's pepper, of what binds the form
/// to this browser (the pre-login cookie or the session id). Nothing is
/// stored, so any node can check it.
pub fn csrf_token(app: &App, binding: &str) -> String {
    let mac = app.clients.hasher().hash_str(&format!("csrf\0{binding}"));
    URL_SAFE_NO_PAD.encode(mac.0)
}

/// Compares in constant time.
pub fn csrf_ok(app: &App, binding: &str, presented: Option<&str>) -> bool {
    presented.is_some_and(|p| bool::from(csrf_token(app, binding).as_bytes().ct_eq(p.as_bytes())))
}

/// The pre-login binding cookie: the request's, or a new one to set.
pub fn login_binding(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, CSRF_COOKIE) {
        Some(v) if v.len() == 43 && v.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            (v.to_owned(), false)
        }
        _ => (PlainSecret::generate("").expose().to_owned(), true),
    }
}

/// A signed-in browser.
#[derive(Clone)]
pub struct SignedIn {
    /// The cookie value, which also binds CSRF tokens.
    pub session_id: String,
    pub session: SessionRecord,
    pub user: UserRecord,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("session_id", &Redacted)
            .field("session", &self.session)
            .field("user", &self.user)
            .finish()
    }
}

pub fn session_hash(app: &App, session_id: &str) -> SecretHash {
    app.clients.hasher().hash_str(session_id)
}

/// The request's session, if it has a live one.
pub async fn signed_in(app: &App, headers: &HeaderMap) -> Result<Option<SignedIn>, StorageError> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = app
        .store
        .session(&session_hash(app, id), app.clock.now())
        .await?
    else {
        return Ok(None);
    };
    let Some(user) = app.store.user_by_id(&session.user_id).await? else {
        return Ok(None);
    };
    if user.disabled_at.is_some() {
        return Ok(None);
    }
    Ok(Some(SignedIn {
        session_id: id.to_owned(),
        session,
        user,
    }))
}

/// A page with the headers every page gets: never cached, never framed
/// (RFC 9700 §4.16, clickjacking), no scripts, no referrer.
pub fn page(status: StatusCode, body: impl IntoResponse) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    page(
        status,
        ErrorPage {
            title: title.to_owned(),
            message: message.to_owned(),
        },
    )
}

/// A storage failure on a page: logged with its cause, shown plainly.
pub fn unavailable(cause: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "storage failure");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Something went wrong",
        "keyflow cannot serve this page right now. Please try again in a moment.",
    )
}

/// 303 See Other: after a POST the browser follows with a GET.
pub fn see_other(location: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_in_browser_shows_no_session_id_or_password_hash() {
        let signed_in = SignedIn {
            session_id: "session-cookie-value-0123456789".into(),
            session: SessionRecord {
                id_hash: SecretHash::from_slice(&[7; 32]).unwrap(),
                user_id: "usr_1".into(),
                auth_time: 1,
                created_at: 1,
                expires_at: 2,
            },
            user: UserRecord {
                id: "usr_1".into(),
                email: "ann@example.com".into(),
                name: None,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                created_at: 1,
                disabled_at: None,
            },
        };
        let shown = format!("{signed_in:?}");
        assert!(shown.contains("ann@example.com"), "{shown}");
        assert!(!shown.contains("session-cookie-value"), "{shown}");
        assert!(!shown.contains("argon2id"), "{shown}");
    }

    #[test]
    fn reads_cookies_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; keyflow_session=abc; b=2".parse().unwrap(),
        );
        h.append(header::COOKIE, "keyflow_csrf=xyz".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, CSRF_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn a_malformed_binding_cookie_is_replaced() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "keyflow_csrf=short".parse().unwrap());
        let (v, new) = login_binding(&h);
        assert!(new);
        assert_eq!(v.len(), 43);
    }
}
