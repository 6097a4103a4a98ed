//! The token endpoint (RFC 6749 §3.2). The request is parsed once into a
//! typed [`TokenRequest`]; each grant type has its own handler module.

mod authorization_code;
mod client_credentials;
mod refresh_token;
mod token_exchange;
mod user_tokens;

#[cfg(test)]
mod redaction_tests;

pub use user_tokens::OFFLINE_ACCESS;

use std::str::FromStr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::client_auth::ClientCredentials;
use super::error::{ErrorCode, OAuthError};
use super::form::OAuthForm;
use super::response::{Caching, json};
use crate::app::App;
use crate::domain::secret::Redacted;

/// Grant types the endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// RFC 6749 §4.1, with PKCE.
    AuthorizationCode,
    /// RFC 6749 §6, with rotation.
    RefreshToken,
    ClientCredentials,
    /// RFC 8693, for trading an API key for a short-lived access token.
    TokenExchange,
}

impl GrantType {
    pub const ALL: &'static [GrantType] = &[
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::TokenExchange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    /// A short name for metric labels.
    pub fn label(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::TokenExchange => "token_exchange",
        }
    }
}

impl FromStr for GrantType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        GrantType::ALL
            .iter()
            .copied()
            .find(|g| g.as_str() == s)
            .ok_or(())
    }
}

/// A token request, typed by its grant.
#[derive(Debug)]
pub enum TokenRequest {
    AuthorizationCode(authorization_code::AuthorizationCodeRequest),
    RefreshToken(refresh_token::RefreshTokenRequest),
    ClientCredentials(crate::domain::grants::client_credentials::ClientCredentialsRequest),
    TokenExchange(token_exchange::TokenExchangeRequest),
}

impl TokenRequest {
    fn parse(grant: GrantType, form: &mut OAuthForm) -> Result<Self, OAuthError> {
        match grant {
            GrantType::AuthorizationCode => {
                authorization_code::parse(form).map(TokenRequest::AuthorizationCode)
            }
            GrantType::RefreshToken => refresh_token::parse(form).map(TokenRequest::RefreshToken),
            GrantType::ClientCredentials => {
                client_credentials::parse(form).map(TokenRequest::ClientCredentials)
            }
            GrantType::TokenExchange => {
                token_exchange::parse(form).map(TokenRequest::TokenExchange)
            }
        }
    }
}

/// RFC 6749 §5.1.
#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    /// RFC 8693 §2.2.1, for token exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// OIDC Core §3.1.3.3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The client's rate-limit state, sent as headers.
    #[serde(skip)]
    pub rate_limit: Option<crate::node::rate_limit::Decision>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &Redacted)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("issued_token_type", &self.issued_token_type)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| Redacted),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| Redacted))
            .finish_non_exhaustive()
    }
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).expect("token response serializes");
        let mut res = json(StatusCode::OK, "application/json", Caching::NoStore, body);
        if let Some(d) = &self.rate_limit {
            d.write_headers(res.headers_mut());
        }
        res
    }
}

pub async fn token(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> Response {
    let mut label = "unknown";
    let result = handle(&app, &headers, form, &mut label).await;
    let outcome = match &result {
        Ok(_) => "issued",
        Err(e) => e.code.as_str(),
    };
    app.metrics.token_outcome(label, outcome);
    match result {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(
    app: &App,
    headers: &HeaderMap,
    form: Result<OAuthForm, OAuthError>,
    label: &mut &'static str,
) -> Result<TokenResponse, OAuthError> {
    let mut form = form?;
    // The API key of a token exchange is itself the credential, so client
    // authentication is optional there (RFC 8693 §2.1); when sent, it must
    // be right.
    let attempted = headers.contains_key(axum::http::header::AUTHORIZATION)
        || form.get("client_secret").is_some();
    let grant_type = form.require("grant_type")?;
    let grant = GrantType::from_str(&grant_type).map_err(|()| {
        OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type {grant_type:?} is not supported"),
        )
    })?;
    *label = grant.label();
    let credentials = match grant {
        GrantType::TokenExchange if !attempted => None,
        _ => Some(ClientCredentials::extract(headers, &mut form)?),
    };
    let request = TokenRequest::parse(grant, &mut form)?;
    let client = match &credentials {
        Some(c) => Some(c.authenticate(app).await?),
        None => None,
    };
    match (request, client) {
        (TokenRequest::TokenExchange(r), _) => token_exchange::handle(app, r).await,
        (_, None) => Err(OAuthError::invalid_client(
            "client authentication is required",
        )),
        (TokenRequest::ClientCredentials(r), Some(client)) => {
            client_credentials::handle(app, &client, r).await
        }
        (TokenRequest::AuthorizationCode(r), Some(client)) => {
            authorization_code::handle(app, &client, r).await
        }
        (TokenRequest::RefreshToken(r), Some(client)) => {
            refresh_token::handle(app, &client, r).await
        }
    }
}

/// RFC 6749 §3.3: the `scope` parameter. A scope of only spaces names no
/// scope, as if omitted.
fn optional_scope(
    form: &mut OAuthForm,
) -> Result<Option<crate::domain::scope::ScopeSet>, OAuthError> {
    form.take("scope")
        .map(|s| crate::domain::scope::ScopeSet::parse(&s))
        .transpose()
        .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e.to_string()))
        .map(|s| s.filter(|s| !s.is_empty()))
}

/// Signs an access token for `grant` with the configured algorithm's
/// active key, as every grant's answer does.
fn respond(
    app: &App,
    grant: &crate::domain::access_token::Grant,
    lifetime: i64,
    issued_token_type: Option<&'static str>,
) -> Result<TokenResponse, OAuthError> {
    let settings = &app.settings;
    let keyring = app.keyring.load();
    let key = keyring.active(settings.access_token_alg).map_err(|e| {
        tracing::error!(error = %e, "no signing key");
        OAuthError::new(
            ErrorCode::ServerError,
            "the server cannot sign tokens right now",
        )
    })?;
    let now = app.clock.now();
    let issued = crate::domain::access_token::issue(grant, key, &settings.issuer, lifetime, now);
    Ok(TokenResponse {
        access_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: grant.scope.to_string(),
        issued_token_type,
        refresh_token: None,
        id_token: None,
        rate_limit: None,
    })
}
