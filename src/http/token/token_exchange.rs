//! HTTP side of token exchange (RFC 8693 §2).

use super::TokenResponse;
use crate::app::App;
use crate::domain::grants::token_exchange::{
    ACCESS_TOKEN_TYPE, API_KEY_TOKEN_TYPE, TokenExchangeError, decide,
};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::Redacted;
use crate::http::error::{ErrorCode, OAuthError};
use crate::http::form::OAuthForm;
use crate::node::rate_limit::Category;
use crate::service::api_keys::ApiKeyError;
use crate::verifier::Rejection;

pub struct TokenExchangeRequest {
    subject_token: String,
    scope: Option<ScopeSet>,
    resources: Vec<String>,
}

impl std::fmt::Debug for TokenExchangeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenExchangeRequest")
            .field("subject_token", &Redacted)
            .field("scope", &self.scope)
            .field("resources", &self.resources)
            .finish()
    }
}

pub(super) fn parse(form: &mut OAuthForm) -> Result<TokenExchangeRequest, OAuthError> {
    let subject_token = form.require("subject_token")?;
    let subject_type = form.require("subject_token_type")?;
    if subject_type != API_KEY_TOKEN_TYPE {
        return Err(OAuthError::invalid_request(format!(
            "subject_token_type must be {API_KEY_TOKEN_TYPE}"
        )));
    }
    if form
        .take("requested_token_type")
        .is_some_and(|t| t != ACCESS_TOKEN_TYPE)
    {
        return Err(OAuthError::invalid_request(format!(
            "only {ACCESS_TOKEN_TYPE} can be requested"
        )));
    }
    if form.take("actor_token").is_some() {
        return Err(OAuthError::invalid_request(
            "delegation (actor_token) is not supported",
        ));
    }
    let scope = super::optional_scope(form)?;
    Ok(TokenExchangeRequest {
        subject_token,
        scope,
        resources: form.take_all("resource"),
    })
}

pub(super) async fn handle(
    app: &App,
    r: TokenExchangeRequest,
) -> Result<TokenResponse, OAuthError> {
    let key = app
        .api_keys
        .verify(&r.subject_token)
        .await
        .map_err(|e| match e {
            ApiKeyError::Store(f) => OAuthError::unavailable(&f),
            // RFC 8693 §2.2.2: an unacceptable subject_token is invalid_request.
            other => OAuthError::invalid_request(format!("subject_token: {other}")),
        })?;
    // A key's token budget is spent here.
    let decision = app
        .verifier
        .check_rate(&app.api_keys.principal(&key), Category::Token)
        .await
        .map_err(|r| match r {
            Rejection::TooManyRequests(d) => OAuthError::rate_limited(d),
            _ => OAuthError::new(ErrorCode::TemporarilyUnavailable, "retry shortly"),
        })?;
    let settings = &app.settings;
    let now = app.clock.now();
    let (grant, lifetime) = decide(
        &key,
        r.scope,
        &r.resources,
        &settings.resources,
        settings.access_token_ttl,
        now,
    )
    .map_err(|e| {
        let code = match e {
            TokenExchangeError::Scope(_) => ErrorCode::InvalidScope,
            TokenExchangeError::Resource(_) => ErrorCode::InvalidTarget,
        };
        OAuthError::new(code, e.to_string())
    })?;
    let mut response = super::respond(app, &grant, lifetime, Some(ACCESS_TOKEN_TYPE))?;
    response.rate_limit = decision;
    Ok(response)
}
