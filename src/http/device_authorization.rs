//! The device authorization endpoint (RFC 8628 §3.1–3.2): a client without
//! a browser (a CLI, a TV) asks for a device code to poll with and a user
//! code for the person to enter at `/device`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::client_auth::ClientCredentials;
use super::error::OAuthError;
use super::form::OAuthForm;
use super::response::{Caching, json};
use crate::app::App;

pub const DEVICE_AUTHORIZATION_PATH: &str = "/oauth/device_authorization";
/// Where the person enters the user code: the console's page.
pub const VERIFICATION_PATH: &str = "/device";

/// RFC 8628 §3.2.
#[derive(Serialize)]
struct DeviceAuthorizationResponse<'a> {
    device_code: &'a str,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: i64,
    interval: i64,
}

/// `POST /oauth/device_authorization`. The client authenticates as at the
/// token endpoint (RFC 8628 §3.1); a public client sends `client_id`.
pub async fn device_authorization(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> Result<Response, OAuthError> {
    let mut form = form?;
    let client = ClientCredentials::extract(&headers, &mut form)?
        .authenticate(&app)
        .await?;
    let scope = super::token::optional_scope(&mut form)?;
    let resources = form.take_all("resource");
    let started = app.devices().start(&client, scope, resources).await?;
    let user_code = started.user_code.display();
    let verification_uri = format!("{}{VERIFICATION_PATH}", app.settings.issuer);
    let complete = with_user_code(&verification_uri, &user_code);
    let body = DeviceAuthorizationResponse {
        device_code: started.device_code.expose(),
        verification_uri_complete: complete,
        verification_uri,
        user_code,
        expires_in: started.expires_in,
        interval: started.interval,
    };
    let bytes = serde_json::to_vec(&body).map_err(|e| OAuthError::unavailable(&e))?;
    // Codes are secrets: RFC 6749 §5.1's no-store applies as to tokens.
    Ok(json(
        StatusCode::OK,
        "application/json",
        Caching::NoStore,
        bytes,
    ))
}

/// `{base}?user_code=…`: RFC 8628 §3.3.1's `verification_uri_complete`,
/// and the page's own address to come back to after signing in.
pub fn with_user_code(base: &str, user_code: &str) -> String {
    let code: String = url::form_urlencoded::byte_serialize(user_code.as_bytes()).collect();
    format!("{base}?user_code={code}")
}
