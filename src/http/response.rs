//! JSON responses with the caching rules each kind of answer needs.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

#[derive(Debug, Clone, Copy)]
pub enum Caching {
    /// Tokens and errors: RFC 6749 §5.1 requires `no-store`.
    NoStore,
    /// Metadata and keys that may be cached for five minutes.
    PublicFiveMinutes,
}

pub fn json(
    status: StatusCode,
    content_type: &'static str,
    caching: Caching,
    body: Vec<u8>,
) -> Response {
    // Room for these, the rate-limit headers, the length and the request
    // id: the map is allocated once, at its size, on every token answer.
    let mut h = HeaderMap::with_capacity(12);
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    match caching {
        Caching::NoStore => {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        }
        Caching::PublicFiveMinutes => {
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
        }
    }
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    *res.headers_mut() = h;
    res
}
