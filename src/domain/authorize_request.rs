//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) as an
//! ordered list of small checks, node-oidc-provider style. Until the client
//! and its redirect URI are known good, failures are [`AuthorizeError::Fatal`]
//! and shown to the user; after that they go back to the client
//! (RFC 6749 §4.1.2.1).

use std::collections::BTreeSet;

use crate::clock::UnixTime;
use crate::domain::client::OAuthClientRecord;
use crate::domain::client::{ClientKind, ClientRecord};
use crate::domain::pkce;
use crate::domain::redirect_uri;
use crate::domain::resource::ResourcePolicy;
use crate::domain::scope::{ScopeCatalogue, ScopeSet};

/// How long a code lives: RFC 6749 §4.1.2 recommends at most 10 minutes;
/// keyflow's codes are redeemed by machines, so one minute is plenty.
pub const CODE_TTL: i64 = 60;

/// The query parameters, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawAuthorizationRequest {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    pub resources: Vec<String>,
}

/// OIDC Core §3.1.2.1 `prompt` values keyflow acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client: ClientRecord,
    pub oauth: OAuthClientRecord,
    pub redirect_uri: String,
    pub scope: ScopeSet,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    /// RFC 8707 §2.1 resource indicators; the token request may name these
    /// or fewer.
    pub resources: Vec<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
}

/// The browser's sign-in, as the authorization endpoint sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// Nobody is signed in.
    Absent,
    /// A session from an earlier sign-in, at this `auth_time`.
    Earlier(UnixTime),
    /// The user typed the password in this very request.
    JustNow,
}

impl AuthorizationRequest {
    /// Whether the user must (again) sign in before anything else. OIDC
    /// Core §3.1.2.1: `prompt=login` and `max_age` demand a recent login,
    /// and `max_age=0` is equivalent to `prompt=login`.
    pub fn needs_login(&self, sign_in: SignIn, now: UnixTime) -> bool {
        match sign_in {
            SignIn::Absent => true,
            SignIn::JustNow => false,
            SignIn::Earlier(auth_time) => {
                self.prompt.login || self.max_age.is_some_and(|m| now - auth_time >= m)
            }
        }
    }

    /// An error sent back to the client's redirect URI with the request's
    /// `state` (RFC 6749 §4.1.2.1).
    pub fn error(&self, code: AuthorizeErrorCode, description: &str) -> RedirectError {
        RedirectError {
            redirect_uri: self.redirect_uri.clone(),
            code,
            description: description.to_owned(),
            state: self.state.clone(),
        }
    }
}

/// Error codes of RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6 and RFC 8707 §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizeErrorCode {
    InvalidRequest,
    UnauthorizedClient,
    AccessDenied,
    UnsupportedResponseType,
    InvalidScope,
    ServerError,
    TemporarilyUnavailable,
    LoginRequired,
    ConsentRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    InvalidTarget,
}

impl AuthorizeErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidTarget => "invalid_target",
        }
    }
}

/// An error that goes back to the client's redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub redirect_uri: String,
    pub code: AuthorizeErrorCode,
    pub description: String,
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: never redirect.
    Fatal(String),
    Redirect(RedirectError),
}

/// Step one: the client id names a third-party client. The HTTP layer
/// looks the client up and passes what it found.
pub fn check_client(
    raw: &RawAuthorizationRequest,
    found: Option<(ClientRecord, OAuthClientRecord)>,
) -> Result<(ClientRecord, OAuthClientRecord), AuthorizeError> {
    let fatal = |m: &str| AuthorizeError::Fatal(m.to_owned());
    if raw.client_id.is_none() {
        return Err(fatal("The request names no client (client_id is missing)."));
    }
    match found {
        Some((client, oauth)) if client.kind == ClientKind::ThirdParty => Ok((client, oauth)),
        _ => Err(fatal(
            "The application that sent you here is not registered.",
        )),
    }
}

/// Step two: the redirect URI is registered. OIDC Core §3.1.2.1 makes it
/// required, which also keeps the token request's check simple
/// (RFC 6749 §4.1.3).
pub fn check_redirect_uri(
    raw: &RawAuthorizationRequest,
    oauth: &OAuthClientRecord,
) -> Result<String, AuthorizeError> {
    let requested = raw.redirect_uri.as_deref().ok_or_else(|| {
        AuthorizeError::Fatal(
            "The request has no redirect_uri, so there is nowhere to return to.".into(),
        )
    })?;
    redirect_uri::find_match(&oauth.redirect_uris, requested, oauth.public)
        .map(|_| requested.to_owned())
        .ok_or_else(|| {
            AuthorizeError::Fatal(
                "The redirect_uri is not registered for this application, so keyflow will not send you there."
                    .into(),
            )
        })
}

/// Runs every check, in order.
pub fn validate(
    raw: RawAuthorizationRequest,
    found: Option<(ClientRecord, OAuthClientRecord)>,
    catalogue: &ScopeCatalogue,
    resources: &ResourcePolicy,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let (client, oauth) = check_client(&raw, found)?;
    let redirect_uri = check_redirect_uri(&raw, &oauth)?;
    let fail = |code: AuthorizeErrorCode, description: &str| {
        AuthorizeError::Redirect(RedirectError {
            redirect_uri: redirect_uri.clone(),
            code,
            description: description.to_owned(),
            state: raw.state.clone(),
        })
    };
    check_unsupported(&raw).map_err(|(c, d)| fail(c, d))?;
    let code_challenge = check_pkce(&raw).map_err(|(c, d)| fail(c, d))?;
    let scope = check_scope(&raw, &oauth, catalogue).map_err(|(c, d)| fail(c, &d))?;
    resources
        .audience(&raw.resources)
        .map_err(|e| fail(AuthorizeErrorCode::InvalidTarget, &e.to_string()))?;
    let prompt = check_prompt(raw.prompt.as_deref()).map_err(|(c, d)| fail(c, d))?;
    let max_age = match raw.max_age.as_deref() {
        None => None,
        Some(v) => Some(v.parse::<u32>().map(i64::from).map_err(|_| {
            fail(
                AuthorizeErrorCode::InvalidRequest,
                "max_age must be a non-negative number of seconds",
            )
        })?),
    };
    Ok(AuthorizationRequest {
        client,
        oauth,
        redirect_uri: redirect_uri.clone(),
        scope,
        state: raw.state,
        nonce: raw.nonce,
        code_challenge,
        resources: raw.resources,
        prompt,
        max_age,
        login_hint: raw.login_hint,
    })
}

type Failure = (AuthorizeErrorCode, &'static str);

fn check_unsupported(raw: &RawAuthorizationRequest) -> Result<(), Failure> {
    use AuthorizeErrorCode::*;
    // OIDC Core §6: request objects are not supported.
    if raw.request.is_some() {
        return Err((RequestNotSupported, "request objects are not supported"));
    }
    if raw.request_uri.is_some() {
        return Err((RequestUriNotSupported, "request_uri is not supported"));
    }
    match raw.response_type.as_deref() {
        None => return Err((InvalidRequest, "response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err((
                UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if raw.response_mode.as_deref().is_some_and(|m| m != "query") {
        return Err((InvalidRequest, "only response_mode=query is supported"));
    }
    Ok(())
}

/// RFC 7636 §4.4.1 and RFC 9700 §2.1.1: every client uses PKCE, S256 only.
fn check_pkce(raw: &RawAuthorizationRequest) -> Result<String, Failure> {
    use AuthorizeErrorCode::InvalidRequest;
    let challenge = raw.code_challenge.as_deref().ok_or((
        InvalidRequest,
        "code_challenge is required (PKCE with S256)",
    ))?;
    // RFC 7636 §4.3: an absent method means plain, which is refused.
    match raw.code_challenge_method.as_deref() {
        Some("S256") => {}
        _ => {
            return Err((
                InvalidRequest,
                "code_challenge_method must be S256; plain is not supported",
            ));
        }
    }
    if !pkce::is_valid_s256_challenge(challenge) {
        return Err((
            InvalidRequest,
            "code_challenge must be 43 base64url characters (RFC 7636 §4.2)",
        ));
    }
    Ok(challenge.to_owned())
}

/// RFC 6749 §3.3: each scope must be known and registered for the client.
/// With no scope, the client gets its registered scopes that the catalogue
/// marks as defaults.
fn check_scope(
    raw: &RawAuthorizationRequest,
    oauth: &OAuthClientRecord,
    catalogue: &ScopeCatalogue,
) -> Result<ScopeSet, (AuthorizeErrorCode, String)> {
    let requested = ScopeSet::parse(raw.scope.as_deref().unwrap_or(""))
        .map_err(|e| (AuthorizeErrorCode::InvalidScope, e.to_string()))?;
    requested_scope(requested, oauth, catalogue).map_err(|e| (AuthorizeErrorCode::InvalidScope, e))
}

/// The scope a user grant asks for (RFC 6749 §3.3): each scope known and
/// registered for the client; none named means the catalogue's defaults
/// among the client's. The error is `invalid_scope`'s description. The
/// authorization endpoint and the device authorization endpoint (RFC 8628
/// §3.1) share it.
pub fn requested_scope(
    requested: ScopeSet,
    oauth: &OAuthClientRecord,
    catalogue: &ScopeCatalogue,
) -> Result<ScopeSet, String> {
    let allowed = &oauth.scopes;
    if requested.is_empty() {
        let defaults = catalogue.application_defaults();
        let defaults: BTreeSet<&str> = defaults.iter().collect();
        let scope: ScopeSet = allowed
            .iter()
            .filter(|s| defaults.contains(s))
            .map(str::to_owned)
            .collect();
        if scope.is_empty() {
            return Err("scope is required".into());
        }
        return Ok(scope);
    }
    for s in requested.iter() {
        if catalogue.get(s).is_none() {
            return Err(format!("scope {s:?} is unknown"));
        }
        if !allowed.contains(s) {
            return Err(format!("scope {s:?} is not registered for this client"));
        }
    }
    Ok(requested)
}

fn check_prompt(raw: Option<&str>) -> Result<Prompt, Failure> {
    use AuthorizeErrorCode::InvalidRequest;
    let mut p = Prompt::default();
    for value in raw.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
        match value {
            "none" => p.none = true,
            "login" => p.login = true,
            "consent" => p.consent = true,
            // Every user picks a workspace on the consent page anyway.
            "select_account" => p.consent = true,
            _ => return Err((InvalidRequest, "prompt has an unknown value")),
        }
    }
    // OIDC Core §3.1.2.1: none with any other value is an error.
    if p.none && (p.login || p.consent) {
        return Err((
            InvalidRequest,
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests;
