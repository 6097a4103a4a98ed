//! The signed-in user's account pages: the apps they connected, and
//! disconnecting one (which revokes its consent and refresh tokens).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::browser::pages::{AppView, AppsPage};
use super::browser::{self, csrf_ok, csrf_token, error_page, page, see_other, unavailable};
use super::error::OAuthError;
use super::form::OAuthForm;
use super::origin::RequestOrigin;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::audit::{Actor, AuditEntry, AuditEvent};

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
) -> Response {
    let session = match browser::signed_in(&app, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other(&format!("/login?return_to={APPS_PATH}")),
        Err(e) => return unavailable(&e),
    };
    let connected = match app.store.connected_apps(&session.user.id).await {
        Ok(c) => c,
        Err(e) => return unavailable(&e),
    };
    let apps = connected
        .into_iter()
        .map(|c| AppView {
            client_id: c.consent.client_id,
            client_name: c.client_name,
            logo_uri: c.logo_uri,
            workspace_id: c.consent.workspace_id,
            workspace_name: c.workspace_name,
            scopes: c.consent.scope.split(' ').map(str::to_owned).collect(),
            granted_on: rfc3339(c.consent.granted_at).chars().take(10).collect(),
        })
        .collect();
    page(
        StatusCode::OK,
        AppsPage {
            user_email: session.user.email.clone(),
            csrf: csrf_token(&app, &session.session_id),
            apps,
            notice: q
                .disconnected
                .map(|_| "The app was disconnected. Its access has been revoked.".to_owned()),
        },
    )
}

pub async fn disconnect(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> Response {
    let session = match browser::signed_in(&app, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other(&format!("/login?return_to={APPS_PATH}")),
        Err(e) => return unavailable(&e),
    };
    let form = match form {
        Ok(f) if csrf_ok(&app, &session.session_id, f.get("csrf")) => f,
        _ => {
            return error_page(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "For your safety keyflow did not act on it. Reload the page and try again.",
            );
        }
    };
    let (Some(client_id), Some(workspace)) = (form.get("client_id"), form.get("workspace")) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Nothing to disconnect",
            "Choose an app on the Connected apps page.",
        );
    };
    let now = app.clock.now();
    let audit = AuditEntry::new(
        AuditEvent::ConsentRevoked,
        Actor::user(&session.user.id),
        now,
    )
    .workspace(workspace)
    .origin(origin)
    .details(json!({"clientId": client_id}));
    match app
        .store
        .revoke_consent(&session.user.id, client_id, workspace, now, &audit)
        .await
    {
        Ok(true) => {
            app.reload_revocations().await;
            see_other(&format!("{APPS_PATH}?disconnected=1"))
        }
        Ok(false) => see_other(APPS_PATH),
        Err(e) => unavailable(&e),
    }
}
