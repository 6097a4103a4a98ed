//! `/v1/clients`: third-party integrations, which belong to no workspace
//! and so are a platform administrator's to list, register and re-key
//! (as `keyflow client …` is an operator's).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::platform_admin;
use super::application_token::RegenerateRequest;
use super::{ApiError, CLIENT_ROTATE_PATH, CLIENTS_PATH, ErrorBody};
use super::{audit_context, json_body, no_store, optional_json_body};
use crate::app::App;
use crate::clock::rfc3339;
use crate::crypto::signing::Algorithm;
use crate::domain::client::ClientGrant;
use crate::http::origin::RequestOrigin;
use crate::service::integrations::NewClient;
use crate::storage::{ClientRecord, OAuthClientRecord};
use crate::verifier::Principal;

/// A registered client: never its secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientItem {
    #[schema(example = "cli_9aBc")]
    client_id: String,
    name: String,
    /// A public client has no secret and must use PKCE.
    public: bool,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    scopes: Vec<String>,
    logo_uri: Option<String>,
    /// The ID token signing algorithm.
    #[schema(example = "RS256")]
    id_token_alg: &'static str,
    /// The grants it may use: `authorization_code` always, and
    /// `device_code` when registered for device sign-in (RFC 8628).
    #[schema(example = json!(["authorization_code", "device_code"]))]
    grant_types: Vec<&'static str>,
    /// RFC 3339.
    created_at: String,
}

impl ClientItem {
    fn new(c: ClientRecord, o: OAuthClientRecord) -> Self {
        ClientItem {
            grant_types: o.grant_type_names(),
            client_id: c.client_id,
            name: c.name,
            public: o.public,
            scopes: o.scopes.iter().map(str::to_owned).collect(),
            redirect_uris: o.redirect_uris,
            post_logout_redirect_uris: o.post_logout_redirect_uris,
            logo_uri: o.logo_uri,
            id_token_alg: o.id_token_alg.as_str(),
            created_at: rfc3339(c.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientList {
    /// Oldest first.
    items: Vec<ClientItem>,
}

#[utoipa::path(
    get,
    path = CLIENTS_PATH,
    tag = "clients",
    responses(
        (status = 200, description = "Every third-party client", body = ClientList),
        (status = 401, description = "No access token, or its user is gone", body = ErrorBody),
        (status = 403, description = "Not a platform administrator's token", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn list(State(app): State<Arc<App>>, principal: Principal) -> Result<Response, ApiError> {
    platform_admin(&app, &principal).await?;
    let items = app
        .integrations()
        .list()
        .await?
        .into_iter()
        .map(|(c, o)| ClientItem::new(c, o))
        .collect();
    Ok(axum::Json(ClientList { items }).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewClientRequest {
    /// The name people see on the consent page.
    #[schema(example = "Make")]
    name: String,
    /// Where codes are sent, matched exactly; at least one.
    #[schema(example = json!(["https://make.example/cb"]))]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    /// A native or browser app: no secret, PKCE only. Default false.
    #[serde(default)]
    public: bool,
    /// Scopes the client may ask for; by default openid profile email
    /// offline_access api:read api:write.
    #[serde(default)]
    scopes: Vec<String>,
    /// An https URL.
    logo_uri: Option<String>,
    /// RS256 (default), ES256 or EdDSA.
    id_token_alg: Option<String>,
    /// `authorization_code`, which every client has, and `device_code`
    /// for device sign-in (RFC 8628), for CLIs and devices without a
    /// browser. Default `["authorization_code"]`.
    #[serde(default)]
    #[schema(example = json!(["authorization_code", "device_code"]))]
    grant_types: Vec<String>,
}

/// The client's id and, for a confidential client, its secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedClient {
    client_id: String,
    public: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

#[utoipa::path(
    post,
    path = CLIENTS_PATH,
    tag = "clients",
    request_body = NewClientRequest,
    responses(
        (status = 201, description = "Registered; `Cache-Control: no-store`", body = CreatedClient),
        (status = 400, description = "Malformed body, name, URI, scope, algorithm or grant type", body = ErrorBody),
        (status = 401, description = "No access token, or its user is gone", body = ErrorBody),
        (status = 403, description = "Not a platform administrator's token", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn create(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    body: Bytes,
) -> Result<Response, ApiError> {
    platform_admin(&app, &principal).await?;
    let r: NewClientRequest = json_body(&body)?;
    let id_token_alg = match r.id_token_alg.as_deref() {
        // The CLI's default: every OIDC client can verify RS256.
        None => Algorithm::RS256,
        Some(a) => a
            .parse()
            .map_err(|e| ApiError::BadRequest(format!("idTokenAlg: {e}")))?,
    };
    let grants = grant_types(&r.grant_types)?;
    let new = NewClient {
        name: r.name,
        redirect_uris: r.redirect_uris,
        post_logout_redirect_uris: r.post_logout_redirect_uris,
        public: r.public,
        scopes: r.scopes,
        logo_uri: r.logo_uri,
        id_token_alg,
        device_grant: ClientGrant::device_grant(&grants),
    };
    let ctx = audit_context(&principal, origin);
    let created = app.integrations().create(new, &ctx).await?;
    let body = CreatedClient {
        public: created.secret.is_none(),
        client_secret: created.secret.as_ref().map(|s| s.expose().to_owned()),
        client_id: created.client_id,
    };
    Ok(no_store(StatusCode::CREATED, &body))
}

fn grant_types(names: &[String]) -> Result<Vec<ClientGrant>, ApiError> {
    names
        .iter()
        .map(|n| n.parse())
        .collect::<Result<_, String>>()
        .map_err(|e| ApiError::BadRequest(format!("grantTypes: {e}")))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotatedClientSecret {
    client_id: String,
    /// Shown this once.
    client_secret: String,
    rotated_at: String,
    /// When the previous secret stops working (`rotatedAt` without grace).
    previous_secret_expires_at: String,
}

/// A new secret for a confidential client (or a resource server); returns
/// once no node accepts a secret it retired.
#[utoipa::path(
    post,
    path = CLIENT_ROTATE_PATH,
    tag = "clients",
    params(("client_id" = String, Path, description = "The client")),
    request_body(content = Option<RegenerateRequest>, content_type = "application/json"),
    responses(
        (status = 200, description = "The new secret; `Cache-Control: no-store`", body = RotatedClientSecret),
        (status = 400, description = "Malformed body, grace out of range, a public client, or a workspace's application key", body = ErrorBody),
        (status = 401, description = "No access token, or its user is gone", body = ErrorBody),
        (status = 403, description = "Not a platform administrator's token", body = ErrorBody),
        (status = 404, description = "No such client", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn rotate_secret(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    Path(client_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    platform_admin(&app, &principal).await?;
    let request: RegenerateRequest = optional_json_body(&body)?;
    let options = request.options();
    let ctx = audit_context(&principal, origin);
    let rotated = app
        .workspaces()
        .rotate_client_secret(&client_id, options, app.clock.now(), &ctx)
        .await?;
    if options.revoke_issued_tokens {
        app.reload_revocations().await;
    }
    let body = RotatedClientSecret {
        client_id: rotated.application_key,
        client_secret: rotated.secret_key.expose().to_owned(),
        rotated_at: rfc3339(rotated.rotated_at),
        previous_secret_expires_at: rfc3339(rotated.previous_expires_at),
    };
    Ok(no_store(StatusCode::OK, &body))
}
