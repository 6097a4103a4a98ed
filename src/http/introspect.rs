//! Token introspection (RFC 7662), for resource servers that are not
//! written in Rust, and for keyflow's own verifier checking API keys and
//! the legacy `appkey` headers on behalf of a resource API.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::client_auth::client_and_token;
use super::error::{ErrorCode, OAuthError};
use super::form::OAuthForm;
use super::response::{Caching, json};
use crate::app::App;
use crate::node::rate_limit::Category;
use crate::service::clients::AuthenticatedClient;
use crate::service::tokens::Introspection;
use crate::storage::ClientKind;
pub use crate::verifier::remote::{APPKEY_HINT, EPOCH_HEADER, SECRETKEY_HINT};

/// RFC 7662 §2.1. The caller authenticates as a client. A resource server
/// may introspect any token; a workspace's application only its own
/// workspace's tokens: anything else is reported inactive (§4).
///
/// Two `token_type_hint` values of keyflow's own, for resource servers
/// only, check the legacy headers: `secretkey` (the secret key in `token`,
/// the application key in `appkey`) and `appkey` (the application key
/// alone, where the workspace allows it). They select what `token` is
/// rather than hint at it, since a secret key means nothing without its
/// application key; any other hint is ignored, as §2.1 allows.
pub async fn introspect(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> Result<Response, OAuthError> {
    let (caller, token, mut form) = client_and_token(&app, &headers, form).await?;
    let limit = app.settings.introspection_rate_limit;
    let decision = app
        .token_limiter
        .check(
            &caller.record().client_id,
            Category::Read,
            limit,
            app.clock.now_us(),
        )
        .await
        .map_err(|e| OAuthError::unavailable(&e))?;
    if !decision.allowed {
        return Err(OAuthError::rate_limited(decision));
    }
    // Read before the answer is computed, so the answer is at least as
    // fresh as the epoch it is labelled with.
    let epoch = match caller.record().kind {
        ClientKind::ResourceServer => app.synced_credentials_epoch(),
        _ => None,
    };
    let appkey = form.take("appkey");
    let found = match form.take("token_type_hint").as_deref() {
        Some(SECRETKEY_HINT) => {
            let appkey = appkey.ok_or_else(|| {
                OAuthError::invalid_request(
                    "token_type_hint=secretkey needs the application key in appkey",
                )
            })?;
            legacy(&app, &caller, &appkey, Some(&token)).await?
        }
        Some(APPKEY_HINT) if appkey.is_some() => {
            return Err(OAuthError::invalid_request(
                "token_type_hint=appkey takes the application key in token, and no appkey",
            ));
        }
        Some(APPKEY_HINT) => legacy(&app, &caller, &token, None).await?,
        _ => app.tokens().introspect(&caller, &token).await,
    };
    let body = match found {
        Some(found) => active(found, &app.settings.issuer),
        None => json!({"active": false}),
    };
    let mut res = answer(body);
    decision.write_headers(res.headers_mut());
    if let Some(epoch) = epoch {
        res.headers_mut()
            .insert(EPOCH_HEADER, HeaderValue::from(epoch));
    }
    Ok(res)
}

async fn legacy(
    app: &App,
    caller: &AuthenticatedClient,
    appkey: &str,
    secretkey: Option<&str>,
) -> Result<Option<Introspection>, OAuthError> {
    app.tokens()
        .introspect_legacy(caller, appkey, secretkey)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "legacy credential check failed");
            OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "credentials cannot be checked right now",
            )
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
        })
}

/// §2.2: every member but `active` is OPTIONAL, so one the token lacks (a
/// non-expiring API key has no `exp` and no `jti`) is left out, never sent
/// as null. `rate_limits` (an extension, §2.2 allows them) carries an API
/// key's own limits per minute, so that a resource API can enforce them.
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
    let optional: [(&str, Option<serde_json::Value>); 5] = [
        ("exp", p.expires_at.map(Into::into)),
        ("iat", p.issued_at.map(Into::into)),
        ("jti", p.jti.map(Into::into)),
        ("workspace_id", p.workspace_id.map(Into::into)),
        (
            "rate_limits",
            p.rate_limit
                .map(|b| serde_json::to_value(b.limits).expect("limits serialize")),
        ),
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
