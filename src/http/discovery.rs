//! Metadata: OIDC Discovery 1.0 §3 and RFC 8414 §2. Only what keyflow
//! really implements is listed; later features extend `Metadata`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::response::{Caching, json};
use super::token::supported_grant_types;
use crate::app::App;
use crate::config::Settings;
use crate::crypto::signing::Algorithm;

pub const AUTHORIZATION_PATH: &str = "/oauth/authorize";
pub const DECISION_PATH: &str = "/oauth/authorize/decision";
pub const LOGIN_PATH: &str = "/login";
pub const TOKEN_PATH: &str = "/oauth/token";
pub const JWKS_PATH: &str = "/oauth/jwks";
pub const REVOCATION_PATH: &str = "/oauth/revoke";
pub const INTROSPECTION_PATH: &str = crate::verifier::remote::INTROSPECTION_PATH;
pub const REVOCATION_LIST_PATH: &str = crate::verifier::remote::REVOCATIONS_PATH;

/// Public clients (RFC 6749 §2.1) name themselves with `client_id` alone
/// at the token, revocation and introspection endpoints.
const CLIENT_AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "none"];
/// OIDC Core §5.4 claims, plus the ID token's own.
const CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "email",
    "name",
];

#[derive(Debug, Serialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    /// OIDC Core §5.3.
    pub userinfo_endpoint: String,
    /// OIDC RP-Initiated Logout 1.0 §2.1.
    pub end_session_endpoint: String,
    pub jwks_uri: String,
    /// RFC 7009.
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// RFC 7662.
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// RFC 8628 §4.
    pub device_authorization_endpoint: String,
    pub grant_types_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    /// RFC 7636 and RFC 9700 §2.1.1: S256 only.
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// RFC 9207 §3.
    pub authorization_response_iss_parameter_supported: bool,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    pub prompt_values_supported: Vec<&'static str>,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<String>,
    /// Algorithms access tokens may be signed with (the JWKS holds a key
    /// for each).
    pub access_token_signing_alg_values_supported: Vec<&'static str>,
}

impl Metadata {
    pub fn new(settings: &Settings) -> Self {
        let issuer = settings.issuer.clone();
        let algorithms: Vec<&'static str> = Algorithm::ALL.iter().map(|a| a.as_str()).collect();
        Self {
            authorization_endpoint: format!("{issuer}{AUTHORIZATION_PATH}"),
            token_endpoint: format!("{issuer}{TOKEN_PATH}"),
            userinfo_endpoint: format!("{issuer}{}", super::userinfo::USERINFO_PATH),
            end_session_endpoint: format!("{issuer}{}", super::logout::END_SESSION_PATH),
            jwks_uri: format!("{issuer}{JWKS_PATH}"),
            revocation_endpoint: format!("{issuer}{REVOCATION_PATH}"),
            revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
            introspection_endpoint: format!("{issuer}{INTROSPECTION_PATH}"),
            introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
            device_authorization_endpoint: format!(
                "{issuer}{}",
                super::device_authorization::DEVICE_AUTHORIZATION_PATH
            ),
            issuer,
            grant_types_supported: supported_grant_types().map(|g| g.as_str()).collect(),
            response_types_supported: vec!["code"],
            response_modes_supported: vec!["query"],
            code_challenge_methods_supported: vec!["S256"],
            authorization_response_iss_parameter_supported: true,
            subject_types_supported: vec!["public"],
            // RS256 first: OIDC Core §15.1 makes it the one every RP supports.
            id_token_signing_alg_values_supported: vec!["RS256", "ES256", "EdDSA"],
            claims_supported: CLAIMS.to_vec(),
            prompt_values_supported: vec!["none", "login", "consent", "select_account"],
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
            token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
            scopes_supported: settings.scopes.names().map(str::to_owned).collect(),
            access_token_signing_alg_values_supported: algorithms,
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
