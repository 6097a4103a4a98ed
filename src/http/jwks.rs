//! The JWK Set (RFC 7517 §5) of every published signing key.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::app::App;

pub async fn jwks(State(app): State<Arc<App>>) -> Response {
    let ring = app.keyring.load();
    let mut res = ring.jwks_json().to_vec().into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    // Short enough that a rotated key reaches verifiers well within the
    // window a retired key stays published.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}
