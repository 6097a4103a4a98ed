//! The credentials epoch, for resource APIs that cache keyflow's answers
//! (docs/resource-servers.md): a number that changes in the transaction of
//! every change that can revoke a credential. A resource API polls it and
//! trusts its cache only within the lease after a poll, as keyflow's own
//! nodes do, so that the wait a regenerate does before answering covers
//! resource APIs too.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::client_auth::ClientCredentials;
use super::error::{ErrorCode, OAuthError};
use super::form::OAuthForm;
use super::response::{Caching, json};
use crate::app::App;
use crate::storage::ClientKind;
pub use crate::verifier::remote::CREDENTIALS_EPOCH_PATH;

/// `GET`, authenticated with HTTP Basic as a resource server. The epoch is
/// read from the database on every call, never from this node's memory:
/// the lease a resource API takes starts when its poll started, which is
/// only sound if the answer is at least that fresh. `If-None-Match` with
/// the current ETag gets 304, so an unchanged epoch costs one header.
pub async fn credentials_epoch(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Response, OAuthError> {
    let credentials = ClientCredentials::extract(&headers, &mut OAuthForm::default())?;
    let caller = credentials.authenticate(&app).await?;
    if caller.record().kind != ClientKind::ResourceServer {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "only resource servers may read the credentials epoch",
        )
        .with_status(StatusCode::FORBIDDEN));
    }
    let epoch = app
        .current_credentials_epoch()
        .await
        .map_err(|e| OAuthError::unavailable(&e))?;
    let etag = HeaderValue::try_from(format!("\"{epoch}\"")).expect("digits are a header");
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut res = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        json(
            StatusCode::OK,
            "application/json",
            Caching::NoStore,
            format!("{{\"credentials\":{epoch}}}").into_bytes(),
        )
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
