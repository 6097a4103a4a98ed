//! `GET …/audit-logs`: the workspace's audit entries, newest first, filtered
//! by event and time, with cursor pagination.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::access::workspace_access;
use super::{AUDIT_LOGS_PATH, ApiError, ErrorBody};
use crate::app::App;
use crate::clock::{UnixTime, rfc3339};
use crate::domain::audit::{AuditQuery, AuditRecord};
use crate::domain::permission::WorkspaceAction;
use crate::verifier::Principal;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

#[derive(Debug, Default)]
struct Params {
    event: Option<String>,
    actor: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = AUDIT_LOGS_PATH,
    tag = "audit log",
    params(
        ("workspace_id" = String, Path, description = "The workspace (the token's own)"),
        ("event" = Option<String>, Query, description = "Only this event, e.g. `secret_regenerated`"),
        ("actor" = Option<String>, Query, description = "Only entries by this actor id: a user id, a client id, or an API key's prefix"),
        ("since" = Option<String>, Query, description = "RFC 3339 time, inclusive"),
        ("until" = Option<String>, Query, description = "RFC 3339 time, exclusive"),
        ("limit" = Option<u32>, Query, description = "1 to 200; 50 by default"),
        ("cursor" = Option<String>, Query, description = "The `nextCursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "Entries, newest first", body = serde_json::Value,
            example = json!({
                "items": [{
                    "id": "42",
                    "occurredAt": "2026-11-23T18:00:00Z",
                    "event": "secret_regenerated",
                    "actor": {"type": "client", "id": "app_3kT9"},
                    "workspaceId": "ws_8Hq2",
                    "ip": "203.0.113.7",
                    "userAgent": "curl/8.5.0",
                    "details": {"gracePeriodSeconds": 0}
                }],
                "nextCursor": null
            })),
        (status = 400, description = "A parameter is malformed or unknown", body = ErrorBody),
        (status = 401, description = "No access token", body = ErrorBody),
        (status = 403, description = "The token lacks `workspace:admin`, or the person's role \
            is below admin", body = ErrorBody),
        (status = 404, description = "Another workspace, or none", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn list(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(workspace_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    workspace_access(&app, &principal, &workspace_id)
        .await?
        .require(WorkspaceAction::Administer)?;
    let params: Params = parse_params(raw.as_deref().unwrap_or(""))?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be 1 to {MAX_LIMIT}"
        )));
    }
    let query = AuditQuery {
        workspace_id: Some(workspace_id),
        actor_id: params.actor,
        event: params
            .event
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(ApiError::BadRequest)?,
        since: params
            .since
            .as_deref()
            .map(|s| time_param("since", s))
            .transpose()?,
        until: params
            .until
            .as_deref()
            .map(|s| time_param("until", s))
            .transpose()?,
        before_id: params.cursor.as_deref().map(decode_cursor).transpose()?,
        limit,
    };
    let records = app.workspaces().audit_log(&query).await?;
    let next = (records.len() == limit as usize)
        .then(|| records.last().map(|r| encode_cursor(r.id)))
        .flatten();
    let items: Vec<_> = records.iter().map(item).collect();
    Ok(axum::Json(json!({ "items": items, "nextCursor": next })).into_response())
}

fn parse_params(raw: &str) -> Result<Params, ApiError> {
    let mut p = Params::default();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        let slot = match k.as_ref() {
            "event" => &mut p.event,
            "actor" => &mut p.actor,
            "since" => &mut p.since,
            "until" => &mut p.until,
            "cursor" => &mut p.cursor,
            "limit" => {
                p.limit = Some(
                    v.parse()
                        .map_err(|_| ApiError::BadRequest("limit must be a number".into()))?,
                );
                continue;
            }
            other => return Err(ApiError::BadRequest(format!("unknown parameter {other:?}"))),
        };
        *slot = Some(v.into_owned());
    }
    Ok(p)
}

fn time_param(name: &str, value: &str) -> Result<UnixTime, ApiError> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "{name} must be an RFC 3339 time, like 2026-11-23T18:00:00Z"
            ))
        })
}

fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("audit:{id}"))
}

fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("audit:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::BadRequest("cursor is not one this API returned".into()))
}

fn item(r: &AuditRecord) -> serde_json::Value {
    let e = &r.entry;
    json!({
        "id": r.id.to_string(),
        "occurredAt": rfc3339(e.occurred_at),
        "event": e.event,
        "actor": e.actor,
        "workspaceId": e.workspace_id,
        "ip": e.origin.ip,
        "userAgent": e.origin.user_agent,
        "details": e.details,
    })
}
