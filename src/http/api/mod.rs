//! The management API under `/v1`, protected by keyflow's own verifier.

mod api_keys;
mod application_token;
mod audit_logs;
mod whoami;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::Route;
use crate::app::App;
use crate::service::StoreFailure;
use crate::service::workspaces::{MAX_GRACE_SECONDS, WorkspaceError};
use crate::verifier::{CredentialKind, Principal, Rejection, Verifier};

pub const APPLICATION_TOKEN_PATH: &str = "/v1/workspace/{workspace_id}/application-token";
pub const REGENERATE_PATH: &str = "/v1/workspace/{workspace_id}/application-token/regenerate";
pub const AUDIT_LOGS_PATH: &str = "/v1/workspace/{workspace_id}/audit-logs";
pub const API_KEYS_PATH: &str = "/v1/workspace/{workspace_id}/api-keys";
pub const API_KEY_PATH: &str = "/v1/workspace/{workspace_id}/api-keys/{key_id}";
pub const API_KEY_ROLL_PATH: &str = "/v1/workspace/{workspace_id}/api-keys/{key_id}/roll";
pub const WHOAMI_PATH: &str = "/v1/whoami";

/// The scope every management call needs.
pub const ADMIN_SCOPE: &str = "workspace:admin";

impl FromRef<Arc<App>> for Verifier {
    fn from_ref(app: &Arc<App>) -> Verifier {
        app.management_verifier.clone()
    }
}

/// The management routes; [`super::router`] puts them behind the
/// management verifier.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(APPLICATION_TOKEN_PATH, get(application_token::show)),
        Route::new(REGENERATE_PATH, post(application_token::regenerate)),
        Route::new(AUDIT_LOGS_PATH, get(audit_logs::list)),
        Route::new(API_KEYS_PATH, get(api_keys::list).post(api_keys::create)),
        Route::new(
            API_KEY_PATH,
            axum::routing::patch(api_keys::update).delete(api_keys::revoke),
        ),
        Route::new(API_KEY_ROLL_PATH, post(api_keys::roll)),
        Route::new(WHOAMI_PATH, get(whoami::show)),
    ]
}

#[derive(Debug)]
pub enum ApiError {
    Auth(Rejection),
    /// Also the answer for another workspace's id, so ids cannot be probed.
    NotFound,
    /// No such API key in the workspace (nor another workspace's key).
    ApiKeyNotFound,
    BadRequest(String),
    /// RFC 9110 §15.5.10: the request conflicts with the resource's state,
    /// such as revoking a key that is revoked already.
    Conflict(String),
    Unavailable,
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        ApiError::Auth(r)
    }
}

impl From<StoreFailure> for ApiError {
    fn from(f: StoreFailure) -> Self {
        f.log();
        ApiError::Unavailable
    }
}

impl From<WorkspaceError> for ApiError {
    fn from(e: WorkspaceError) -> Self {
        match e {
            WorkspaceError::NotFound => ApiError::NotFound,
            WorkspaceError::InvalidGrace => ApiError::BadRequest(format!(
                "gracePeriodSeconds must be 0 to {MAX_GRACE_SECONDS}"
            )),
            WorkspaceError::Store(f) => f.into(),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error, description) = match self {
            ApiError::Auth(r) => return r.into_response(),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "no such workspace".to_owned(),
            ),
            ApiError::ApiKeyNotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "no such API key".to_owned(),
            ),
            ApiError::BadRequest(d) => (StatusCode::BAD_REQUEST, "invalid_request", d),
            ApiError::Conflict(d) => (StatusCode::CONFLICT, "conflict", d),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the server cannot serve this request right now; retry shortly".to_owned(),
            ),
        };
        (
            status,
            axum::Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    }
}

/// Access tokens of the workspace itself, with `workspace:admin`. Another
/// workspace's token gets 404 whatever its scopes.
/// Who acts: the user, when a person authorized the token (a third-party
/// integration acting for them), else the client itself.
pub fn audit_context(
    principal: &Principal,
    origin: crate::domain::audit::Origin,
) -> crate::domain::audit::AuditContext {
    use crate::domain::audit::Actor;
    crate::domain::audit::AuditContext {
        actor: match &principal.user_id {
            Some(user) => Actor::user(user),
            None => Actor::client(&principal.client_id),
        },
        origin,
    }
}

pub fn authorize(principal: &Principal, workspace_id: &str) -> Result<(), ApiError> {
    if principal.kind != CredentialKind::AccessToken {
        return Err(Rejection::missing_bearer().into());
    }
    if principal.workspace_id.as_deref() != Some(workspace_id) {
        return Err(ApiError::NotFound);
    }
    principal.require_scope(ADMIN_SCOPE)?;
    Ok(())
}

/// A JSON request body; malformed JSON is a precise 400.
pub fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

/// A JSON body that may be left out: an empty body means the defaults.
pub fn optional_json_body<T: serde::de::DeserializeOwned + Default>(
    bytes: &[u8],
) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json_body(bytes)
}
