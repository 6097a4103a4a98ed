//! `POST /oauth/authorize/decision`: the consent form's answer.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::{chosen, fail, issue_code, redirect_error};
use crate::app::App;
use crate::domain::audit::{Actor, AuditEntry, AuditEvent};
use crate::domain::authorize_request::AuthorizeErrorCode;
use crate::domain::scope::ScopeSet;
use crate::domain::user::grantable;
use crate::http::browser::{self, csrf_ok, error_page, unavailable};
use crate::http::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::http::origin::RequestOrigin;
use crate::storage::auth::ConsentRecord;

pub async fn decision(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> Response {
    let Ok(mut form) = form else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This form could not be read",
            "Return to the application and start again.",
        );
    };
    let session = match browser::signed_in(&app, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Your sign-in has expired",
                "Return to the application and start again.",
            );
        }
        Err(e) => return unavailable(&e),
    };
    // The token is bound to this session, so another site cannot post a
    // decision on the user's behalf (RFC 6749 §10.12).
    if !csrf_ok(&app, &session.session_id, form.get("csrf")) {
        return error_page(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "For your safety keyflow did not act on it. Return to the application and start again.",
        );
    }
    let query = form.take("request").unwrap_or_default();
    let r = match super::check(&app, &query).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    match form.get("decision") {
        Some("allow") => {}
        Some("deny") => {
            let e = fail(
                &r,
                AuthorizeErrorCode::AccessDenied,
                "the user denied the request",
            );
            return redirect_error(&app, &e);
        }
        _ => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "No decision was made",
                "Choose Allow or Deny.",
            );
        }
    }
    let memberships = match app.store.memberships(&session.user.id).await {
        Ok(m) => m,
        Err(e) => return unavailable(&e),
    };
    let Some(m) = chosen(&memberships, form.get("workspace")) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Choose a workspace",
            "The workspace you chose is not one of yours. Go back and choose another.",
        );
    };
    let scope = grantable(&r.scope, m.role);
    if scope.is_empty() {
        let e = fail(
            &r,
            AuthorizeErrorCode::AccessDenied,
            "the user's role in the workspace cannot grant the requested scopes",
        );
        return redirect_error(&app, &e);
    }
    let now = app.clock.now();
    let client_id = &r.client.client_id;
    // Remember the union with what was granted before, so that asking for
    // a subset later needs no new consent.
    let previous = match app
        .store
        .consent(&session.user.id, client_id, &m.workspace_id)
        .await
    {
        Ok(c) => c.map(|c| ScopeSet::parse(&c.scope).unwrap_or_default()),
        Err(e) => return unavailable(&e),
    };
    let remembered: ScopeSet = scope
        .iter()
        .chain(previous.iter().flat_map(|p| p.iter()))
        .map(str::to_owned)
        .collect();
    let consent = ConsentRecord {
        user_id: session.user.id.clone(),
        client_id: client_id.clone(),
        workspace_id: m.workspace_id.clone(),
        scope: remembered.to_string(),
        granted_at: now,
    };
    let audit = AuditEntry::new(
        AuditEvent::ConsentGranted,
        Actor::user(&session.user.id),
        now,
    )
    .workspace(&m.workspace_id)
    .origin(origin)
    .details(json!({"clientId": client_id, "scope": scope.to_string()}));
    if let Err(e) = app.store.save_consent(&consent, &audit).await {
        return unavailable(&e);
    }
    issue_code(&app, &r, &session, &m.workspace_id, &scope).await
}
