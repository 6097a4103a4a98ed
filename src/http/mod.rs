//! The HTTP layer: routes, extractors, error mapping and middleware.

pub mod account;
pub mod api;
pub mod assets;
pub mod authorize;
pub mod browser;
pub mod client_auth;
pub mod console;
pub mod credentials_epoch;
pub mod device_authorization;
pub mod discovery;
pub mod error;
pub mod form;
pub mod health;
pub mod introspect;
pub mod jwks;
pub mod logout;
pub(crate) mod middleware;
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
use axum::routing::{MethodRouter, get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::app::App;
use discovery::{
    AUTHORIZATION_PATH, DECISION_PATH, INTROSPECTION_PATH, JWKS_PATH, LOGIN_PATH,
    REVOCATION_LIST_PATH, REVOCATION_PATH, TOKEN_PATH,
};
use error::{ErrorCode, OAuthError};

pub const OIDC_DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub const OAUTH_METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

/// Paths served over plain HTTP even when the issuer is https, so that load
/// balancers and scrapers can reach them directly.
pub const OPERATIONAL_PATHS: &[&str] = &["/healthz", "/readyz", "/metrics"];

/// One entry of the route table: a path template and what serves it. The
/// table feeds both the router and the `endpoint` metric label, so a route
/// cannot be served without being labelled.
pub struct Route {
    pub path: &'static str,
    pub methods: MethodRouter<Arc<App>>,
}

impl Route {
    pub fn new(path: &'static str, methods: MethodRouter<Arc<App>>) -> Self {
        Self { path, methods }
    }
}

/// The protocol endpoints and the operational ones.
fn routes() -> Vec<Route> {
    vec![
        Route::new(
            AUTHORIZATION_PATH,
            get(authorize::authorize).post(authorize::authorize_post),
        ),
        Route::new(DECISION_PATH, post(authorize::decision)),
        Route::new(
            LOGIN_PATH,
            get(authorize::login::login_page).post(authorize::login::login_submit),
        ),
        Route::new(
            userinfo::USERINFO_PATH,
            get(userinfo::userinfo).post(userinfo::userinfo),
        ),
        Route::new(
            logout::END_SESSION_PATH,
            get(logout::end_session_get).post(logout::end_session_post),
        ),
        Route::new(logout::CONFIRM_PATH, post(logout::confirm)),
        Route::new(account::APPS_PATH, get(account::apps)),
        Route::new(account::DISCONNECT_PATH, post(account::disconnect)),
        Route::new(TOKEN_PATH, post(token::token).fallback(post_only)),
        Route::new(
            device_authorization::DEVICE_AUTHORIZATION_PATH,
            post(device_authorization::device_authorization).fallback(post_only),
        ),
        Route::new(REVOCATION_PATH, post(revoke::revoke).fallback(post_only)),
        Route::new(
            INTROSPECTION_PATH,
            post(introspect::introspect).fallback(post_only),
        ),
        Route::new(REVOCATION_LIST_PATH, get(revoke::list)),
        Route::new(
            credentials_epoch::CREDENTIALS_EPOCH_PATH,
            get(credentials_epoch::credentials_epoch),
        ),
        Route::new(JWKS_PATH, get(jwks::jwks)),
        Route::new(OIDC_DISCOVERY_PATH, get(discovery::metadata)),
        Route::new(OAUTH_METADATA_PATH, get(discovery::metadata)),
        Route::new(assets::ASSETS_PATH, get(assets::serve)),
        Route::new("/healthz", get(health::healthz)),
        Route::new("/readyz", get(health::readyz)),
        Route::new("/metrics", get(health::metrics)),
    ]
}

fn mount(routes: Vec<Route>, endpoints: &mut Vec<&'static str>) -> Router<Arc<App>> {
    routes.into_iter().fold(Router::new(), |router, r| {
        endpoints.push(r.path);
        router.route(r.path, r.methods)
    })
}

/// What serves every request: the routes inside the request-wide
/// middleware.
pub type Service =
    tower::util::BoxCloneSyncService<axum::extract::Request, Response, std::convert::Infallible>;

pub fn router(app: Arc<App>) -> Service {
    let mut endpoints = Vec::new();
    let management =
        mount(api::routes(), &mut endpoints).layer(axum::middleware::from_fn_with_state(
            app.management_verifier.clone(),
            crate::verifier::rate_limited,
        ));
    let mut router = mount(routes(), &mut endpoints)
        .merge(mount(console::routes(), &mut endpoints))
        .merge(mount(api::public_routes(), &mut endpoints))
        .merge(management)
        .fallback(not_found);
    if app.settings.requires_forwarded_https() {
        router = router.layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            middleware::require_https,
        ));
    }
    // Metrics need the matched route's template, which only exists once
    // the router has matched: this layer stays inside the router.
    let routes = router
        .layer(middleware::Track::new(Arc::clone(&app), endpoints))
        .with_state(app);
    // The request-wide layers wrap the router once, outermost first, rather
    // than each route through `Router::layer`: there a request clones and
    // boxes every layer of its route, and a token request would pay for
    // some twenty allocations and as many dynamic calls before its handler.
    let stack = tower::ServiceBuilder::new()
        .map_response(IntoResponse::into_response)
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::RequestSpanLayer)
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            OAuthError::new(ErrorCode::ServerError, "internal error").into_response()
        }))
        .service(routes);
    tower::util::BoxCloneSyncService::new(stack)
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
