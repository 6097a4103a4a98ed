//! Metadata: OIDC Discovery 1.0 §3 and RFC 8414 §2. Only what keyflow
//! really implements is listed; later features extend `Metadata`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::response::{Caching, json};
use super::token::GrantType;
use crate::app::App;
use crate::config::Settings;
use crate::crypto::signing::Algorithm;

pub const TOKEN_PATH: &str = "/oauth/token";
pub const JWKS_PATH: &str = "/oauth/jwks";
pub const REVOCATION_PATH: &str = "/oauth/revoke";
pub const INTROSPECTION_PATH: &str = "/oauth/introspect";
pub const REVOCATION_LIST_PATH: &str = crate::verifier::remote::REVOCATIONS_PATH;

const CLIENT_AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post"];

#[derive(Debug, Serialize)]
pub struct Metadata {
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// RFC 7009.
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// RFC 7662.
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    /// No authorization endpoint yet, so no response types.
    pub response_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<String>,
    /// Algorithms access tokens may be signed with (the JWKS holds a key
    /// for each).
    pub access_token_signing_alg_values_supported: Vec<&'static str>,
}

impl Metadata {
    pub fn new(settings: &Settings) -> Self {
        let issuer = settings.issuer.clone();
        Self {
            token_endpoint: format!("{issuer}{TOKEN_PATH}"),
            jwks_uri: format!("{issuer}{JWKS_PATH}"),
            revocation_endpoint: format!("{issuer}{REVOCATION_PATH}"),
            revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
            introspection_endpoint: format!("{issuer}{INTROSPECTION_PATH}"),
            introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
            issuer,
            grant_types_supported: GrantType::ALL.iter().map(|g| g.as_str()).collect(),
            response_types_supported: vec![],
            token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
            scopes_supported: settings.scopes.names().map(str::to_owned).collect(),
            access_token_signing_alg_values_supported: Algorithm::ALL
                .iter()
                .map(|a| a.as_str())
                .collect(),
        }
    }
}

pub async fn metadata(State(app): State<Arc<App>>) -> Response {
    let body = serde_json::to_vec(&Metadata::new(&app.settings)).expect("metadata serializes");
    json(
        StatusCode::OK,
        "application/json",
        Caching::PublicFiveMinutes,
        body,
    )
}
