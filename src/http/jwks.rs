//! The JWK Set (RFC 7517 §5) of every published signing key.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::response::{Caching, json};
use crate::app::App;

/// Five minutes of caching stays well within the window a retired key
/// remains published, and verifiers refetch on an unknown `kid` anyway.
pub async fn jwks(State(app): State<Arc<App>>) -> Response {
    let body = app.keyring.load().jwks_json().to_vec();
    json(
        StatusCode::OK,
        "application/jwk-set+json",
        Caching::PublicFiveMinutes,
        body,
    )
}
