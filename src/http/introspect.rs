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
use crate::domain::api_key::looks_like_api_key;
use crate::storage::ClientKind;

/// RFC 7662 §2.1. The caller authenticates as a client. A resource server
/// may introspect any token; a workspace's application only its own
/// workspace's tokens: anything else is reported inactive (§4).
pub async fn introspect(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> Result<Response, OAuthError> {
    let (caller, token) = client_and_token(&app, &headers, form).await?;
    let inactive = || answer(json!({"active": false}));
    // API keys are answered here too, so that services not written in Rust
    // can check them.
    let (verified, token_type) = if looks_like_api_key(&token) {
        let key = app.api_keys.verify(&token).await;
        (
            key.map(|k| app.api_keys.principal(&k)).map_err(|_| ()),
            "api_key",
        )
    } else {
        (
            app.introspection_verifier
                .verify_access_token(&token)
                .await
                .map_err(|_| ()),
            "Bearer",
        )
    };
    let Ok(p) = verified else {
        return Ok(inactive());
    };
    let caller = caller.record();
    let allowed = match caller.kind {
        ClientKind::ResourceServer => true,
        ClientKind::Application => {
            caller.workspace_id.is_some() && caller.workspace_id == p.workspace_id
        }
        // A third-party client may introspect only its own tokens.
        ClientKind::ThirdParty => caller.client_id == p.client_id,
    };
    if !allowed {
        return Ok(inactive());
    }
    // §2.2: every member but `active` is OPTIONAL, so one the token lacks
    // (a non-expiring API key has no `exp` and no `jti`) is left out, never
    // sent as null.
    let mut body = json!({
        "active": true,
        "scope": p.scopes.to_string(),
        "client_id": p.client_id,
        "sub": p.subject,
        "iss": app.settings.issuer,
        "token_type": token_type,
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
    Ok(answer(body))
}

fn answer(body: serde_json::Value) -> Response {
    json(
        StatusCode::OK,
        "application/json",
        Caching::NoStore,
        serde_json::to_vec(&body).expect("JSON serializes"),
    )
}
