//! `/device` (RFC 8628 §3.3): the person signs in, enters the user code a
//! device or CLI shows (or arrives with it from `verification_uri_complete`
//! and confirms it), sees which client asks for which scopes, picks the
//! workspace, and allows or denies. Wrong codes are throttled per session
//! and per address, like failed sign-ins (RFC 8628 §5.1), and the page
//! warns against codes sent by someone else (§5.4, remote phishing).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::views::{DeviceConfirmView, DevicePage};
use super::{form_session, frame, require_session};
use crate::app::App;
use crate::domain::client::CLI_CLIENT_ID;
use crate::http::browser::pages::{ScopeView, WorkspaceView};
use crate::http::browser::{BrowserForm, PageError, error_page, page};
use crate::http::device_authorization::{VERIFICATION_PATH, with_user_code};
use crate::http::origin::RequestOrigin;
use crate::service::device::{DecideError, PendingDevice};
use crate::service::sessions::SignedIn;
use crate::storage::Membership;

pub const DECISION_PATH: &str = "/device/decision";

/// `?user_code=`: from `verification_uri_complete`.
#[derive(Debug, serde::Deserialize)]
pub struct Typed {
    user_code: Option<String>,
}

/// `GET /device`: the form, or, with `?user_code=`, the confirmation.
pub async fn show(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Query(q): Query<Typed>,
) -> Result<Response, PageError> {
    let back = match &q.user_code {
        Some(code) => with_user_code(VERIFICATION_PATH, code),
        None => VERIFICATION_PATH.to_owned(),
    };
    let session = require_session(&app, &headers, &back).await?;
    match q.user_code {
        Some(typed) => confirm(&app, &session, origin.ip.as_deref(), typed).await,
        None => Ok(entry(&app, &session, String::new(), None)),
    }
}

/// `POST /device`: the typed code.
pub async fn enter(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let typed = form.get("user_code").unwrap_or_default().to_owned();
    confirm(&app, &session, origin.ip.as_deref(), typed).await
}

/// `POST /device/decision`: `decision` is `allow` or `deny`, as on the
/// consent page.
pub async fn decide(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let typed = form.get("user_code").unwrap_or_default().to_owned();
    let allow = match form.get("decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => {
            return Err(error_page(
                StatusCode::BAD_REQUEST,
                "Allow or deny",
                "The form must say whether to allow or deny the device.",
            )
            .into());
        }
    };
    let pending = match find(&app, &session, origin.ip.as_deref(), &typed).await? {
        Ok(p) => p,
        Err(page) => return Ok(page),
    };
    let workspace = match allow {
        true => {
            let chosen = form.get("workspace");
            Some(chosen_workspace(&app, &session, &pending.client.client_id, chosen).await?)
        }
        false => None,
    };
    let done = app
        .devices()
        .decide(&pending, &session, workspace.as_ref(), origin)
        .await;
    let name = &pending.client.name;
    let message = match done {
        Ok(()) if allow => format!("{name} is signed in. You can return to your device."),
        Ok(()) => format!("Denied. {name} was not given access to your account."),
        Err(DecideError::Consent(_)) => {
            return Err(error_page(
                StatusCode::FORBIDDEN,
                "Not allowed in this workspace",
                "Your role in that workspace grants none of what the device asks for.",
            )
            .into());
        }
        Err(DecideError::Store(f)) => return Err(f.into()),
        Err(_) => {
            let e = "That code is not valid, or it has expired. Start again on your device.";
            return Ok(entry(&app, &session, typed, Some(e.to_owned())));
        }
    };
    let frame = frame(&app, &session, "account");
    let done = DevicePage::done(frame, message);
    Ok(page(StatusCode::OK, done))
}

/// The workspace the form names, one of the person's; with one, the field
/// may be left out.
async fn chosen_workspace(
    app: &App,
    session: &SignedIn,
    client_id: &str,
    chosen: Option<&str>,
) -> Result<Membership, PageError> {
    let memberships = app
        .authorizations()
        .memberships(&session.user.id, client_id)
        .await?;
    let m = match (chosen, memberships.as_slice()) {
        (None, [only]) => Some(only.clone()),
        (Some(id), all) => all.iter().find(|m| m.workspace_id == id).cloned(),
        _ => None,
    };
    m.ok_or_else(|| {
        error_page(
            StatusCode::BAD_REQUEST,
            "Choose a workspace",
            "Choose one of your workspaces for the device.",
        )
        .into()
    })
}

fn entry(app: &App, session: &SignedIn, typed: String, error: Option<String>) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page(
        status,
        DevicePage {
            frame: frame(app, session, "account"),
            typed,
            error,
            confirm: None,
            done: None,
        },
    )
}

/// The pending authorization `typed` names, through the throttle: `Err`
/// is the page to answer instead (the form with why).
async fn find(
    app: &App,
    session: &SignedIn,
    ip: Option<&str>,
    typed: &str,
) -> Result<Result<PendingDevice, Response>, PageError> {
    let key: String = session.session.id_hash.0[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let now_us = app.clock.now_us();
    let reservation = match app
        .login_throttle
        .reserve_device_code(&key, ip, now_us)
        .await
    {
        Ok(Ok(r)) => r,
        Ok(Err(wait)) => {
            let e = format!("Too many wrong codes. Try again in {wait} s.");
            return Ok(Err(entry(app, session, typed.to_owned(), Some(e))));
        }
        Err(e) => {
            let failure = crate::service::StoreFailure::new("throttle device codes", e);
            return Err(failure.into());
        }
    };
    match app.devices().find(typed).await {
        Ok(p) => {
            // Only wrong codes count.
            if let Err(e) = app.login_throttle.refund(reservation).await {
                tracing::warn!(error = %e, "could not refund a device code attempt");
            }
            Ok(Ok(p))
        }
        Err(DecideError::Store(f)) => Err(f.into()),
        Err(_) => {
            let e = "That code is not valid, or it has expired. Check it on your device.";
            Ok(Err(entry(
                app,
                session,
                typed.to_owned(),
                Some(e.to_owned()),
            )))
        }
    }
}

async fn confirm(
    app: &App,
    session: &SignedIn,
    ip: Option<&str>,
    typed: String,
) -> Result<Response, PageError> {
    let pending = match find(app, session, ip, &typed).await? {
        Ok(p) => p,
        Err(page) => return Ok(page),
    };
    let memberships = app
        .authorizations()
        .memberships(&session.user.id, &pending.client.client_id)
        .await?;
    if memberships.is_empty() {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "No workspace",
            "You belong to no workspace, so there is nothing a device could act in.",
        )
        .into());
    }
    let view = DeviceConfirmView {
        client_name: pending.client.name.clone(),
        logo_uri: pending.oauth.logo_uri.clone(),
        user_code: pending.user_code.display(),
        scopes: ScopeView::list(&pending.record.scope, &app.settings.scopes),
        workspaces: WorkspaceView::list(&memberships),
        first_party: pending.client.client_id == CLI_CLIENT_ID,
    };
    Ok(page(
        StatusCode::OK,
        DevicePage {
            frame: frame(app, session, "account"),
            typed: String::new(),
            error: None,
            confirm: Some(view),
            done: None,
        },
    ))
}
