//! The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2): checks
//! the request, signs the user in, asks for consent, and sends a code back.
//! Nothing is kept between the steps but the session: the request travels
//! in the login and consent forms and is checked again at every step, so
//! any node can serve any step.

mod consent;
pub mod login;

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::browser::pages::{ClientView, ConsentPage, ScopeView, WorkspaceView};
use super::browser::{self, PageError, SignedIn, csrf_token, error_page, page, see_other};
use super::form::OAuthForm;
use crate::app::App;
use crate::domain::authorize_request::AuthorizeErrorCode::{
    AccessDenied, ConsentRequired, LoginRequired, TemporarilyUnavailable,
};
use crate::domain::authorize_request::{
    AuthorizationRequest, AuthorizeError, RawAuthorizationRequest, RedirectError, SignIn, validate,
};
use crate::domain::client::CLI_CLIENT_ID;
use crate::domain::redirect_uri::with_params;
use crate::domain::scope::ScopeSet;
use crate::domain::user::grantable;
use crate::storage::Membership;

pub use consent::decision;

/// `GET /oauth/authorize`.
pub async fn authorize(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = query.unwrap_or_default();
    let request = check(&app, &query).await?;
    let signed_in = browser::signed_in(&app, &headers).await?;
    proceed(&app, &headers, request, &query, signed_in, false).await
}

/// `POST /oauth/authorize`: OIDC Core §3.1.2.1 requires POST as well, with
/// the parameters form-encoded in the body.
pub async fn authorize_post(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, PageError> {
    let bytes = axum::body::to_bytes(body, super::form::MAX_FORM_BYTES).await;
    let Some(query) = bytes.ok().and_then(|b| String::from_utf8(b.to_vec()).ok()) else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in link is broken",
            "The request is too large or not valid UTF-8.",
        )
        .into());
    };
    authorize(State(app), headers, RawQuery(Some(query))).await
}

/// Parses and checks an authorization request; the error is the response
/// to send (an error page, or a redirect to the client).
pub(super) async fn check(app: &App, query: &str) -> Result<AuthorizationRequest, PageError> {
    let raw = parse(query)
        .map_err(|m| error_page(StatusCode::BAD_REQUEST, "This sign-in link is broken", &m))?;
    let found = match &raw.client_id {
        Some(id) => app.authorizations().client(id).await?,
        None => None,
    };
    validate(raw, found, &app.settings.scopes, &app.settings.resources).map_err(|e| {
        match e {
            AuthorizeError::Fatal(m) => error_page(
                StatusCode::BAD_REQUEST,
                "This sign-in link is not valid",
                &m,
            ),
            AuthorizeError::Redirect(r) => redirect_error(app, &r),
        }
        .into()
    })
}
/// RFC 6749 §3.1: the query, with no parameter twice.
fn parse(query: &str) -> Result<RawAuthorizationRequest, String> {
    let mut f = OAuthForm::parse(query.as_bytes()).map_err(|e| e.description.into_owned())?;
    Ok(RawAuthorizationRequest {
        client_id: f.take("client_id"),
        redirect_uri: f.take("redirect_uri"),
        response_type: f.take("response_type"),
        response_mode: f.take("response_mode"),
        scope: f.take("scope"),
        state: f.take("state"),
        nonce: f.take("nonce"),
        code_challenge: f.take("code_challenge"),
        code_challenge_method: f.take("code_challenge_method"),
        prompt: f.take("prompt"),
        max_age: f.take("max_age"),
        login_hint: f.take("login_hint"),
        request: f.take("request"),
        request_uri: f.take("request_uri"),
        resources: f.take_all("resource"),
    })
}

/// RFC 6749 §4.1.2.1, with `iss` (RFC 9207 §2).
pub(super) fn redirect_error(app: &App, e: &RedirectError) -> Response {
    let mut params = vec![
        ("error", e.code.as_str()),
        ("error_description", e.description.as_str()),
    ];
    if let Some(s) = &e.state {
        params.push(("state", s));
    }
    params.push(("iss", &app.settings.issuer));
    see_other(&with_params(&e.redirect_uri, &params))
}

fn client_view(r: &AuthorizationRequest) -> ClientView {
    ClientView {
        name: r.client.name.clone(),
        logo_uri: r.oauth.logo_uri.clone(),
    }
}

/// After the checks: sign in if needed, then consent if needed, then the
/// code. `fresh_login` is set right after the user typed the password, so
/// that `prompt=login` and `max_age` are satisfied.
pub(super) async fn proceed(
    app: &App,
    headers: &HeaderMap,
    r: AuthorizationRequest,
    query: &str,
    signed_in: Option<SignedIn>,
    fresh_login: bool,
) -> Result<Response, PageError> {
    let sign_in = match &signed_in {
        None => SignIn::Absent,
        Some(_) if fresh_login => SignIn::JustNow,
        Some(s) => SignIn::Earlier(s.session.auth_time),
    };
    let session = match signed_in {
        Some(s) if !r.needs_login(sign_in, app.clock.now()) => s,
        _ if r.prompt.none => {
            let e = r.error(LoginRequired, "the user is not signed in");
            return Err(redirect_error(app, &e).into());
        }
        _ => return Ok(login_form(app, headers, &r, query)),
    };
    let authorizations = app.authorizations();
    let memberships = authorizations
        .memberships(&session.user.id, &r.client.client_id)
        .await?;
    if memberships.is_empty() {
        let e = r.error(AccessDenied, "the user belongs to no workspace");
        return Err(redirect_error(app, &e).into());
    }
    // OIDC Core §3.1.2.1: prompt=consent asks even when remembered.
    if !r.prompt.consent
        && let Some(m) = authorizations
            .remembered(&session.user.id, &r, &memberships)
            .await?
    {
        let scope = grantable(&r.scope, m.role);
        return issue_code(app, &r, &session, &m.workspace_id, &scope).await;
    }
    if r.prompt.none {
        let e = r.error(
            ConsentRequired,
            "the user has not consented to this request",
        );
        return Err(redirect_error(app, &e).into());
    }
    Ok(consent_form(app, &r, query, &session, &memberships))
}

fn login_form(app: &App, headers: &HeaderMap, r: &AuthorizationRequest, query: &str) -> Response {
    let form = login::LoginForm {
        client: Some(client_view(r)),
        request: query.to_owned(),
        return_to: String::new(),
        username: r.login_hint.clone().unwrap_or_default(),
        notice: None,
    };
    login::form_page(app, headers, form, None)
}

fn consent_form(
    app: &App,
    r: &AuthorizationRequest,
    query: &str,
    session: &SignedIn,
    memberships: &[Membership],
) -> Response {
    page(
        StatusCode::OK,
        ConsentPage {
            client: client_view(r),
            user_email: session.user.email.clone(),
            csrf: csrf_token(app, &session.session_id),
            request: query.to_owned(),
            scopes: ScopeView::list(&r.scope, &app.settings.scopes),
            workspaces: WorkspaceView::list(memberships),
            first_party: r.client.client_id == CLI_CLIENT_ID,
        },
    )
}

/// RFC 6749 §4.1.2: the code goes back with `state` and `iss` (RFC 9207
/// §2). If it cannot be stored the client hears so (§4.1.2.1).
pub(super) async fn issue_code(
    app: &App,
    r: &AuthorizationRequest,
    session: &SignedIn,
    workspace_id: &str,
    scope: &ScopeSet,
) -> Result<Response, PageError> {
    let code = match app
        .authorizations()
        .issue_code(r, session, workspace_id, scope)
        .await
    {
        Ok(code) => code,
        Err(failure) => {
            failure.log();
            let e = r.error(
                TemporarilyUnavailable,
                "the server cannot complete the request right now",
            );
            return Err(redirect_error(app, &e).into());
        }
    };
    let mut params = vec![("code", code.expose())];
    if let Some(s) = &r.state {
        params.push(("state", s));
    }
    params.push(("iss", &app.settings.issuer));
    Ok(see_other(&with_params(&r.redirect_uri, &params)))
}

/// The membership a consent form names; with one membership the field may
/// be left out.
fn chosen<'m>(memberships: &'m [Membership], workspace: Option<&str>) -> Option<&'m Membership> {
    match (workspace, memberships) {
        (None, [only]) => Some(only),
        (Some(id), _) => memberships.iter().find(|m| m.workspace_id == id),
        _ => None,
    }
}
