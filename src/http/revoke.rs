//! Token revocation (RFC 7009) and the revocation list offline verifiers poll.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::client_auth::client_and_token;
use super::error::{ErrorCode, OAuthError};
use super::form::OAuthForm;
use super::origin::RequestOrigin;
use super::response::{Caching, json};
use crate::app::{App, StoreRevocations};
use crate::domain::audit::{Actor, AuditContext, AuditEvent};

/// RFC 7009 §2.1. The answer is 200 whether or not the token was valid
/// (§2.2), so the endpoint tells an attacker nothing.
pub async fn revoke(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> Result<Response, OAuthError> {
    let (caller, token) = client_and_token(&app, &headers, form).await?;
    let Ok(principal) = app.verifier.verify_access_token(&token).await else {
        revoke_refresh_token(&app, &caller.record().client_id, &token, origin).await?;
        return Ok(revoked());
    };
    // §2.1: a client may revoke only the tokens issued to it.
    if principal.client_id != caller.record().client_id {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the token was not issued to this client",
        ));
    }
    let (Some(jti), Some(exp)) = (principal.jti.clone(), principal.expires_at) else {
        return Ok(revoked());
    };
    let ctx = AuditContext {
        actor: Actor::client(&principal.client_id),
        origin,
    };
    let mut audit = ctx
        .entry(AuditEvent::TokenRevoked, app.clock.now())
        .details(serde_json::json!({"jti": jti, "clientId": principal.client_id}));
    audit.workspace_id = principal.workspace_id.clone();
    app.store
        .revoke_token(&jti, &principal.client_id, exp, &audit)
        .await
        .map_err(|e| OAuthError::unavailable(&e))?;
    app.reload_revocations().await;
    Ok(revoked())
}

/// §2.1: revoking a refresh token also revokes the access tokens of the
/// same grant; keyflow revokes the grant's whole family.
async fn revoke_refresh_token(
    app: &App,
    caller: &str,
    token: &str,
    origin: crate::domain::audit::Origin,
) -> Result<(), OAuthError> {
    let hash = app.clients.hasher().hash_str(token);
    let found = app
        .store
        .refresh_token(&hash)
        .await
        .map_err(|e| OAuthError::unavailable(&e))?;
    let Some(rt) = found.filter(|rt| rt.revoked_at.is_none()) else {
        return Ok(());
    };
    if rt.client_id != caller {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the token was not issued to this client",
        ));
    }
    let audit = AuditContext {
        actor: Actor::client(caller),
        origin,
    }
    .entry(AuditEvent::TokenRevoked, app.clock.now())
    .workspace(&rt.workspace_id)
    .details(serde_json::json!({"refreshTokenFamily": rt.family_id, "clientId": caller}));
    app.store
        .revoke_family(&rt.family_id, app.clock.now(), &audit)
        .await
        .map_err(|e| OAuthError::unavailable(&e))?;
    app.reload_revocations().await;
    Ok(())
}

fn revoked() -> Response {
    json(
        StatusCode::OK,
        "application/json",
        Caching::NoStore,
        b"{}".to_vec(),
    )
}

/// `GET /oauth/revocations`: what offline verifiers must refuse although
/// the signature is good. Cached for 5 s, which adds to a verifier's
/// polling interval in the bound on how late a revocation takes effect.
pub async fn list(State(app): State<Arc<App>>) -> Response {
    let source = StoreRevocations {
        store: Arc::clone(&app.store),
        clock: Arc::clone(&app.clock),
        window: app.settings.access_token_ttl,
    };
    match source.document().await {
        Ok(doc) => {
            let mut res = axum::Json(doc).into_response();
            res.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("public, max-age=5"),
            );
            res
        }
        Err(e) => OAuthError::unavailable(&e).into_response(),
    }
}
