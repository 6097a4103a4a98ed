//! `GET /v1/openapi.json`: the OpenAPI 3.1 document of the management API,
//! generated from the handlers' `#[utoipa::path]` annotations. It names
//! no secret and no tenant, so it is served to anyone and may be cached.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{api_keys, application_token, audit_logs, clients, invitations, members};
use super::{usage, whoami, workspaces};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "keyflow management API",
        version = env!("CARGO_PKG_VERSION"),
        description = "Workspaces, their credentials, API keys, members, invitations and \
            third-party clients. Every operation takes a Bearer access token for keyflow's \
            `/v1` audience with the `workspace:admin` scope (the API-key operations also \
            take API keys, with `keys:read` or `keys:write`). A token a person authorized \
            acts with that person's role in the workspace; a workspace's own \
            client_credentials token acts as its owner. Errors are \
            `{\"error\", \"error_description\"}`; credential failures also carry an \
            RFC 6750 `WWW-Authenticate` challenge.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        whoami::show,
        workspaces::list,
        workspaces::create,
        application_token::show,
        application_token::regenerate,
        usage::application,
        audit_logs::list,
        api_keys::list,
        api_keys::create,
        api_keys::update,
        api_keys::revoke,
        api_keys::roll,
        usage::api_key,
        members::list,
        members::change_role,
        members::remove,
        invitations::list,
        invitations::create,
        invitations::revoke,
        clients::list,
        clients::create,
        clients::rotate_secret,
    ),
    modifiers(&BearerScheme),
)]
pub struct ApiDoc;

/// `bearer`: an RFC 6750 Bearer token (a keyflow JWT access token, or an
/// API key where the operation says so).
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "An access token from POST /oauth/token (client_credentials with the \
                 workspace's application key, or a grant a person made)",
            ))
            .build();
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Generated once per process: the document only changes with the code.
static DOCUMENT: LazyLock<Vec<u8>> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_json()
        .expect("the document serializes")
        .into_bytes()
});

pub async fn document() -> Response {
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        DOCUMENT.as_slice(),
    )
        .into_response()
}
