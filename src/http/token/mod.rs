//! The token endpoint (RFC 6749 §3.2). The request is parsed once into a
//! typed [`TokenRequest`]; each grant type has its own handler module.

mod client_credentials;

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

/// Grant types the endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    ClientCredentials,
}

impl GrantType {
    pub const ALL: &'static [GrantType] = &[GrantType::ClientCredentials];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
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
    ClientCredentials(crate::domain::grants::client_credentials::ClientCredentialsRequest),
}

impl TokenRequest {
    fn parse(grant: GrantType, form: &mut OAuthForm) -> Result<Self, OAuthError> {
        match grant {
            GrantType::ClientCredentials => {
                client_credentials::parse(form).map(TokenRequest::ClientCredentials)
            }
        }
    }
}

/// RFC 6749 §5.1.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).expect("token response serializes");
        json(StatusCode::OK, "application/json", Caching::NoStore, body)
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
    let credentials = ClientCredentials::extract(headers, &mut form)?;
    let grant_type = form.require("grant_type")?;
    let grant = GrantType::from_str(&grant_type).map_err(|()| {
        OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type {grant_type:?} is not supported"),
        )
    })?;
    *label = grant.as_str();
    let request = TokenRequest::parse(grant, &mut form)?;
    let client = credentials.authenticate(app).await?;
    match request {
        TokenRequest::ClientCredentials(r) => client_credentials::handle(app, &client, r),
    }
}
