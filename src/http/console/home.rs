//! `/console`: the person's workspaces, and creating one, which shows its
//! secret key once.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::views::{CreatedPage, HomePage, WorkspaceRow};
use super::{CONSOLE_PATH, audit_context, form_session, frame, require_session};
use crate::app::App;
use crate::domain::user::Role;
use crate::http::browser::{BrowserForm, PageError, page};
use crate::http::origin::RequestOrigin;
use crate::service::sessions::SignedIn;
use crate::service::workspaces::WorkspaceError;

pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Owner => "Owner",
        Role::Admin => "Admin",
        Role::Member => "Member",
    }
}

pub async fn index(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, CONSOLE_PATH).await?;
    home(&app, &session, StatusCode::OK, String::new(), None).await
}

async fn home(
    app: &App,
    session: &SignedIn,
    status: StatusCode,
    name: String,
    error: Option<String>,
) -> Result<Response, PageError> {
    let (mine, others) = app.members().workspaces_of(&session.user).await?;
    Ok(page(
        status,
        HomePage {
            frame: frame(app, session, "workspaces"),
            workspaces: mine
                .into_iter()
                .map(|m| WorkspaceRow {
                    id: m.workspace_id,
                    name: m.workspace_name,
                    role: role_label(m.role).to_owned(),
                })
                .collect(),
            others: others
                .into_iter()
                .map(|w| WorkspaceRow {
                    id: w.id,
                    name: w.name,
                    role: String::new(),
                })
                .collect(),
            name,
            error,
        },
    ))
}

/// Creates the workspace with the person as its owner and shows the keys
/// in the response itself: the secret key is never in a URL and never on
/// a page after this one.
pub async fn create(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let name = form.get("name").unwrap_or_default().to_owned();
    let ctx = audit_context(&session, origin);
    let created = match app
        .workspaces()
        .create_owned_by(&session.user.id, &name, app.clock.now(), &ctx)
        .await
    {
        Ok(c) => c,
        Err(WorkspaceError::InvalidName) => {
            let error = "Give the workspace a name of 1 to 200 characters.".to_owned();
            let shown: String = name.chars().take(200).collect();
            return home(&app, &session, StatusCode::BAD_REQUEST, shown, Some(error)).await;
        }
        Err(WorkspaceError::Store(f)) => return Err(f.into()),
        Err(other) => {
            tracing::error!(error = %other, "unexpected error creating a workspace");
            return Err(crate::http::browser::error_page(
                StatusCode::BAD_REQUEST,
                "The workspace was not created",
                "Please try again.",
            )
            .into());
        }
    };
    let ws = &created.workspace;
    Ok(page(
        StatusCode::OK,
        CreatedPage {
            frame: frame(&app, &session, "workspaces"),
            api_url: app.settings.api_url.render(&app.settings.issuer, &ws.id),
            workspace_id: ws.id.clone(),
            workspace_name: ws.name.clone(),
            application_key: created.application_key.clone(),
            secret_key: created.secret_key.expose().to_owned(),
        },
    ))
}
