//! `…/members`: who is in a workspace, changing a member's role, removing
//! a member. The rules (owners manage members, anyone may leave, the last
//! owner stays) are the members service's, as for the console.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::workspace_access;
use super::roles::RoleName;
use super::{ApiError, ErrorBody, MEMBER_PATH, MEMBERS_PATH, audit_context, json_body};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::permission::WorkspaceAction;
use crate::domain::user_record::Member;
use crate::http::origin::RequestOrigin;
use crate::verifier::Principal;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberItem {
    #[schema(example = "usr_5Zp1")]
    user_id: String,
    email: String,
    name: Option<String>,
    role: RoleName,
    /// RFC 3339.
    joined_at: String,
}

impl From<Member> for MemberItem {
    fn from(m: Member) -> Self {
        MemberItem {
            user_id: m.user_id,
            email: m.email,
            name: m.name,
            role: m.role.into(),
            joined_at: rfc3339(m.joined_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    /// Owners first.
    items: Vec<MemberItem>,
}

/// Anyone in the workspace may see its members.
#[utoipa::path(
    get,
    path = MEMBERS_PATH,
    tag = "members",
    params(("workspace_id" = String, Path, description = "The token's own workspace")),
    responses(
        (status = 200, description = "The members", body = MemberList),
        (status = 401, description = "No access token", body = ErrorBody),
        (status = 403, description = "The token lacks `workspace:admin`", body = ErrorBody),
        (status = 404, description = "Another workspace, none, or the person left it", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn list(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(workspace_id): Path<String>,
) -> Result<Response, ApiError> {
    let access = workspace_access(&app, &principal, &workspace_id).await?;
    access.require(WorkspaceAction::View)?;
    let (members, _) = app.members().list(&workspace_id).await?;
    let items = members.into_iter().map(MemberItem::from).collect();
    Ok(axum::Json(MemberList { items }).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    role: RoleName,
}

/// Owners only; the workspace's last owner stays an owner.
#[utoipa::path(
    patch,
    path = MEMBER_PATH,
    tag = "members",
    params(
        ("workspace_id" = String, Path, description = "The token's own workspace"),
        ("user_id" = String, Path, description = "The member"),
    ),
    request_body = RoleChange,
    responses(
        (status = 200, description = "The member with their new role", body = MemberItem),
        (status = 400, description = "Malformed body or unknown role", body = ErrorBody),
        (status = 401, description = "No access token", body = ErrorBody),
        (status = 403, description = "Not an owner, or the token lacks `workspace:admin`", body = ErrorBody),
        (status = 404, description = "No such workspace, or no such member", body = ErrorBody),
        (status = 409, description = "That would leave the workspace without an owner", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn change_role(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    Path((workspace_id, user_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let access = workspace_access(&app, &principal, &workspace_id).await?;
    // Refused by role before the body is read, as the console does.
    access.require(WorkspaceAction::ManageMembers)?;
    let RoleChange { role } = json_body(&body)?;
    let ctx = audit_context(&principal, origin);
    let members = app.members();
    members.change_role(&access, &user_id, role.0, &ctx).await?;
    let (all, _) = members.list(&workspace_id).await?;
    let member = all
        .into_iter()
        .find(|m| m.user_id == user_id)
        .ok_or_else(|| ApiError::NoSuch("no such member".into()))?;
    Ok(axum::Json(MemberItem::from(member)).into_response())
}

/// Owners remove anyone; any member may remove themselves (leave). The
/// member's grants in the workspace end with their membership.
#[utoipa::path(
    delete,
    path = MEMBER_PATH,
    tag = "members",
    params(
        ("workspace_id" = String, Path, description = "The token's own workspace"),
        ("user_id" = String, Path, description = "The member"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No access token", body = ErrorBody),
        (status = 403, description = "Not an owner (and not themselves)", body = ErrorBody),
        (status = 404, description = "No such workspace, or no such member", body = ErrorBody),
        (status = 409, description = "The workspace's last owner cannot leave", body = ErrorBody),
    ),
    security(("bearer" = ["workspace:admin"])),
)]
pub async fn remove(
    State(app): State<Arc<App>>,
    principal: Principal,
    RequestOrigin(origin): RequestOrigin,
    Path((workspace_id, user_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let access = workspace_access(&app, &principal, &workspace_id).await?;
    let ctx = audit_context(&principal, origin);
    app.members()
        .remove_by(&access, principal.user_id.as_deref(), &user_id, &ctx)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
