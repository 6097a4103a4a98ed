//! Usage reports: an API key's verifications and an application key's
//! token requests, per UTC day and outcome (docs/api-keys.md, "Usage").

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::access::{key_creator, workspace_access};
use super::{API_KEY_USAGE_PATH, APPLICATION_USAGE_PATH, ApiError, ErrorBody, no_store};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::api_key::KeyAccess;
use crate::domain::audit::AuditContext;
use crate::domain::permission::WorkspaceAction;
use crate::verifier::Principal;

/// `?from&to`: the days a usage report covers.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// First day, `YYYY-MM-DD` (UTC) or an RFC 3339 time; default 29 days before `to`.
    from: Option<String>,
    /// Last day, included; default today (UTC). At most 366 days in all.
    to: Option<String>,
}

impl UsageQuery {
    /// The range asked for, from a query string that may be malformed.
    pub fn range(
        app: &App,
        query: Result<Query<UsageQuery>, axum::extract::rejection::QueryRejection>,
    ) -> Result<crate::service::usage::DayRange, ApiError> {
        let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        crate::service::usage::DayRange::parse(q.from.as_deref(), q.to.as_deref(), app.clock.now())
            .map_err(ApiError::BadRequest)
    }
}

/// What a usage report looks like.
pub const USAGE_EXAMPLE: &str = r#"{"from": "2026-11-30", "to": "2026-12-01",
    "days": [
      {"date": "2026-11-30", "success": 1520, "invalid": 2, "expired": 0, "disabled": 0,
       "insufficient_scope": 4, "rate_limited": 0},
      {"date": "2026-12-01", "success": 980, "invalid": 0, "expired": 0, "disabled": 0,
       "insufficient_scope": 0, "rate_limited": 12}],
    "totals": {"success": 2500, "invalid": 2, "expired": 0, "disabled": 0,
       "insufficient_scope": 4, "rate_limited": 12}}"#;

/// A key's verifications per UTC day and outcome. Counts are written in
/// batches every few seconds, and kept for the configured retention.
#[utoipa::path(
    get,
    path = API_KEY_USAGE_PATH,
    tag = "API keys",
    params(
        ("workspace_id" = String, Path, description = "The credential's own workspace"),
        ("key_id" = String, Path, description = "The key's id"),
        UsageQuery,
    ),
    responses(
        (status = 200, description = "Every day of the range with each outcome's count: \
            `success`, `invalid` (the key's prefix with a wrong secret), `expired`, `disabled` \
            (deactivated or revoked), `insufficient_scope`, `rate_limited`",
            body = serde_json::Value,
            example = json!(serde_json::from_str::<Value>(USAGE_EXAMPLE).unwrap())),
        (status = 400, description = "A malformed date, from after to, or more than 366 days", body = ErrorBody),
        (status = 401, description = "No credential", body = ErrorBody),
        (status = 403, description = "The credential may not read keys", body = ErrorBody),
        (status = 404, description = "No such key in the workspace", body = ErrorBody),
    ),
    security(("bearer" = ["keys:read"])),
)]
pub async fn api_key(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path((workspace_id, id)): Path<(String, String)>,
    query: Result<Query<UsageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    key_creator(
        &app,
        &principal,
        &workspace_id,
        KeyAccess::Read,
        AuditContext::system(),
    )
    .await?;
    let range = UsageQuery::range(&app, query)?;
    let key = app.api_keys.get(&workspace_id, &id).await?;
    let series = app
        .usage_reports()
        .api_key(&workspace_id, &key.id, range)
        .await?;
    let mut body = series.to_json();
    body["apiKeyId"] = key.id.into();
    body["lastUsedAt"] = key.last_used_at.map(crate::clock::rfc3339).into();
    Ok(Json(body).into_response())
}

/// The application key's token requests per UTC day and outcome.
#[utoipa::path(
    get,
    path = APPLICATION_USAGE_PATH,
    tag = "application token",
    params(
        ("workspace_id" = String, Path, description = "The workspace (the token's own)"),
        UsageQuery,
    ),
    responses(
        (status = 200, description = "Every day of the range with each outcome's count: \
            `success` (a token issued), `invalid` (a wrong secret with this application key), \
            `insufficient_scope` (a scope it may not have), `rate_limited`",
            body = serde_json::Value,
            example = json!(serde_json::from_str::<serde_json::Value>(USAGE_EXAMPLE).unwrap())),
        (status = 400, description = "A malformed date, from after to, or more than 366 days", body = ErrorBody),
        (status = 401, description = "No access token", body = ErrorBody),
        (status = 403, description = "The token lacks `workspace:admin`", body = ErrorBody),
        (status = 404, description = "Another workspace, or none", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn application(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(workspace_id): Path<String>,
    query: Result<axum::extract::Query<UsageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    workspace_access(&app, &principal, &workspace_id)
        .await?
        .require(WorkspaceAction::View)?;
    let range = UsageQuery::range(&app, query)?;
    let token = app
        .workspaces()
        .application_token(&workspace_id, app.clock.now())
        .await?;
    let series = app
        .usage_reports()
        .client(&token.client.client_id, range)
        .await?;
    let mut body = series.to_json();
    body["applicationKey"] = token.client.client_id.into();
    body["lastUsedAt"] = token.client.last_used_at.map(rfc3339).into();
    Ok(no_store(StatusCode::OK, &body))
}
