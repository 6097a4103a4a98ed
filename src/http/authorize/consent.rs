//! `POST /oauth/authorize/decision`: the consent form's answer.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{chosen, issue_code, redirect_error};
use crate::app::App;
use crate::domain::authorize_request::AuthorizeErrorCode::AccessDenied;
use crate::http::browser::{self, BrowserForm, PageError, csrf_ok, error_page};
use crate::http::origin::RequestOrigin;
use crate::service::authorization::ConsentError;

pub async fn decision(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let Some(session) = browser::signed_in(&app, &headers).await? else {
        return Err(refused(
            "Your sign-in has expired",
            "Return to the application and start again.",
        ));
    };
    // The token is bound to this session, so another site cannot post a
    // decision on the user's behalf (RFC 6749 §10.12).
    if !csrf_ok(&app, &session.session_id, form.get("csrf")) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "For your safety keyflow did not act on it. Return to the application and start again.",
        )
        .into());
    }
    let query = form.take("request").unwrap_or_default();
    let r = super::check(&app, &query).await?;
    match form.get("decision") {
        Some("allow") => {}
        Some("deny") => {
            let e = r.error(AccessDenied, "the user denied the request");
            return Err(redirect_error(&app, &e).into());
        }
        _ => return Err(refused("No decision was made", "Choose Allow or Deny.")),
    }
    let authorizations = app.authorizations();
    let memberships = authorizations
        .memberships(&session.user.id, &r.client.client_id)
        .await?;
    let Some(m) = chosen(&memberships, form.get("workspace")) else {
        return Err(refused(
            "Choose a workspace",
            "The workspace you chose is not one of yours. Go back and choose another.",
        ));
    };
    let scope = match authorizations
        .consent(&session.user.id, &r, m, origin)
        .await
    {
        Ok(scope) => scope,
        Err(ConsentError::NothingGrantable) => {
            let e = r.error(
                AccessDenied,
                "the user's role in the workspace cannot grant the requested scopes",
            );
            return Err(redirect_error(&app, &e).into());
        }
        Err(ConsentError::Store(f)) => return Err(f.into()),
    };
    issue_code(&app, &r, &session, &m.workspace_id, &scope).await
}

fn refused(title: &str, message: &str) -> PageError {
    error_page(StatusCode::BAD_REQUEST, title, message).into()
}
