//! The token endpoint (RFC 6749 §3.2). Each grant type is a module behind
//! the [`Grant`] trait, registered in one list ([`grant`]); the endpoint
//! finds the grant, reads the client's credentials as the grant asks, and
//! lets the grant parse and handle the request.

mod authorization_code;
mod client_credentials;
mod device_code;
mod grant;
mod refresh_token;
mod response;
mod token_exchange;

#[cfg(test)]
mod redaction_tests;

pub use crate::service::tokens::OFFLINE_ACCESS;
pub use grant::{Caller, Grant, GrantType, supported as supported_grant_types};
pub use response::TokenResponse;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::client_auth::ClientCredentials;
use super::error::{ErrorCode, OAuthError};
use super::form::OAuthForm;
use crate::app::App;
use crate::domain::scope::ScopeSet;

pub async fn token(State(app): State<Arc<App>>, request: Request) -> Response {
    // The headers are read in place rather than copied out by an extractor.
    let (parts, body) = request.into_parts();
    let form = OAuthForm::read(&parts.headers, body).await;
    let mut label = "unknown";
    let result = handle(&app, &parts.headers, form, &mut label).await;
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
    let sent_credentials = headers.contains_key(axum::http::header::AUTHORIZATION)
        || form.get("client_secret").is_some();
    let grant_type = form.require("grant_type")?;
    let grant = grant::find(&grant_type).ok_or_else(|| {
        OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type {grant_type:?} is not supported"),
        )
    })?;
    *label = grant.grant_type().label();
    let credentials = if grant.authenticates(sent_credentials) {
        Some(ClientCredentials::extract(headers, &mut form)?)
    } else {
        None
    };
    grant.run(app, &mut form, credentials).await
}

/// RFC 6749 §3.3: the `scope` parameter. A scope of only spaces names no
/// scope, as if omitted.
pub(super) fn optional_scope(form: &mut OAuthForm) -> Result<Option<ScopeSet>, OAuthError> {
    form.take("scope")
        .map(|s| ScopeSet::parse(&s))
        .transpose()
        .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e.to_string()))
        .map(|s| s.filter(|s| !s.is_empty()))
}
