//! `GET …/application-token` and `POST …/application-token/regenerate`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, authorize, optional_json_body};
use crate::app::App;
use crate::clock::rfc3339;
use crate::http::origin::RequestOrigin;
use crate::http::response::{Caching, json as json_response};
use crate::service::workspaces::RotationOptions;
use crate::storage::SecretRecord;
use crate::verifier::Principal;

pub async fn show(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(workspace_id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&principal, &workspace_id)?;
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
    Ok(no_store(body))
}

/// A superseded secret that still works: never its hash or id.
fn previous_secret(s: &SecretRecord) -> serde_json::Value {
    json!({
        "createdAt": rfc3339(s.created_at),
        "expiresAt": s.expires_at.map(rfc3339),
        "lastUsedAt": s.last_used_at.map(rfc3339),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegenerateRequest {
    #[serde(default)]
    grace_period_seconds: i64,
    #[serde(default)]
    revoke_issued_tokens: bool,
}

/// Returns only once no node accepts the previous secret any more (unless
/// a grace period keeps it), see `clients::wait_for_propagation`.
pub async fn regenerate(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    Path(workspace_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&principal, &workspace_id)?;
    let request: RegenerateRequest = optional_json_body(&body)?;
    let options = RotationOptions {
        grace_seconds: request.grace_period_seconds,
        revoke_issued_tokens: request.revoke_issued_tokens,
    };
    let ctx = super::audit_context(&principal, origin);
    let now = app.clock.now();
    let rotated = app
        .workspaces()
        .rotate_secret(&workspace_id, options, now, &ctx)
        .await?;
    if options.revoke_issued_tokens {
        app.reload_revocations().await;
    }
    Ok(no_store(json!({
        "applicationKey": rotated.application_key,
        "secretKey": rotated.secret_key.expose(),
        "lastRotatedAt": rfc3339(rotated.rotated_at),
        "previousSecretExpiresAt": rfc3339(rotated.previous_expires_at),
    })))
}

fn no_store(body: serde_json::Value) -> Response {
    json_response(
        StatusCode::OK,
        "application/json",
        Caching::NoStore,
        serde_json::to_vec(&body).expect("JSON serializes"),
    )
}
