//! What the browser-facing endpoints share: cookies, CSRF tokens, the
//! signed-in session, and page responses with the headers every page needs.

pub mod pages;

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use crate::app::App;
use crate::domain::secret::PlainSecret;
use crate::http::form::OAuthForm;
use crate::service::StoreFailure;
pub use crate::service::sessions::SignedIn;
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

/// The request's session, if it has a live one.
pub async fn signed_in(app: &App, headers: &HeaderMap) -> Result<Option<SignedIn>, StoreFailure> {
    match cookie(headers, SESSION_COOKIE) {
        Some(id) => app.sessions().current(id).await,
        None => Ok(None),
    }
}

/// A browser endpoint that stops early: with an error page, a redirect, or
/// a storage failure, which is logged once with its operation and shown
/// plainly. Handlers return `Result<Response, PageError>` and use `?`.
#[derive(Debug)]
pub struct PageError(Box<Response>);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<Response> for PageError {
    fn from(res: Response) -> Self {
        Self(Box::new(res))
    }
}

impl From<StoreFailure> for PageError {
    fn from(failure: StoreFailure) -> Self {
        unavailable(&failure).into()
    }
}

/// A form posted by a browser, read as strictly as an OAuth form; one that
/// cannot be read gets a plain error page instead of OAuth JSON.
#[derive(Debug)]
pub struct BrowserForm(pub OAuthForm);

impl<S: Send + Sync> FromRequest<S> for BrowserForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        OAuthForm::from_request(req, state)
            .await
            .map(Self)
            .map_err(|_| {
                error_page(
                    StatusCode::BAD_REQUEST,
                    "This form could not be read",
                    "Go back, reload the page and try again.",
                )
            })
    }
}

/// A page with the headers every page gets: never cached, never framed
/// (RFC 9700 §4.16, clickjacking), no referrer, and only keyflow's own
/// stylesheet and script (no inline script or style).
pub fn page(status: StatusCode, body: impl IntoResponse) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src https: data:; \
             frame-ancestors 'none'; base-uri 'none'",
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

/// A storage failure on a page: logged once with its operation, shown
/// plainly.
pub fn unavailable(failure: &StoreFailure) -> Response {
    failure.log();
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
