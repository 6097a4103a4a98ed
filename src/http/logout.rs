//! RP-Initiated Logout 1.0: the end_session endpoint. A client may send the
//! user here to sign out of keyflow, and back to a `post_logout_redirect_uri`
//! it registered (§3.1, matched exactly). Without an `id_token_hint` naming
//! the signed-in user, the user confirms first (§2), so another site cannot
//! sign people out.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Deserialize;

use super::browser::pages::{ClientView, LogoutPage, SignedOutPage};
use super::browser::{
    self, BrowserForm, PageError, SESSION_COOKIE, SignedIn, clear_cookie, csrf_ok, csrf_token,
    error_page, page, see_other,
};
use super::form::OAuthForm;
use super::origin::RequestOrigin;
use crate::app::App;
use crate::domain::audit::Origin;
use crate::domain::redirect_uri::with_params;
use crate::verifier::keys::parse_jwks;

pub const END_SESSION_PATH: &str = "/oauth/logout";
pub const CONFIRM_PATH: &str = "/oauth/logout/confirm";

#[derive(Debug, Default)]
struct LogoutRequest {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

impl LogoutRequest {
    fn from_form(mut f: OAuthForm) -> Self {
        Self {
            id_token_hint: f.take("id_token_hint"),
            client_id: f.take("client_id"),
            post_logout_redirect_uri: f.take("post_logout_redirect_uri"),
            state: f.take("state"),
        }
    }
}

/// Where to go once signed out, after every check.
struct Checked {
    client: Option<ClientView>,
    client_id: Option<String>,
    redirect: Option<String>,
    state: Option<String>,
    /// The `sub` of a valid `id_token_hint`.
    hinted_user: Option<String>,
}

fn bad(message: &str) -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "This sign-out link is not valid",
        message,
    )
}

/// `GET /oauth/logout` (query) and `POST /oauth/logout` (form, §2).
pub async fn end_session_get(
    State(app): State<Arc<App>>,
    origin: RequestOrigin,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let form =
        OAuthForm::parse(query.unwrap_or_default().as_bytes()).map_err(|e| bad(&e.description))?;
    end_session(&app, origin.0, &headers, LogoutRequest::from_form(form)).await
}

pub async fn end_session_post(
    State(app): State<Arc<App>>,
    origin: RequestOrigin,
    headers: HeaderMap,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    end_session(&app, origin.0, &headers, LogoutRequest::from_form(form)).await
}

async fn end_session(
    app: &App,
    origin: Origin,
    headers: &HeaderMap,
    r: LogoutRequest,
) -> Result<Response, PageError> {
    let checked = check(app, r).await?;
    Ok(match browser::signed_in(app, headers).await? {
        Some(s) if checked.hinted_user.as_deref() != Some(s.user.id.as_str()) => page(
            StatusCode::OK,
            LogoutPage {
                csrf: csrf_token(app, &s.session_id),
                client: checked.client,
                client_id: checked.client_id.unwrap_or_default(),
                post_logout_redirect_uri: checked.redirect.unwrap_or_default(),
                state: checked.state.unwrap_or_default(),
            },
        ),
        s => finish(app, s, origin, checked).await?,
    })
}

/// `POST /oauth/logout/confirm`: the user pressed "Sign out".
pub async fn confirm(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let session = browser::signed_in(&app, &headers).await?;
    if let Some(s) = &session
        && !csrf_ok(&app, &s.session_id, form.get("csrf"))
    {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "For your safety keyflow did not act on it. Reload the page and try again.",
        )
        .into());
    }
    let r = LogoutRequest {
        id_token_hint: None,
        client_id: form.take("client_id"),
        post_logout_redirect_uri: form.take("post_logout_redirect_uri"),
        state: form.take("state"),
    };
    let checked = check(&app, r).await?;
    finish(&app, session, origin, checked).await
}

async fn check(app: &App, r: LogoutRequest) -> Result<Checked, PageError> {
    let hint = match &r.id_token_hint {
        Some(t) => Some(
            verify_hint(app, t)
                .ok_or_else(|| bad("The id_token_hint was not issued by keyflow."))?,
        ),
        None => None,
    };
    let client_id = match (&r.client_id, &hint) {
        (Some(c), Some((_, aud))) if c != aud => {
            return Err(bad("client_id does not match the id_token_hint.").into());
        }
        (Some(c), _) => Some(c.clone()),
        (None, Some((_, aud))) => Some(aud.clone()),
        (None, None) => None,
    };
    let found = match &client_id {
        Some(id) => app.authorizations().client(id).await?,
        None => None,
    };
    if let Some(uri) = &r.post_logout_redirect_uri {
        // §3.1: only a URI the client registered, compared exactly.
        let registered = found
            .as_ref()
            .is_some_and(|(_, o)| o.post_logout_redirect_uris.iter().any(|u| u == uri));
        if !registered {
            return Err(bad(
                "The post_logout_redirect_uri is not registered for this application, so keyflow will not send you there.",
            ).into());
        }
    }
    Ok(Checked {
        client: found.as_ref().map(|(c, o)| ClientView {
            name: c.name.clone(),
            logo_uri: o.logo_uri.clone(),
        }),
        client_id,
        redirect: r.post_logout_redirect_uri,
        state: r.state,
        hinted_user: hint.map(|(sub, _)| sub),
    })
}

/// Ends the session (if any), clears the cookie, and goes where the client
/// asked or shows the signed-out page.
async fn finish(
    app: &App,
    session: Option<SignedIn>,
    origin: Origin,
    c: Checked,
) -> Result<Response, PageError> {
    if let Some(s) = session {
        app.sessions()
            .sign_out(&s, c.client_id.as_deref(), origin)
            .await?;
    }
    let mut res = match &c.redirect {
        Some(uri) => {
            let params: Vec<(&str, &str)> = c.state.iter().map(|s| ("state", s.as_str())).collect();
            see_other(&with_params(uri, &params))
        }
        None => page(StatusCode::OK, SignedOutPage {}),
    };
    res.headers_mut()
        .append(header::SET_COOKIE, clear_cookie(app, SESSION_COOKIE));
    Ok(res)
}

#[derive(Deserialize)]
struct HintHeader {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Aud {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct HintClaims {
    iss: String,
    sub: String,
    aud: Aud,
}

/// (sub, client) of an ID token keyflow signed. Expired hints are
/// accepted (§2: the hint identifies, it does not authenticate).
fn verify_hint(app: &App, token: &str) -> Option<(String, String)> {
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: HintHeader = serde_json::from_slice(&B64.decode(h).ok()?).ok()?;
    // An access token (typ at+jwt) is not an ID token.
    if header.typ.as_deref().is_some_and(|t| t != "JWT") {
        return None;
    }
    let keys = parse_jwks(app.keyring.load().jwks_json()).ok()?;
    let key = keys.get(header.kid.as_deref()?)?;
    if key.alg.as_str() != header.alg {
        return None;
    }
    let signed = &token[..h.len() + 1 + p.len()];
    if !key.verify(signed.as_bytes(), &B64.decode(s).ok()?) {
        return None;
    }
    let claims: HintClaims = serde_json::from_slice(&B64.decode(p).ok()?).ok()?;
    if claims.iss != app.settings.issuer {
        return None;
    }
    let aud = match claims.aud {
        Aud::One(a) => a,
        Aud::Many(mut v) if v.len() == 1 => v.remove(0),
        Aud::Many(_) => return None,
    };
    Some((claims.sub, aud))
}
