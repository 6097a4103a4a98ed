//! `…/api-keys`: create, list, change, roll and revoke a workspace's API keys.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::access::key_creator;
use super::{API_KEY_PATH, API_KEY_ROLL_PATH, API_KEYS_PATH, ApiError, ErrorBody};
use super::{json_body, optional_json_body};
use crate::app::App;
use crate::domain::api_key::KeyAccess;
use crate::domain::audit::AuditContext;
use crate::domain::scope::ScopeSet;
use crate::http::origin::RequestOrigin;
use crate::node::rate_limit::Overrides;
use crate::service::api_keys::{self as keys, CreatedKey, NewKey};
use crate::storage::{ApiKeyChanges, ApiKeyRecord};
use crate::verifier::Principal;

fn context(principal: &Principal, origin: crate::domain::audit::Origin) -> AuditContext {
    super::audit_context(principal, origin)
}

fn item(app: &App, k: &ApiKeyRecord) -> Value {
    app.api_keys.describe(k)
}

fn created(app: &App, c: &CreatedKey) -> Response {
    let mut body = item(app, &c.record);
    body["key"] = c.key.expose().into();
    super::no_store(StatusCode::CREATED, &body)
}

/// Scopes as a JSON array or a space-separated string.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Scopes {
    List(Vec<String>),
    Text(String),
}

impl Scopes {
    fn parse(self) -> Result<ScopeSet, ApiError> {
        let text = match self {
            Scopes::List(l) => l.join(" "),
            Scopes::Text(t) => t,
        };
        ScopeSet::parse(&text).map_err(|e| ApiError::BadRequest(e.to_string()))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRequest {
    name: String,
    /// `secret` (server side) or `client` (may sit in a browser or an app).
    #[serde(rename = "type")]
    #[schema(example = "secret")]
    key_type: String,
    scopes: Scopes,
    /// RFC 3339 time.
    expires_at: Option<String>,
    /// Per-category requests per minute: `{"read", "write", "token"}`.
    #[schema(value_type = Option<Object>)]
    rate_limits: Option<Overrides>,
}

/// An API key as listed: never the key itself.
const KEY_EXAMPLE: &str = r#"{"id": "key_7Yx", "name": "reports", "type": "secret",
    "prefix": "sk_19656ea", "scopes": ["api:read"], "createdAt": "2026-11-23T18:00:00Z",
    "createdBy": "app_3kT9", "expiresAt": null, "lastUsedAt": null, "usageCount": 0,
    "status": "active", "rateLimits": {"read": 600, "write": 60, "token": 60}}"#;

/// Creates a key; the key itself is in this response only.
#[utoipa::path(
    post,
    path = API_KEYS_PATH,
    tag = "API keys",
    params(("workspace_id" = String, Path, description = "The credential's own workspace")),
    request_body = CreateRequest,
    responses(
        (status = 201, description = "The key, with `key` shown once; `Cache-Control: no-store`",
            body = serde_json::Value),
        (status = 400, description = "Malformed body, unknown type or scope, bad expiry", body = ErrorBody),
        (status = 401, description = "No credential", body = ErrorBody),
        (status = 403, description = "The credential may not write keys, or grant those scopes", body = ErrorBody),
        (status = 404, description = "Another workspace, or none", body = ErrorBody),
    ),
    security(("bearer" = ["keys:write"])),
)]
pub async fn create(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    Path(workspace_id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let creator = key_creator(
        &app,
        &principal,
        &workspace_id,
        KeyAccess::Write,
        context(&principal, origin),
    )
    .await?;
    let req: CreateRequest = json_body(&bytes)?;
    let expires_at = req
        .expires_at
        .as_deref()
        .map(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map(|d| d.unix_timestamp())
                .map_err(|_| ApiError::BadRequest("expiresAt must be an RFC 3339 time".into()))
        })
        .transpose()?;
    let new = NewKey {
        name: req.name,
        key_type: req.key_type.parse().map_err(ApiError::BadRequest)?,
        scopes: req.scopes.parse()?,
        expires_at,
        rate_limits: req.rate_limits,
    };
    let made = app.api_keys.create(&workspace_id, new, &creator).await?;
    Ok(created(&app, &made))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only the key with this prefix (at most one; never paged).
    prefix: Option<String>,
    /// Keys per page, 1 to 100, oldest first; without it (and without
    /// `cursor`) every key in one answer.
    limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = API_KEYS_PATH,
    tag = "API keys",
    params(
        ("workspace_id" = String, Path, description = "The credential's own workspace"),
        ListQuery,
    ),
    responses(
        (status = 200, description = "The workspace's keys, oldest first: \
            `{\"items\": [key, …], \"nextCursor\": …}`; `nextCursor` is null on the last page \
            and when not paged",
            body = serde_json::Value,
            example = json!({"items": [serde_json::from_str::<Value>(KEY_EXAMPLE).unwrap()],
                "nextCursor": "a2V5czox"})),
        (status = 400, description = "Unknown query parameter, limit out of range, or a cursor \
            this API did not return", body = ErrorBody),
        (status = 401, description = "No credential", body = ErrorBody),
        (status = 403, description = "The credential may not read keys", body = ErrorBody),
        (status = 404, description = "Another workspace, or none", body = ErrorBody),
    ),
    security(("bearer" = ["keys:read"])),
)]
pub async fn list(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(workspace_id): Path<String>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    key_creator(
        &app,
        &principal,
        &workspace_id,
        KeyAccess::Read,
        AuditContext::system(),
    )
    .await?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let paged = q.prefix.is_none() && (q.limit.is_some() || q.cursor.is_some());
    let (records, next) = if paged {
        super::key_pages::page(&app, &workspace_id, q.limit, q.cursor.as_deref()).await?
    } else {
        let all = app
            .api_keys
            .list(&workspace_id, q.prefix.as_deref())
            .await?;
        (all, None)
    };
    let items: Vec<Value> = records.iter().map(|k| item(&app, k)).collect();
    Ok(Json(json!({ "items": items, "nextCursor": next })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchRequest {
    name: Option<String>,
    scopes: Option<Scopes>,
    /// false deactivates the key, true reactivates it.
    active: Option<bool>,
    /// Per-category overrides; `null` returns to the type's defaults.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    rate_limits: Option<Option<Overrides>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Overrides>>, D::Error> {
    Option::<Overrides>::deserialize(d).map(Some)
}

/// Changes a key; every node honours the change before this answers.
#[utoipa::path(
    patch,
    path = API_KEY_PATH,
    tag = "API keys",
    params(
        ("workspace_id" = String, Path, description = "The credential's own workspace"),
        ("key_id" = String, Path, description = "The key's id"),
    ),
    request_body = PatchRequest,
    responses(
        (status = 200, description = "The key as it now is", body = serde_json::Value),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No credential", body = ErrorBody),
        (status = 403, description = "The credential may not write keys", body = ErrorBody),
        (status = 404, description = "No such key in the workspace", body = ErrorBody),
        (status = 409, description = "The key is revoked, or changed meanwhile", body = ErrorBody),
    ),
    security(("bearer" = ["keys:write"])),
)]
pub async fn update(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    Path((workspace_id, id)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let creator = key_creator(
        &app,
        &principal,
        &workspace_id,
        KeyAccess::Write,
        context(&principal, origin),
    )
    .await?;
    let req: PatchRequest = json_body(&bytes)?;
    let changes = ApiKeyChanges {
        name: req.name,
        scopes: req
            .scopes
            .map(|s| s.parse().map(|s| s.to_string()))
            .transpose()?,
        deactivated: req.active.map(|a| !a),
        rate_limits: req
            .rate_limits
            .map(|o| o.map(keys::overrides_json).transpose())
            .transpose()?,
    };
    let k = app
        .api_keys
        .update(&workspace_id, &id, changes, &creator)
        .await?;
    // Every node sees the change before the answer: a deactivated key or a
    // narrowed scope must not keep working anywhere.
    crate::node::leased_cache::wait_for_propagation().await;
    Ok(Json(item(&app, &k)).into_response())
}

#[utoipa::path(
    delete,
    path = API_KEY_PATH,
    tag = "API keys",
    params(
        ("workspace_id" = String, Path, description = "The credential's own workspace"),
        ("key_id" = String, Path, description = "The key's id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No credential", body = ErrorBody),
        (status = 403, description = "The credential may not write keys", body = ErrorBody),
        (status = 404, description = "No such key in the workspace", body = ErrorBody),
        (status = 409, description = "Already revoked", body = ErrorBody),
    ),
    security(("bearer" = ["keys:write"])),
)]
pub async fn revoke(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    Path((workspace_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let creator = key_creator(
        &app,
        &principal,
        &workspace_id,
        KeyAccess::Write,
        context(&principal, origin),
    )
    .await?;
    app.api_keys.revoke(&workspace_id, &id, &creator).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollRequest {
    /// How long the old key keeps working (0: not at all).
    #[serde(default)]
    expires_old_in_seconds: i64,
}

/// Replaces a key with a new one of the same settings, shown once.
#[utoipa::path(
    post,
    path = API_KEY_ROLL_PATH,
    tag = "API keys",
    params(
        ("workspace_id" = String, Path, description = "The credential's own workspace"),
        ("key_id" = String, Path, description = "The key's id"),
    ),
    request_body(content = Option<RollRequest>, content_type = "application/json"),
    responses(
        (status = 201, description = "The new key, with `key` shown once; `Cache-Control: no-store`",
            body = serde_json::Value),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No credential", body = ErrorBody),
        (status = 403, description = "The credential may not write keys", body = ErrorBody),
        (status = 404, description = "No such key in the workspace", body = ErrorBody),
        (status = 409, description = "The key is revoked", body = ErrorBody),
    ),
    security(("bearer" = ["keys:write"])),
)]
pub async fn roll(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    Path((workspace_id, id)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let creator = key_creator(
        &app,
        &principal,
        &workspace_id,
        KeyAccess::Write,
        context(&principal, origin),
    )
    .await?;
    let req: RollRequest = optional_json_body(&bytes)?;
    let made = app
        .api_keys
        .roll(&workspace_id, &id, req.expires_old_in_seconds, &creator)
        .await?;
    Ok(created(&app, &made))
}
