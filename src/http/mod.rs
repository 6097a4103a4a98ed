//! The HTTP layer: routes, extractors, error mapping and middleware.

pub mod account;
pub mod api;
pub mod authorize;
pub mod browser;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod form;
pub mod health;
pub mod introspect;
pub mod jwks;
pub mod logout;
mod middleware;
pub mod origin;
pub mod response;
pub mod revoke;
pub mod token;
pub mod untrusted;
pub mod userinfo;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::app::App;
use discovery::{
    AUTHORIZATION_PATH, DECISION_PATH, INTROSPECTION_PATH, JWKS_PATH, LOGIN_PATH,
    REVOCATION_LIST_PATH, REVOCATION_PATH, TOKEN_PATH,
};
use error::{ErrorCode, OAuthError};

pub const OIDC_DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub const OAUTH_METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

/// Route templates, which double as the bounded `endpoint` metric label.
pub const ROUTES: &[&str] = &[
    AUTHORIZATION_PATH,
    DECISION_PATH,
    LOGIN_PATH,
    userinfo::USERINFO_PATH,
    logout::END_SESSION_PATH,
    logout::CONFIRM_PATH,
    account::APPS_PATH,
    account::DISCONNECT_PATH,
    TOKEN_PATH,
    REVOCATION_PATH,
    INTROSPECTION_PATH,
    REVOCATION_LIST_PATH,
    JWKS_PATH,
    OIDC_DISCOVERY_PATH,
    OAUTH_METADATA_PATH,
    "/healthz",
    "/readyz",
    "/metrics",
    api::APPLICATION_TOKEN_PATH,
    api::REGENERATE_PATH,
    api::AUDIT_LOGS_PATH,
    api::API_KEYS_PATH,
    api::API_KEY_PATH,
    api::API_KEY_ROLL_PATH,
    api::WHOAMI_PATH,
];

/// Paths served over plain HTTP even when the issuer is https, so that load
/// balancers and scrapers can reach them directly.
pub const OPERATIONAL_PATHS: &[&str] = &["/healthz", "/readyz", "/metrics"];

pub fn router(app: Arc<App>) -> Router {
    let mut router = Router::new()
        .route(
            AUTHORIZATION_PATH,
            get(authorize::authorize).post(authorize::authorize_post),
        )
        .route(DECISION_PATH, post(authorize::decision))
        .route(
            LOGIN_PATH,
            get(authorize::login::login_page).post(authorize::login::login_submit),
        )
        .route(
            userinfo::USERINFO_PATH,
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(
            logout::END_SESSION_PATH,
            get(logout::end_session_get).post(logout::end_session_post),
        )
        .route(logout::CONFIRM_PATH, post(logout::confirm))
        .route(account::APPS_PATH, get(account::apps))
        .route(account::DISCONNECT_PATH, post(account::disconnect))
        .route(TOKEN_PATH, post(token::token).fallback(post_only))
        .route(REVOCATION_PATH, post(revoke::revoke).fallback(post_only))
        .route(
            INTROSPECTION_PATH,
            post(introspect::introspect).fallback(post_only),
        )
        .route(REVOCATION_LIST_PATH, get(revoke::list))
        .route(JWKS_PATH, get(jwks::jwks))
        .route(OIDC_DISCOVERY_PATH, get(discovery::metadata))
        .route(OAUTH_METADATA_PATH, get(discovery::metadata))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .merge(api::router().layer(axum::middleware::from_fn_with_state(
            app.management_verifier.clone(),
            crate::verifier::rate_limited,
        )))
        .fallback(not_found);
    if app.settings.requires_forwarded_https() {
        router = router.layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            middleware::require_https,
        ));
    }
    router
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            middleware::track,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            OAuthError::new(ErrorCode::ServerError, "internal error").into_response()
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(middleware::request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(app)
}

async fn post_only() -> Response {
    let mut res = OAuthError::invalid_request("this endpoint accepts POST only")
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
        .into_response();
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    res
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(
            serde_json::json!({"error": "not_found", "error_description": "no such endpoint"}),
        ),
    )
        .into_response()
}
