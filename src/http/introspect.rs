//! Token introspection (RFC 7662), for resource servers that are not
//! written in Rust.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::client_auth::client_and_token;
use super::error::OAuthError;
use super::form::OAuthForm;
use super::response::{Caching, json};
use crate::app::App;
use crate::service::tokens::Introspection;

/// RFC 7662 §2.1. The caller authenticates as a client. A resource server
/// may introspect any token; a workspace's application only its own
/// workspace's tokens: anything else is reported inactive (§4).
pub async fn introspect(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> Result<Response, OAuthError> {
    let (caller, token) = client_and_token(&app, &headers, form).await?;
    let body = match app.tokens().introspect(&caller, &token).await {
        Some(found) => active(found, &app.settings.issuer),
        None => json!({"active": false}),
    };
    Ok(answer(body))
}

/// §2.2: every member but `active` is OPTIONAL, so one the token lacks (a
/// non-expiring API key has no `exp` and no `jti`) is left out, never sent
/// as null.
fn active(found: Introspection, issuer: &str) -> serde_json::Value {
    let p = found.principal;
    let mut body = json!({
        "active": true,
        "scope": p.scopes.to_string(),
        "client_id": p.client_id,
        "sub": p.subject,
        "iss": issuer,
        "token_type": found.token_type,
    });
    let optional: [(&str, Option<serde_json::Value>); 4] = [
        ("exp", p.expires_at.map(Into::into)),
        ("iat", p.issued_at.map(Into::into)),
        ("jti", p.jti.map(Into::into)),
        ("workspace_id", p.workspace_id.map(Into::into)),
    ];
    for (member, value) in optional {
        if let Some(v) = value {
            body[member] = v;
        }
    }
    body
}

fn answer(body: serde_json::Value) -> Response {
    json(
        StatusCode::OK,
        "application/json",
        Caching::NoStore,
        serde_json::to_vec(&body).expect("JSON serializes"),
    )
}
