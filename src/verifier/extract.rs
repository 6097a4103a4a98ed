//! `Principal` as an axum extractor, for any state a `Verifier` can be
//! taken from.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::{Principal, Rejection, Verifier};

impl<S> FromRequestParts<S> for Principal
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // The rate-limit middleware has already authenticated the request.
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(p.clone());
        }
        Verifier::from_ref(state).authenticate(&parts.headers).await
    }
}
