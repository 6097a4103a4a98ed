//! `GET …/application-token` and `POST …/application-token/regenerate`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::access::workspace_access;
use super::{APPLICATION_TOKEN_PATH, ApiError, ErrorBody, REGENERATE_PATH};
use super::{no_store, optional_json_body};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::permission::WorkspaceAction;
use crate::http::origin::RequestOrigin;
use crate::service::workspaces::RotationOptions;
use crate::storage::SecretRecord;
use crate::verifier::Principal;

/// The workspace's application key and the state of its secret: never a
/// secret itself.
#[utoipa::path(
    get,
    path = APPLICATION_TOKEN_PATH,
    tag = "application token",
    params(("workspace_id" = String, Path, description = "The workspace (the token's own)")),
    responses(
        (status = 200, description = "The application token, `Cache-Control: no-store`",
            body = serde_json::Value,
            example = json!({
                "workspaceId": "ws_8Hq2",
                "apiUrl": "https://auth.example.com/v1/workspace/ws_8Hq2",
                "applicationKey": "app_3kT9",
                "lastRotatedAt": "2026-11-23T18:00:00Z",
                "rotationDue": false,
                "previousSecretExpiresAt": "2026-11-23T18:10:00Z",
                "previousSecretLastUsedAt": null,
                "previousSecrets": [{"createdAt": "2026-10-01T09:00:00Z",
                    "expiresAt": "2026-11-23T18:10:00Z", "lastUsedAt": null}]
            })),
        (status = 401, description = "No access token", body = ErrorBody),
        (status = 403, description = "The token lacks `workspace:admin`", body = ErrorBody),
        (status = 404, description = "Another workspace, or none", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn show(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(workspace_id): Path<String>,
) -> Result<Response, ApiError> {
    workspace_access(&app, &principal, &workspace_id)
        .await?
        .require(WorkspaceAction::View)?;
    let now = app.clock.now();
    let token = app
        .workspaces()
        .application_token(&workspace_id, now)
        .await?;
    let (client, previous) = (token.client, token.previous);
    let rotated_at = client.secret_rotated_at.unwrap_or(client.created_at);
    let mut body = json!({
        "workspaceId": workspace_id,
        "apiUrl": app.settings.api_url.render(&app.settings.issuer, &workspace_id),
        "applicationKey": client.client_id,
        "lastRotatedAt": rfc3339(rotated_at),
        "rotationDue": now - rotated_at > app.settings.rotation_due_days * 86_400,
    });
    // The newest one, as before `previousSecrets` listed them all.
    if let Some(p) = previous.first() {
        body["previousSecretExpiresAt"] = p.expires_at.map(rfc3339).into();
        body["previousSecretLastUsedAt"] = p.last_used_at.map(rfc3339).into();
    }
    body["previousSecrets"] = previous.iter().map(previous_secret).collect();
    Ok(no_store(StatusCode::OK, &body))
}

/// A superseded secret that still works: never its hash or id.
fn previous_secret(s: &SecretRecord) -> serde_json::Value {
    json!({
        "createdAt": rfc3339(s.created_at),
        "expiresAt": s.expires_at.map(rfc3339),
        "lastUsedAt": s.last_used_at.map(rfc3339),
    })
}

/// The body may be left out: no grace period, no revocation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegenerateRequest {
    /// How long the previous secret keeps working: 0 (default) to 604800.
    #[serde(default)]
    grace_period_seconds: i64,
    /// Also revoke every access token issued with the key so far.
    #[serde(default)]
    revoke_issued_tokens: bool,
}

impl RegenerateRequest {
    pub fn options(&self) -> RotationOptions {
        RotationOptions {
            grace_seconds: self.grace_period_seconds,
            revoke_issued_tokens: self.revoke_issued_tokens,
        }
    }
}

/// A new secret key, shown once. Returns only once no node accepts the previous secret any more (unless
/// a grace period keeps it), see `clients::wait_for_propagation`.
#[utoipa::path(
    post,
    path = REGENERATE_PATH,
    tag = "application token",
    params(("workspace_id" = String, Path, description = "The workspace (the token's own)")),
    request_body(content = Option<RegenerateRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "The new secret key, shown once; `Cache-Control: no-store`",
            body = serde_json::Value,
            example = json!({
                "applicationKey": "app_3kT9",
                "secretKey": "sec_…",
                "lastRotatedAt": "2026-11-23T18:00:00Z",
                "previousSecretExpiresAt": "2026-11-23T18:00:00Z"
            })),
        (status = 400, description = "Malformed body or grace period out of range", body = ErrorBody),
        (status = 401, description = "No access token", body = ErrorBody),
        (status = 403, description = "The token lacks `workspace:admin`, or the person's role \
            is below admin", body = ErrorBody),
        (status = 404, description = "Another workspace, or none", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn regenerate(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    Path(workspace_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    workspace_access(&app, &principal, &workspace_id)
        .await?
        .require(WorkspaceAction::Administer)?;
    let request: RegenerateRequest = optional_json_body(&body)?;
    let options = request.options();
    let ctx = super::audit_context(&principal, origin);
    let now = app.clock.now();
    let rotated = app
        .workspaces()
        .rotate_secret(&workspace_id, options, now, &ctx)
        .await?;
    if options.revoke_issued_tokens {
        app.reload_revocations().await;
    }
    let body = json!({
        "applicationKey": rotated.application_key,
        "secretKey": rotated.secret_key.expose(),
        "lastRotatedAt": rfc3339(rotated.rotated_at),
        "previousSecretExpiresAt": rfc3339(rotated.previous_expires_at),
    });
    Ok(no_store(StatusCode::OK, &body))
}
