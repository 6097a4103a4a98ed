//! `…/invitations`: the pending invitations of a workspace, inviting
//! someone (the link is in the creating response only) and revoking an
//! invitation. Owners only, as in the console.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::workspace_access;
use super::roles::RoleName;
use super::{ApiError, ErrorBody, INVITATION_PATH, INVITATIONS_PATH};
use super::{audit_context, json_body, no_store};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::permission::WorkspaceAction;
use crate::http::origin::RequestOrigin;
use crate::service::members::invitation_url;
use crate::verifier::Principal;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationItem {
    #[schema(example = "inv_4Rw8")]
    id: String,
    email: String,
    role: RoleName,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339: seven days after it was made.
    expires_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationList {
    items: Vec<InvitationItem>,
}

/// The invitations not yet accepted, revoked or expired.
#[utoipa::path(
    get,
    path = INVITATIONS_PATH,
    tag = "invitations",
    params(("workspace_id" = String, Path, description = "The token's own workspace")),
    responses(
        (status = 200, description = "Pending invitations", body = InvitationList),
        (status = 401, description = "No access token", body = ErrorBody),
        (status = 403, description = "Not an owner, or the token lacks `workspace:admin`", body = ErrorBody),
        (status = 404, description = "Another workspace, or none", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn list(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(workspace_id): Path<String>,
) -> Result<Response, ApiError> {
    let access = workspace_access(&app, &principal, &workspace_id).await?;
    access.require(WorkspaceAction::ManageMembers)?;
    let (_, pending) = app.members().list(&workspace_id).await?;
    let items = pending
        .into_iter()
        .map(|i| InvitationItem {
            id: i.id,
            email: i.email,
            role: i.role.into(),
            created_at: rfc3339(i.created_at),
            expires_at: rfc3339(i.expires_at),
        })
        .collect();
    Ok(axum::Json(InvitationList { items }).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    #[schema(example = "bo@example.com")]
    email: String,
    role: RoleName,
}

/// The invitation with its link: the only time the link is shown.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedInvitation {
    id: String,
    /// Lower-cased.
    email: String,
    role: RoleName,
    expires_at: String,
    /// Works once, for seven days; whoever opens it joins with `role`.
    #[schema(example = "https://auth.example.com/invitations/Jq…")]
    invitation_url: String,
}

#[utoipa::path(
    post,
    path = INVITATIONS_PATH,
    tag = "invitations",
    params(("workspace_id" = String, Path, description = "The token's own workspace")),
    request_body = NewInvitation,
    responses(
        (status = 201, description = "Invited; `Cache-Control: no-store`", body = CreatedInvitation),
        (status = 400, description = "Malformed body, invalid email or unknown role", body = ErrorBody),
        (status = 401, description = "No access token", body = ErrorBody),
        (status = 403, description = "Not an owner, or the token lacks `workspace:admin`", body = ErrorBody),
        (status = 404, description = "Another workspace, or none", body = ErrorBody),
        (status = 409, description = "Already a member", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn create(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    Path(workspace_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let access = workspace_access(&app, &principal, &workspace_id).await?;
    access.require(WorkspaceAction::ManageMembers)?;
    let request: NewInvitation = json_body(&body)?;
    let ctx = audit_context(&principal, origin);
    let invited = app
        .members()
        .invite_by(
            &access,
            principal.user_id.as_deref(),
            &request.email,
            request.role.0,
            &ctx,
        )
        .await?;
    let body = CreatedInvitation {
        invitation_url: invitation_url(&app.settings.issuer, &invited.token),
        id: invited.id,
        email: invited.email,
        role: invited.role.into(),
        expires_at: rfc3339(invited.expires_at),
    };
    Ok(no_store(StatusCode::CREATED, &body))
}

#[utoipa::path(
    delete,
    path = INVITATION_PATH,
    tag = "invitations",
    params(
        ("workspace_id" = String, Path, description = "The token's own workspace"),
        ("invitation_id" = String, Path, description = "The invitation's id"),
    ),
    responses(
        (status = 204, description = "Revoked: the link no longer works"),
        (status = 401, description = "No access token", body = ErrorBody),
        (status = 403, description = "Not an owner, or the token lacks `workspace:admin`", body = ErrorBody),
        (status = 404, description = "No such workspace, or no such pending invitation", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn revoke(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    Path((workspace_id, invitation_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let access = workspace_access(&app, &principal, &workspace_id).await?;
    let ctx = audit_context(&principal, origin);
    app.members()
        .revoke_invitation(&access, &invitation_id, &ctx)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
