//! A workspace's Connected apps tab: which third-party integrations act in
//! it, for whom, with which scopes and since when; an owner disconnects
//! one for everybody (its consents go, and every token it holds here).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::views::{ConnectionGrantView, ConnectionView, ConnectionsPage, DisconnectAppPage};
use super::{Done, audit_context, form_session, frame, require_session, when, workspace_tab};
use crate::app::App;
use crate::domain::permission::WorkspaceAction;
use crate::domain::scope::ScopeSet;
use crate::http::browser::{BrowserForm, PageError, error_page, page, see_other};
use crate::http::origin::RequestOrigin;

fn tab_path(ws: &str) -> String {
    format!("/console/workspaces/{ws}/connections")
}

pub async fn show(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, &tab_path(&id)).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "connections").await?;
    let apps = connected_apps(&app, &id).await?;
    let notice = match q.done.as_deref() {
        Some("disconnected") => Some(
            "The app was disconnected for everyone. Its tokens no longer work here.".to_owned(),
        ),
        _ => None,
    };
    Ok(page(
        StatusCode::OK,
        ConnectionsPage {
            frame: frame(&app, &session, "workspaces"),
            can_disconnect: access.may(WorkspaceAction::DisconnectApps),
            apps,
            notice,
            ws,
        },
    ))
}

pub async fn disconnect(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path(id): Path<String>,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let (access, _) = workspace_tab(&app, &session, &id, "connections").await?;
    access.require(WorkspaceAction::DisconnectApps)?;
    let client_id = form.get("client_id").unwrap_or_default();
    let ended = app
        .authorizations()
        .disconnect_for_everyone(client_id, &id, &audit_context(&session, origin))
        .await?;
    if ended == 0 {
        return Err(not_connected());
    }
    Ok(see_other(&format!("{}?done=disconnected", tab_path(&id))))
}

/// The workspace's connected apps, each with the people it acts for.
async fn connected_apps(app: &App, id: &str) -> Result<Vec<ConnectionView>, PageError> {
    let consents = app.authorizations().workspace_connections(id).await?;
    let mut apps: Vec<ConnectionView> = Vec::new();
    for c in consents {
        let grant = ConnectionGrantView {
            email: c.user_email.clone(),
            scopes: c.consent.scope.iter().map(str::to_owned).collect(),
            since: when(c.consent.granted_at),
        };
        match apps.last_mut() {
            Some(a) if a.client_id == c.consent.client_id => {
                a.since = a.since.clone().min(grant.since.clone());
                a.grants.push(grant);
            }
            _ => apps.push(ConnectionView {
                client_id: c.consent.client_id.clone(),
                name: c.client_name.clone(),
                logo_uri: c.logo_uri.clone(),
                since: grant.since.clone(),
                scopes: String::new(),
                grants: vec![grant],
            }),
        }
    }
    for a in &mut apps {
        let all: Vec<String> = a.grants.iter().flat_map(|g| g.scopes.clone()).collect();
        a.scopes = ScopeSet::parse(&all.join(" "))
            .map(|s| s.to_string())
            .unwrap_or_default();
    }
    Ok(apps)
}

fn not_connected() -> PageError {
    error_page(
        StatusCode::NOT_FOUND,
        "Not connected",
        "That app is not connected to this workspace.",
    )
    .into()
}

/// `?client_id=`: the app a confirmation is about.
#[derive(Debug, serde::Deserialize)]
pub struct WhichApp {
    client_id: Option<String>,
}

/// The confirmation page the Disconnect button leads to without script
/// (with it, the same form opens in a dialog).
pub async fn disconnect_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<WhichApp>,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, &tab_path(&id)).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "connections").await?;
    access.require(WorkspaceAction::DisconnectApps)?;
    let wanted = q.client_id.unwrap_or_default();
    let app_view = connected_apps(&app, &id)
        .await?
        .into_iter()
        .find(|a| a.client_id == wanted)
        .ok_or_else(not_connected)?;
    Ok(page(
        StatusCode::OK,
        DisconnectAppPage {
            frame: frame(&app, &session, "workspaces"),
            ws,
            app: app_view,
        },
    ))
}
