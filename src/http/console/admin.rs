//! The platform admin's pages: every user (disable, enable, a password
//! reset link) and every third-party client (register, rotate a secret).
//! Anyone else gets 403.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::views::{
    AdminClientsPage, AdminUsersPage, ClientForm, ClientRowView, ShownOncePage, UserRowView,
};
use super::{Done, audit_context, form_session, frame, require_recent_auth, require_session, when};
use crate::app::App;
use crate::crypto::signing::Algorithm;
use crate::http::browser::{BrowserForm, PageError, error_page, page, see_other, unavailable};
use crate::http::origin::RequestOrigin;
use crate::service::accounts::AccountError;
use crate::service::admin::{AdminError, PlatformAdmin};
use crate::service::integrations::NewClient;
use crate::service::notify::Delivery;
use crate::service::passwords::ResetError;
use crate::service::sessions::SignedIn;
use crate::service::workspaces::{RotationOptions, WorkspaceError};

pub const USERS_PATH: &str = "/console/admin";
pub const CLIENTS_PATH: &str = "/console/admin/clients";

impl From<AdminError> for PageError {
    fn from(e: AdminError) -> Self {
        let (status, title) = match &e {
            AdminError::Forbidden => (StatusCode::FORBIDDEN, "Not allowed"),
            AdminError::Store(f)
            | AdminError::Workspace(WorkspaceError::Store(f))
            | AdminError::Reset(ResetError::Store(f)) => return unavailable(f).into(),
            AdminError::Workspace(WorkspaceError::NoSuchClient(_))
            | AdminError::Account(AccountError::NotFound)
            | AdminError::Reset(ResetError::NoSuchUser) => (StatusCode::NOT_FOUND, "Not found"),
            _ => (StatusCode::BAD_REQUEST, "That did not work"),
        };
        error_page(status, title, &super::capitalized(&e.to_string())).into()
    }
}

fn admin<'a>(app: &'a App, session: &'a SignedIn) -> Result<PlatformAdmin<'a>, PageError> {
    Ok(PlatformAdmin::new(app, &session.user)?)
}

pub async fn users(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, USERS_PATH).await?;
    let users = admin(&app, &session)?.users().await?;
    let notice = match q.done.as_deref() {
        Some("disabled") => Some("The user was disabled and signed out everywhere.".to_owned()),
        Some("enabled") => Some("The user can sign in again.".to_owned()),
        _ => None,
    };
    Ok(page(
        StatusCode::OK,
        AdminUsersPage {
            frame: frame(&app, &session, "admin"),
            users: users
                .into_iter()
                .map(|(u, memberships)| UserRowView {
                    is_me: u.id == session.user.id,
                    name: u.name.unwrap_or_default(),
                    created: when(u.created_at),
                    disabled: u.disabled_at.is_some(),
                    platform_admin: u.platform_admin,
                    workspaces: memberships.len(),
                    id: u.id,
                    email: u.email,
                })
                .collect(),
            notice,
        },
    ))
}

pub async fn set_status(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let admin = admin(&app, &session)?;
    let user_id = form.get("user_id").unwrap_or_default();
    let disable = match form.get("action") {
        Some("disable") => true,
        Some("enable") => false,
        _ => {
            return Err(error_page(
                StatusCode::BAD_REQUEST,
                "Choose an action",
                "Disable or enable.",
            )
            .into());
        }
    };
    let ctx = audit_context(&session, origin);
    admin.set_disabled(user_id, disable, &ctx).await?;
    let done = if disable { "disabled" } else { "enabled" };
    Ok(see_other(&format!("{USERS_PATH}?done={done}")))
}

pub async fn reset_link(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let admin = admin(&app, &session)?;
    let user_id = form.get("user_id").unwrap_or_default();
    let ctx = audit_context(&session, origin);
    let link = admin.reset_link(user_id, &ctx).await?;
    let emailed = if link.delivery == Delivery::Sent {
        format!(" It was also emailed to {}.", link.email)
    } else {
        String::new()
    };
    Ok(page(
        StatusCode::OK,
        ShownOncePage {
            frame: frame(&app, &session, "admin"),
            title: format!("Password-reset link for {}", link.email),
            lead: format!(
                "Give this link to {} only. It works once, for one hour, and signs them out everywhere. \
                 It is shown only now.{emailed}",
                link.email
            ),
            id_label: String::new(),
            id_value: String::new(),
            secret_label: "Reset Link".into(),
            secret: link.url,
            back: USERS_PATH.into(),
        },
    ))
}

async fn clients_page(
    app: &App,
    session: &SignedIn,
    status: StatusCode,
    form: ClientForm,
    error: Option<String>,
) -> Result<Response, PageError> {
    let clients = admin(app, session)?.clients().await?;
    Ok(page(
        status,
        AdminClientsPage {
            frame: frame(app, session, "admin"),
            clients: clients
                .into_iter()
                .map(|(c, o)| ClientRowView {
                    created: when(c.created_at),
                    last_rotated: c.secret_rotated_at.map(when).unwrap_or_default(),
                    client_id: c.client_id,
                    name: c.name,
                    public: o.public,
                    redirect_uris: o.redirect_uris,
                    scopes: o.scopes.to_string(),
                    device_grant: o.device_grant,
                })
                .collect(),
            form,
            error,
        },
    ))
}

pub async fn clients(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, CLIENTS_PATH).await?;
    clients_page(&app, &session, StatusCode::OK, ClientForm::default(), None).await
}

/// The registration the form asks for: whitespace-separated lists, ID
/// tokens signed with RS256 (what clients that register nothing expect).
fn new_client(shown: &ClientForm) -> NewClient {
    NewClient {
        name: shown.name.clone(),
        redirect_uris: shown
            .redirect_uris
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        post_logout_redirect_uris: Vec::new(),
        public: shown.public,
        scopes: shown.scopes.split_whitespace().map(str::to_owned).collect(),
        logo_uri: Some(shown.logo_uri.trim().to_owned()).filter(|l| !l.is_empty()),
        id_token_alg: Algorithm::RS256,
        device_grant: shown.device_grant,
    }
}

pub async fn register_client(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let admin = admin(&app, &session)?;
    let shown = ClientForm {
        name: form.get("name").unwrap_or_default().to_owned(),
        logo_uri: form.get("logo_uri").unwrap_or_default().to_owned(),
        redirect_uris: form.get("redirect_uris").unwrap_or_default().to_owned(),
        public: form.get("type") == Some("public"),
        scopes: form.get("scopes").unwrap_or_default().to_owned(),
        // An unchecked box is not sent at all.
        device_grant: form.get("grant_device_code").is_some(),
    };
    let new = new_client(&shown);
    let ctx = audit_context(&session, origin);
    let created = match admin.register_client(new, &ctx).await {
        Ok(c) => c,
        Err(AdminError::Account(e)) => {
            let error = super::capitalized(&e.to_string());
            return clients_page(&app, &session, StatusCode::BAD_REQUEST, shown, Some(error)).await;
        }
        Err(e) => return Err(e.into()),
    };
    let secret = created.secret.as_ref().map(|s| s.expose().to_owned());
    Ok(page(
        StatusCode::OK,
        ShownOncePage {
            frame: frame(&app, &session, "admin"),
            title: format!("Client “{}” registered", shown.name),
            lead: match secret {
                Some(_) => "Copy the client secret now: it cannot be shown again.".into(),
                None => "A public client has no secret: it proves itself with PKCE.".into(),
            },
            id_label: "Client ID".into(),
            id_value: created.client_id.clone(),
            secret_label: (if secret.is_some() {
                "Client Secret"
            } else {
                "Client ID"
            })
            .into(),
            secret: secret.unwrap_or(created.client_id),
            back: CLIENTS_PATH.into(),
        },
    ))
}

pub async fn rotate_client(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let admin = admin(&app, &session)?;
    let client_id = form.get("client_id").unwrap_or_default().to_owned();
    let fields = [("client_id", client_id.as_str())];
    let action = format!("{CLIENTS_PATH}/rotate");
    require_recent_auth(&app, &session, &mut form, &origin, &action, &fields).await?;
    let ctx = audit_context(&session, origin);
    let rotated = admin
        .rotate_client_secret(&client_id, RotationOptions::default(), &ctx)
        .await?;
    Ok(page(
        StatusCode::OK,
        ShownOncePage {
            frame: frame(&app, &session, "admin"),
            title: "New client secret".into(),
            lead: "Copy the new client secret now: it cannot be shown again. The previous one has stopped working.".into(),
            id_label: "Client ID".into(),
            id_value: rotated.application_key,
            secret_label: "Client Secret".into(),
            secret: rotated.secret_key.expose().to_owned(),
            back: CLIENTS_PATH.into(),
        },
    ))
}
