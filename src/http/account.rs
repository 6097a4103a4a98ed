//! The signed-in user's account pages: the apps they connected, and
//! disconnecting one (which revokes its consent and refresh tokens).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::browser::pages::{AppView, AppsPage};
use super::browser::{self, BrowserForm, PageError, csrf_ok, error_page, page, see_other};
use super::origin::RequestOrigin;
use crate::app::App;
use crate::clock::rfc3339;

pub const APPS_PATH: &str = "/account/apps";
pub const DISCONNECT_PATH: &str = "/account/apps/disconnect";

#[derive(Debug, Deserialize)]
pub struct AppsQuery {
    disconnected: Option<String>,
}

pub async fn apps(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<AppsQuery>,
) -> Result<Response, PageError> {
    let Some(session) = browser::signed_in(&app, &headers).await? else {
        return Ok(to_login());
    };
    let connected = app
        .authorizations()
        .connected_apps(&session.user.id)
        .await?;
    let apps = connected
        .into_iter()
        .map(|c| AppView {
            client_id: c.consent.client_id,
            client_name: c.client_name,
            logo_uri: c.logo_uri,
            workspace_id: c.consent.workspace_id,
            workspace_name: c.workspace_name,
            scopes: c.consent.scope.iter().map(str::to_owned).collect(),
            granted_on: rfc3339(c.consent.granted_at).chars().take(10).collect(),
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        AppsPage {
            frame: super::console::frame(&app, &session, "apps"),
            apps,
            notice: q
                .disconnected
                .map(|_| "The app was disconnected. Its access has been revoked.".to_owned()),
        },
    ))
}

fn to_login() -> Response {
    see_other(&format!("/login?return_to={APPS_PATH}"))
}

pub async fn disconnect(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let Some(session) = browser::signed_in(&app, &headers).await? else {
        return Ok(to_login());
    };
    if !csrf_ok(&app, &session.session_id, form.get("csrf")) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "For your safety keyflow did not act on it. Reload the page and try again.",
        )
        .into());
    }
    let (Some(client_id), Some(workspace)) = (form.get("client_id"), form.get("workspace")) else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "Nothing to disconnect",
            "Choose an app on the Connected apps page.",
        )
        .into());
    };
    let ended = app
        .authorizations()
        .disconnect(&session.user.id, client_id, workspace, origin)
        .await?;
    Ok(if ended {
        see_other(&format!("{APPS_PATH}?disconnected=1"))
    } else {
        see_other(APPS_PATH)
    })
}
