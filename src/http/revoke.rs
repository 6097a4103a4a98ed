//! Token revocation (RFC 7009) and the revocation list offline verifiers poll.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::client_auth::client_and_token;
use super::error::OAuthError;
use super::form::OAuthForm;
use super::origin::RequestOrigin;
use super::response::{Caching, json};
use crate::app::App;

/// RFC 7009 §2.1. The answer is 200 whether or not the token was valid
/// (§2.2), so the endpoint tells an attacker nothing.
pub async fn revoke(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> Result<Response, OAuthError> {
    // A `token_type_hint` is only a hint (§2.1), and is ignored.
    let (caller, token, _) = client_and_token(&app, &headers, form).await?;
    app.tokens().revoke(&caller, &token, origin).await?;
    Ok(revoked())
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
    match app.tokens().revocation_document().await {
        Ok(doc) => {
            let mut res = axum::Json(doc).into_response();
            res.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("public, max-age=5"),
            );
            res
        }
        Err(f) => OAuthError::from(f).into_response(),
    }
}
