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
use super::browser::{self, SignedIn, csrf_token, error_page, page, see_other, unavailable};
use super::form::OAuthForm;
use crate::app::App;
use crate::domain::authorize_request::{
    AuthorizationRequest, AuthorizeError, AuthorizeErrorCode, CODE_TTL, RawAuthorizationRequest,
    RedirectError, validate,
};
use crate::domain::redirect_uri::with_params;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::PlainSecret;
use crate::domain::user::{ADMIN_SCOPES, grantable};
use crate::storage::StorageError;
use crate::storage::auth::{AuthCodeRecord, CodeState, Membership};

pub use consent::decision;

/// `GET /oauth/authorize`.
pub async fn authorize(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let request = match check(&app, &query).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let signed_in = match browser::signed_in(&app, &headers).await {
        Ok(s) => s,
        Err(e) => return unavailable(&e),
    };
    proceed(&app, &headers, request, &query, signed_in, false).await
}

/// `POST /oauth/authorize`: OIDC Core §3.1.2.1 requires POST as well, with
/// the parameters form-encoded in the body.
pub async fn authorize_post(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let bytes = axum::body::to_bytes(body, super::form::MAX_FORM_BYTES).await;
    let Some(query) = bytes.ok().and_then(|b| String::from_utf8(b.to_vec()).ok()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in link is broken",
            "The request is too large or not valid UTF-8.",
        );
    };
    authorize(State(app), headers, RawQuery(Some(query))).await
}

/// Parses and checks an authorization request; the error is the response
/// to send (an error page, or a redirect to the client).
pub(super) async fn check(app: &App, query: &str) -> Result<AuthorizationRequest, Response> {
    let raw = parse(query)
        .map_err(|m| error_page(StatusCode::BAD_REQUEST, "This sign-in link is broken", &m))?;
    let found = match &raw.client_id {
        Some(id) => app
            .store
            .oauth_client(id)
            .await
            .map_err(|e| unavailable(&e))?,
        None => None,
    };
    validate(raw, found, &app.settings.scopes, &app.settings.resources).map_err(|e| match e {
        AuthorizeError::Fatal(m) => error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in link is not valid",
            &m,
        ),
        AuthorizeError::Redirect(r) => redirect_error(app, &r),
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

fn fail(r: &AuthorizationRequest, code: AuthorizeErrorCode, description: &str) -> RedirectError {
    RedirectError {
        redirect_uri: r.redirect_uri.clone(),
        code,
        description: description.to_owned(),
        state: r.state.clone(),
    }
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
) -> Response {
    let now = app.clock.now();
    // OIDC Core §3.1.2.1: prompt=login and max_age demand a recent login
    // (and max_age=0 is equivalent to prompt=login).
    let stale = |s: &SignedIn| {
        !fresh_login
            && (r.prompt.login || r.max_age.is_some_and(|m| now - s.session.auth_time >= m))
    };
    let session = match signed_in {
        Some(s) if !stale(&s) => s,
        _ if r.prompt.none => {
            return redirect_error(
                app,
                &fail(
                    &r,
                    AuthorizeErrorCode::LoginRequired,
                    "the user is not signed in",
                ),
            );
        }
        _ => return login_form(app, headers, &r, query),
    };
    let memberships = match app.store.memberships(&session.user.id).await {
        Ok(m) => m,
        Err(e) => return unavailable(&e),
    };
    if memberships.is_empty() {
        let e = fail(
            &r,
            AuthorizeErrorCode::AccessDenied,
            "the user belongs to no workspace",
        );
        return redirect_error(app, &e);
    }
    if !r.prompt.consent {
        match remembered(app, &session, &r, &memberships).await {
            Ok(Some(m)) => {
                let scope = grantable(&r.scope, m.role);
                return issue_code(app, &r, &session, &m.workspace_id, &scope).await;
            }
            Ok(None) => {}
            Err(e) => return unavailable(&e),
        }
    }
    if r.prompt.none {
        let e = fail(
            &r,
            AuthorizeErrorCode::ConsentRequired,
            "the user has not consented to this request",
        );
        return redirect_error(app, &e);
    }
    consent_form(app, &r, query, &session, &memberships)
}

/// A workspace whose stored consent covers the request (per user, client,
/// workspace and scope set; new scopes ask again).
async fn remembered<'m>(
    app: &App,
    session: &SignedIn,
    r: &AuthorizationRequest,
    memberships: &'m [Membership],
) -> Result<Option<&'m Membership>, StorageError> {
    let mut best: Option<(&Membership, i64)> = None;
    for m in memberships {
        let Some(c) = app
            .store
            .consent(&session.user.id, &r.client.client_id, &m.workspace_id)
            .await?
        else {
            continue;
        };
        let granted = ScopeSet::parse(&c.scope).unwrap_or_default();
        // A role that grants nothing of the request is never "covered":
        // the consent form refuses it instead.
        let grantable = grantable(&r.scope, m.role);
        let covers = !grantable.is_empty() && grantable.iter().all(|s| granted.contains(s));
        if covers && best.is_none_or(|(_, at)| c.granted_at > at) {
            best = Some((m, c.granted_at));
        }
    }
    Ok(best.map(|(m, _)| m))
}

fn login_form(app: &App, headers: &HeaderMap, r: &AuthorizationRequest, query: &str) -> Response {
    login::form_page(
        app,
        headers,
        Some(client_view(r)),
        query.to_owned(),
        String::new(),
        r.login_hint.clone().unwrap_or_default(),
        None,
    )
}

fn consent_form(
    app: &App,
    r: &AuthorizationRequest,
    query: &str,
    session: &SignedIn,
    memberships: &[Membership],
) -> Response {
    let scopes = r
        .scope
        .iter()
        .map(|s| ScopeView {
            admin_only: ADMIN_SCOPES.contains(&s),
            name: s.to_owned(),
            description: app
                .settings
                .scopes
                .get(s)
                .map_or_else(|| s.to_owned(), |d| d.description.clone()),
        })
        .collect();
    page(
        StatusCode::OK,
        ConsentPage {
            client: client_view(r),
            user_email: session.user.email.clone(),
            csrf: csrf_token(app, &session.session_id),
            request: query.to_owned(),
            scopes,
            workspaces: memberships
                .iter()
                .map(|m| WorkspaceView {
                    id: m.workspace_id.clone(),
                    name: m.workspace_name.clone(),
                })
                .collect(),
        },
    )
}

/// RFC 6749 §4.1.2: a single-use code bound to everything it was issued
/// for, sent back with `state` and `iss` (RFC 9207 §2).
pub(super) async fn issue_code(
    app: &App,
    r: &AuthorizationRequest,
    session: &SignedIn,
    workspace_id: &str,
    scope: &ScopeSet,
) -> Response {
    let now = app.clock.now();
    let code = PlainSecret::generate("");
    let record = AuthCodeRecord {
        code_hash: app.clients.hasher().hash(&code),
        family_id: uuid::Uuid::new_v4().to_string(),
        client_id: r.client.client_id.clone(),
        user_id: session.user.id.clone(),
        workspace_id: workspace_id.to_owned(),
        redirect_uri: r.redirect_uri.clone(),
        scope: scope.to_string(),
        resources: r.resources.clone(),
        code_challenge: r.code_challenge.clone(),
        nonce: r.nonce.clone(),
        auth_time: session.session.auth_time,
        created_at: now,
        expires_at: now + CODE_TTL,
        state: CodeState::Pending,
    };
    if let Err(e) = app.store.insert_auth_code(&record).await {
        tracing::error!(error = %e, "storing an authorization code failed");
        let e = fail(
            r,
            AuthorizeErrorCode::TemporarilyUnavailable,
            "the server cannot complete the request right now",
        );
        return redirect_error(app, &e);
    }
    let mut params = vec![("code", code.expose())];
    if let Some(s) = &r.state {
        params.push(("state", s));
    }
    params.push(("iss", &app.settings.issuer));
    see_other(&with_params(&r.redirect_uri, &params))
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
