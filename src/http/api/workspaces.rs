//! `GET /v1/workspaces` and `POST /v1/workspaces`: the caller's
//! workspaces, and a new one owned by the person calling.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::{authorize_admin, person};
use super::roles::RoleName;
use super::{ApiError, ErrorBody, WORKSPACES_PATH, audit_context, json_body, no_store};
use crate::app::App;
use crate::http::origin::RequestOrigin;
use crate::verifier::Principal;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceItem {
    #[schema(example = "ws_8Hq2")]
    workspace_id: String,
    name: String,
    /// The caller's role; `null` for a platform administrator who is not
    /// a member (they may look, not change). A workspace's own application
    /// token acts as its owner.
    role: Option<RoleName>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceList {
    items: Vec<WorkspaceItem>,
}

/// A person's token: the workspaces they belong to, then, for a platform
/// administrator, every other one. An application's token: its own.
#[utoipa::path(
    get,
    path = WORKSPACES_PATH,
    tag = "workspaces",
    responses(
        (status = 200, description = "The caller's workspaces", body = WorkspaceList),
        (status = 401, description = "No access token, or its user is gone", body = ErrorBody),
        (status = 403, description = "The token lacks `workspace:admin`", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn list(State(app): State<Arc<App>>, principal: Principal) -> Result<Response, ApiError> {
    authorize_admin(&principal)?;
    let items = match person(&app, &principal).await? {
        Some(user) => {
            let (mine, others) = app.members().workspaces_of(&user).await?;
            let mine = mine.into_iter().map(|m| WorkspaceItem {
                workspace_id: m.workspace_id,
                name: m.workspace_name,
                role: Some(m.role.into()),
            });
            let others = others.into_iter().map(|w| WorkspaceItem {
                workspace_id: w.id,
                name: w.name,
                role: None,
            });
            mine.chain(others).collect()
        }
        None => match principal.workspace_id.as_deref() {
            Some(id) => {
                let access = super::access::workspace_access(&app, &principal, id).await?;
                vec![WorkspaceItem {
                    workspace_id: access.workspace.id,
                    name: access.workspace.name,
                    role: access.role.map(RoleName),
                }]
            }
            None => Vec::new(),
        },
    };
    Ok(axum::Json(WorkspaceList { items }).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    /// 1 to 200 characters.
    #[schema(example = "Reports")]
    name: String,
}

/// The new workspace's credentials: the secret key is shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWorkspace {
    workspace_id: String,
    name: String,
    api_url: String,
    application_key: String,
    secret_key: String,
}

/// Creates a workspace whose owner is the person who authorized the
/// token, as the console's "Create workspace" does. An application's token
/// cannot: a workspace needs a person as its first owner.
#[utoipa::path(
    post,
    path = WORKSPACES_PATH,
    tag = "workspaces",
    request_body = NewWorkspace,
    responses(
        (status = 201, description = "Created; `Cache-Control: no-store`", body = CreatedWorkspace),
        (status = 400, description = "Malformed body or name", body = ErrorBody),
        (status = 401, description = "No access token, or its user is gone", body = ErrorBody),
        (status = 403, description = "Not a person's token, or it lacks `workspace:admin`", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn create(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize_admin(&principal)?;
    let Some(owner) = person(&app, &principal).await? else {
        return Err(ApiError::Forbidden(
            "only a token a person authorized may create a workspace (they become its \
             owner); this token was issued to an application"
                .into(),
        ));
    };
    let request: NewWorkspace = json_body(&body)?;
    let ctx = audit_context(&principal, origin);
    let created = app
        .workspaces()
        .create_owned_by(&owner.id, &request.name, app.clock.now(), &ctx)
        .await?;
    let ws = created.workspace;
    let body = CreatedWorkspace {
        api_url: app.settings.api_url.render(&app.settings.issuer, &ws.id),
        workspace_id: ws.id,
        name: ws.name,
        application_key: created.application_key,
        secret_key: created.secret_key.expose().to_owned(),
    };
    Ok(no_store(StatusCode::CREATED, &body))
}
