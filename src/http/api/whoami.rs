//! `GET /v1/whoami`: what the calling credential is and which workspace it
//! acts for, so that a tool holding only an API key or a token can find its
//! workspace (as Unkey's `keys.whoami` does). It names no secret.

use axum::Json;
use serde_json::{Value, json};

use super::{ErrorBody, WHOAMI_PATH};
use crate::clock::rfc3339;
use crate::verifier::{CredentialKind, Principal};

/// Any credential the management verifier accepts: an access token or an
/// API key, whatever its scopes.
#[utoipa::path(
    get,
    path = WHOAMI_PATH,
    tag = "credentials",
    responses(
        (status = 200, description = "The calling credential", body = serde_json::Value,
            example = json!({
                "credential": "access_token",
                "workspaceId": "ws_8Hq2",
                "clientId": "app_3kT9",
                "scopes": ["workspace:admin"],
                "userId": "usr_5Zp1",
                "expiresAt": "2026-11-23T19:00:00Z"
            })),
        (status = 401, description = "No credential, or not a valid one", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn show(principal: Principal) -> Json<Value> {
    let credential = match principal.kind {
        CredentialKind::AccessToken => "access_token",
        CredentialKind::ApiKey => "api_key",
        CredentialKind::AppKeyAndSecret | CredentialKind::AppKeyOnly => "appkey",
    };
    let mut body = json!({
        "credential": credential,
        "workspaceId": principal.workspace_id,
        "clientId": principal.client_id,
        "scopes": principal.scopes.iter().collect::<Vec<_>>(),
    });
    if principal.kind == CredentialKind::ApiKey {
        body["keyId"] = principal.subject.clone().into();
    }
    if let Some(user) = &principal.user_id {
        body["userId"] = user.clone().into();
    }
    if let Some(exp) = principal.expires_at {
        body["expiresAt"] = rfc3339(exp).into();
    }
    Json(body)
}
