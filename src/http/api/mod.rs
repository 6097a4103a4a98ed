//! The management API under `/v1`, protected by keyflow's own verifier,
//! and its OpenAPI document. One table, [`operations`], lists every
//! operation: the router serves it, the metrics label it, and the test of
//! the OpenAPI document checks that each one is described.

mod access;
mod api_keys;
mod application_token;
mod audit_logs;
mod clients;
mod error;
mod invitations;
mod key_pages;
mod members;
pub mod openapi;
mod roles;
mod usage;
mod whoami;
mod workspaces;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter, on};

use super::Route;
use super::response::{Caching, json as json_response};
use crate::app::App;
use crate::verifier::Verifier;
pub use access::{audit_context, authorize};
pub use error::{ApiError, ErrorBody};

pub const APPLICATION_TOKEN_PATH: &str = "/v1/workspace/{workspace_id}/application-token";
pub const REGENERATE_PATH: &str = "/v1/workspace/{workspace_id}/application-token/regenerate";
pub const AUDIT_LOGS_PATH: &str = "/v1/workspace/{workspace_id}/audit-logs";
pub const API_KEYS_PATH: &str = "/v1/workspace/{workspace_id}/api-keys";
pub const API_KEY_PATH: &str = "/v1/workspace/{workspace_id}/api-keys/{key_id}";
pub const API_KEY_ROLL_PATH: &str = "/v1/workspace/{workspace_id}/api-keys/{key_id}/roll";
pub const API_KEY_USAGE_PATH: &str = "/v1/workspace/{workspace_id}/api-keys/{key_id}/usage";
pub const APPLICATION_USAGE_PATH: &str = "/v1/workspace/{workspace_id}/application-token/usage";
pub const WHOAMI_PATH: &str = "/v1/whoami";
pub const WORKSPACES_PATH: &str = "/v1/workspaces";
pub const MEMBERS_PATH: &str = "/v1/workspace/{workspace_id}/members";
pub const MEMBER_PATH: &str = "/v1/workspace/{workspace_id}/members/{user_id}";
pub const INVITATIONS_PATH: &str = "/v1/workspace/{workspace_id}/invitations";
pub const INVITATION_PATH: &str = "/v1/workspace/{workspace_id}/invitations/{invitation_id}";
pub const CLIENTS_PATH: &str = "/v1/clients";
pub const CLIENT_ROTATE_PATH: &str = "/v1/clients/{client_id}/rotate-secret";
/// The OpenAPI document: served without credentials, outside the verifier.
pub const OPENAPI_PATH: &str = "/v1/openapi.json";

/// The scope every management call needs.
pub const ADMIN_SCOPE: &str = "workspace:admin";

impl FromRef<Arc<App>> for Verifier {
    fn from_ref(app: &Arc<App>) -> Verifier {
        app.management_verifier.clone()
    }
}

/// One operation of the management API: a method on a path template, and
/// the handler that serves it.
pub struct Operation {
    pub method: Method,
    pub path: &'static str,
    handler: MethodRouter<Arc<App>>,
}

fn op<H, T>(method: Method, path: &'static str, handler: H) -> Operation
where
    H: Handler<T, Arc<App>>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method axum routes");
    Operation {
        method,
        path,
        handler: on(filter, handler),
    }
}

/// Every operation of the management API. Each handler describes itself
/// with `#[utoipa::path]`, gathered in [`openapi::ApiDoc`].
fn operations() -> Vec<Operation> {
    use Method as M;
    vec![
        op(M::GET, WHOAMI_PATH, whoami::show),
        op(M::GET, WORKSPACES_PATH, workspaces::list),
        op(M::POST, WORKSPACES_PATH, workspaces::create),
        op(M::GET, APPLICATION_TOKEN_PATH, application_token::show),
        op(M::POST, REGENERATE_PATH, application_token::regenerate),
        op(M::GET, AUDIT_LOGS_PATH, audit_logs::list),
        op(M::GET, API_KEYS_PATH, api_keys::list),
        op(M::POST, API_KEYS_PATH, api_keys::create),
        op(M::PATCH, API_KEY_PATH, api_keys::update),
        op(M::DELETE, API_KEY_PATH, api_keys::revoke),
        op(M::POST, API_KEY_ROLL_PATH, api_keys::roll),
        op(M::GET, API_KEY_USAGE_PATH, usage::api_key),
        op(M::GET, APPLICATION_USAGE_PATH, usage::application),
        op(M::GET, MEMBERS_PATH, members::list),
        op(M::PATCH, MEMBER_PATH, members::change_role),
        op(M::DELETE, MEMBER_PATH, members::remove),
        op(M::GET, INVITATIONS_PATH, invitations::list),
        op(M::POST, INVITATIONS_PATH, invitations::create),
        op(M::DELETE, INVITATION_PATH, invitations::revoke),
        op(M::GET, CLIENTS_PATH, clients::list),
        op(M::POST, CLIENTS_PATH, clients::create),
        op(M::POST, CLIENT_ROTATE_PATH, clients::rotate_secret),
    ]
}

/// Each management operation's path template and method, exactly as
/// [`routes`] serves them.
pub fn paths() -> Vec<(&'static str, Method)> {
    operations()
        .into_iter()
        .map(|o| (o.path, o.method))
        .collect()
}

/// The management routes, one per path template; [`super::router`] puts
/// them behind the management verifier.
pub fn routes() -> Vec<Route> {
    let mut routes: Vec<Route> = Vec::new();
    for o in operations() {
        match routes.iter_mut().find(|r| r.path == o.path) {
            Some(r) => r.methods = std::mem::take(&mut r.methods).merge(o.handler),
            None => routes.push(Route::new(o.path, o.handler)),
        }
    }
    routes
}

/// The routes under `/v1` that need no credential: the OpenAPI document.
pub fn public_routes() -> Vec<Route> {
    vec![Route::new(
        OPENAPI_PATH,
        axum::routing::get(openapi::document),
    )]
}

/// A JSON request body; malformed JSON is a precise 400.
pub fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

/// A JSON body that may be left out: an empty body means the defaults.
pub fn optional_json_body<T: serde::de::DeserializeOwned + Default>(
    bytes: &[u8],
) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json_body(bytes)
}

/// A response carrying a secret or a one-time link: `no-store`, as
/// RFC 6749 §5.1 asks of tokens.
pub fn no_store(status: StatusCode, body: &impl serde::Serialize) -> Response {
    json_response(
        status,
        "application/json",
        Caching::NoStore,
        serde_json::to_vec(body).expect("JSON serializes"),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::OpenApi;

    /// The document describes exactly the operations the router serves.
    #[test]
    fn every_operation_is_described_and_nothing_else() {
        let served: BTreeSet<(String, String)> = super::paths()
            .into_iter()
            .map(|(p, m)| (p.to_owned(), m.as_str().to_lowercase()))
            .collect();
        let doc = serde_json::to_value(super::openapi::ApiDoc::openapi()).unwrap();
        let described: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(p, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| !matches!(k.as_str(), "parameters" | "summary" | "description"))
                    .map(move |m| (p.clone(), m.clone()))
            })
            .collect();
        assert_eq!(served, described);
    }
}
