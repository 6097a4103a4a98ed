//! A workspace's Members tab: the members and their roles, invitations,
//! role changes and removal. Owners manage members; anyone may leave; the
//! last owner can do neither.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::views::{InvitationRowView, InvitedPage, MemberView, MembersPage, WorkspaceHeader};
use super::{
    CONSOLE_PATH, Done, audit_context, form_session, frame, require_recent_auth, require_session,
    when, workspace_tab,
};
use crate::app::App;
use crate::domain::permission::WorkspaceAction;
use crate::domain::user::Role;
use crate::http::browser::{BrowserForm, PageError, error_page, page, see_other};
use crate::http::form::OAuthForm;
use crate::http::origin::RequestOrigin;
use crate::service::members::{WorkspaceAccess, invitation_url};
use crate::service::notify::Delivery;
use crate::service::sessions::SignedIn;

fn tab_path(id: &str) -> String {
    format!("/console/workspaces/{id}/members")
}

fn notice_text(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "role" => "The role was changed.",
            "removed" => "The member was removed. Their grants in this workspace have ended.",
            "revoked" => "The invitation was revoked.",
            _ => return None,
        }
        .to_owned(),
    )
}

pub async fn show(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, &tab_path(&id)).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "members").await?;
    let (members, pending) = app.members().list(&id).await?;
    let can_manage = access.may(WorkspaceAction::ManageMembers);
    Ok(page(
        StatusCode::OK,
        MembersPage {
            frame: frame(&app, &session, "workspaces"),
            members: members
                .into_iter()
                .map(|m| MemberView {
                    is_me: m.user_id == session.user.id,
                    name: m.name.unwrap_or_default(),
                    role: m.role.as_str(),
                    joined: when(m.joined_at),
                    user_id: m.user_id,
                    email: m.email,
                })
                .collect(),
            invitations: if can_manage {
                pending
                    .into_iter()
                    .map(|i| InvitationRowView {
                        id: i.id,
                        email: i.email,
                        role: i.role.as_str(),
                        expires: when(i.expires_at),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            can_manage,
            is_member: access.role.is_some(),
            notice: notice_text(q.done.as_deref()),
            ws,
        },
    ))
}

fn role_field(form: &OAuthForm) -> Result<Role, PageError> {
    form.get("role").unwrap_or_default().parse().map_err(|_| {
        error_page(
            StatusCode::BAD_REQUEST,
            "Choose a role",
            "A member's role is owner, admin or member.",
        )
        .into()
    })
}

/// What a form that hands out a role checks first: the person manages
/// members here, the role is one, and inviting or promoting an owner (who
/// could then take the workspace) follows a recent sign-in. Returns the
/// access, the tab's header, the role and the form's `subject` field.
async fn role_form(
    app: &App,
    session: &SignedIn,
    form: &mut OAuthForm,
    origin: &crate::domain::audit::Origin,
    id: &str,
    (path, subject): (&str, &str),
) -> Result<(WorkspaceAccess, WorkspaceHeader, Role, String), PageError> {
    let (access, ws) = workspace_tab(app, session, id, "members").await?;
    access.require(WorkspaceAction::ManageMembers)?;
    let role = role_field(form)?;
    let value = form.get(subject).unwrap_or_default().to_owned();
    if role == Role::Owner {
        let action = format!("{}/{path}", tab_path(id));
        let fields = [(subject, value.as_str()), ("role", role.as_str())];
        require_recent_auth(app, session, form, origin, &action, &fields).await?;
    }
    Ok((access, ws, role, value))
}

pub async fn invite(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path(id): Path<String>,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let form_fields = ("invite", "email");
    let (access, ws, role, email) =
        role_form(&app, &session, &mut form, &origin, &id, form_fields).await?;
    let ctx = audit_context(&session, origin);
    let invited = app
        .members()
        .invite(&access, &session.user, &email, role, &ctx)
        .await?;
    Ok(page(
        StatusCode::OK,
        InvitedPage {
            frame: frame(&app, &session, "workspaces"),
            link: invitation_url(&app.settings.issuer, &invited.token),
            emailed: invited.delivery == Delivery::Sent,
            email: invited.email,
            role: invited.role.as_str(),
            expires: when(invited.expires_at),
            ws,
        },
    ))
}

pub async fn change_role(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path(id): Path<String>,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let form_fields = ("role", "user_id");
    let (access, _, role, user_id) =
        role_form(&app, &session, &mut form, &origin, &id, form_fields).await?;
    let ctx = audit_context(&session, origin);
    app.members()
        .change_role(&access, &user_id, role, &ctx)
        .await?;
    Ok(see_other(&format!("{}?done=role", tab_path(&id))))
}

pub async fn remove(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path(id): Path<String>,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let (access, _) = workspace_tab(&app, &session, &id, "members").await?;
    let user_id = form.get("user_id").unwrap_or_default();
    let ctx = audit_context(&session, origin);
    app.members()
        .remove(&access, &session.user, user_id, &ctx)
        .await?;
    Ok(if user_id == session.user.id {
        see_other(CONSOLE_PATH)
    } else {
        see_other(&format!("{}?done=removed", tab_path(&id)))
    })
}

pub async fn revoke_invitation(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path(id): Path<String>,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let (access, _) = workspace_tab(&app, &session, &id, "members").await?;
    let invitation_id = form.get("invitation_id").unwrap_or_default();
    let ctx = audit_context(&session, origin);
    app.members()
        .revoke_invitation(&access, invitation_id, &ctx)
        .await?;
    Ok(see_other(&format!("{}?done=revoked", tab_path(&id))))
}
