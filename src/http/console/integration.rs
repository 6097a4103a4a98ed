//! A workspace's API Integration tab: its ids and application key to copy,
//! the secret's age, and regenerating the secret key behind a confirmation
//! (a dialog with JavaScript, a page without).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::views::{IntegrationPage, PreviousSecretView, RegeneratePage, RotatedPage};
use super::{
    audit_context, form_session, frame, require_recent_auth, require_session, when, workspace_tab,
};
use crate::app::App;
use crate::domain::permission::WorkspaceAction;
use crate::http::browser::{BrowserForm, PageError, error_page, page, see_other};
use crate::http::origin::RequestOrigin;
use crate::service::workspaces::{RotationOptions, WorkspaceError};

/// The grace periods the console offers: none, 1 hour, 24 hours, 7 days.
const GRACE_CHOICES: [i64; 4] = [0, 3600, 86_400, 7 * 86_400];

fn tab_path(id: &str) -> String {
    format!("/console/workspaces/{id}/integration")
}

pub async fn to_tab(Path(id): Path<String>) -> Response {
    see_other(&tab_path(&id))
}

pub async fn show(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, &tab_path(&id)).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "integration").await?;
    let now = app.clock.now();
    let token = app
        .workspaces()
        .application_token(&id, now)
        .await
        .map_err(workspace_error)?;
    let client = token.client;
    let series = app
        .usage_reports()
        .client(
            &client.client_id,
            crate::service::usage::DayRange::last(30, now),
        )
        .await?;
    let rotated_at = client.secret_rotated_at.unwrap_or(client.created_at);
    let age_days = (now - rotated_at).max(0) / 86_400;
    let due_days = app.settings.rotation_due_days;
    Ok(page(
        StatusCode::OK,
        IntegrationPage {
            frame: frame(&app, &session, "workspaces"),
            api_url: app.settings.api_url.render(&app.settings.issuer, &id),
            application_key: client.client_id,
            last_rotated: when(rotated_at),
            secret_age_days: age_days,
            rotation_due_days: due_days,
            rotation_due: now - rotated_at > due_days * 86_400,
            can_regenerate: access.may(WorkspaceAction::Administer),
            last_used: client.last_used_at.map(when),
            chart: super::chart::chart(&series),
            outcomes: crate::domain::usage::Outcome::ALL
                .iter()
                .map(|o| o.label())
                .collect(),
            previous: token
                .previous
                .iter()
                .map(|p| PreviousSecretView {
                    expires_at: p.expires_at.map(when).unwrap_or_default(),
                    last_used_at: p.last_used_at.map(when),
                })
                .collect(),
            ws,
        },
    ))
}

/// Without JavaScript, "Regenerate Secret Key" leads here instead of to
/// the dialog.
pub async fn confirm(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, &tab_path(&id)).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "integration").await?;
    access.require(WorkspaceAction::Administer)?;
    Ok(page(
        StatusCode::OK,
        RegeneratePage {
            frame: frame(&app, &session, "workspaces"),
            ws,
        },
    ))
}

pub async fn regenerate(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path(id): Path<String>,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "integration").await?;
    access.require(WorkspaceAction::Administer)?;
    let grace_field = form.get("grace").unwrap_or("0").to_owned();
    let grace = grace_field
        .parse::<i64>()
        .ok()
        .filter(|g| GRACE_CHOICES.contains(g))
        .ok_or_else(|| {
            PageError::from(error_page(
                StatusCode::BAD_REQUEST,
                "Choose when the old secret stops",
                "Immediately, after 1 hour, after 24 hours or after 7 days.",
            ))
        })?;
    let revoke_field = form.get("revoke_tokens").unwrap_or_default().to_owned();
    let revoke = !revoke_field.is_empty();
    let action = format!("/console/workspaces/{id}/regenerate");
    let fields = [
        ("grace", grace_field.as_str()),
        ("revoke_tokens", revoke_field.as_str()),
    ];
    require_recent_auth(&app, &session, &mut form, &origin, &action, &fields).await?;
    let options = RotationOptions {
        grace_seconds: grace,
        revoke_issued_tokens: revoke,
    };
    let ctx = audit_context(&session, origin);
    let rotated = app
        .workspaces()
        .rotate_secret(&id, options, app.clock.now(), &ctx)
        .await
        .map_err(workspace_error)?;
    if revoke {
        app.reload_revocations().await;
    }
    Ok(page(
        StatusCode::OK,
        RotatedPage {
            frame: frame(&app, &session, "workspaces"),
            ws,
            application_key: rotated.application_key,
            secret_key: rotated.secret_key.expose().to_owned(),
            previous_until: (grace > 0).then(|| when(rotated.previous_expires_at)),
            tokens_revoked: revoke,
        },
    ))
}

pub(super) fn workspace_error(e: WorkspaceError) -> PageError {
    match e {
        WorkspaceError::Store(f) => f.into(),
        WorkspaceError::NotFound => error_page(
            StatusCode::NOT_FOUND,
            "No such workspace",
            "It may have been deleted.",
        )
        .into(),
        other => error_page(
            StatusCode::BAD_REQUEST,
            "That did not work",
            &other.to_string(),
        )
        .into(),
    }
}
