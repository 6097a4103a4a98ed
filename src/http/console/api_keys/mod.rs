//! A workspace's API Keys tab: the keys with their usage, searching,
//! filtering, sorting and paging; creating a key (shown once, with a
//! download); a key's page with its limits, its usage chart and its
//! settings; deactivating, rolling and revoking. Every action calls
//! `ApiKeys`, as `/v1` and the CLI do, under the same rule of who may act
//! on which key.

mod create;
mod forms;
mod lifecycle;
mod table;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::chart::{chart, sparkline};
use super::views::{
    ApiKeyPage, ApiKeysPage, KeyCreatedPage, KeyForm, KeyRowView, KeysFilter, LimitView,
    OverviewView, RevokeKeyPage, RollKeyPage, ScopeChoice, ScopeView, TopKey,
};
use super::{
    audit_context, form_session, frame, require_recent_auth, require_session, when, workspace_tab,
};
use crate::app::App;
use crate::clock::UnixTime;
use crate::domain::api_key::{ApiKeyStatus, ApiKeyType};
use crate::domain::permission::WorkspaceAction;
use crate::domain::scope::ScopeSet;
use crate::domain::usage::{Outcome, UsageSeries};
use crate::http::browser::{BrowserForm, PageError, error_page, page, see_other};
use crate::http::form::OAuthForm;
use crate::http::origin::RequestOrigin;
use crate::node::rate_limit::{Category, Overrides};
use crate::service::api_keys::{self as keys, ApiKeyError, Creator, MAX_OVERLAP_SECONDS, NewKey};
use crate::service::members::WorkspaceAccess;
use crate::service::sessions::SignedIn;
use crate::service::usage::DayRange;
use crate::storage::{ApiKeyChanges, ApiKeyRecord, KeyListQuery, KeySort};
pub use create::{create, new_page};
use create::{refusal_text, shown_once};
use forms::*;
pub use lifecycle::{revoke, revoke_page, roll, roll_page};
use table::*;

/// Rows per page of the key table.
pub const PAGE_SIZE: usize = 50;
/// A key expiring within this many days is flagged "expires soon".
const EXPIRES_SOON_DAYS: i64 = 7;
/// A key unused this long is a candidate to revoke.
const STALE_DAYS: i64 = 30;
/// The overlaps "Roll" offers: none, 1 hour, 24 hours, 7 days.
const OVERLAP_CHOICES: [i64; 4] = [0, 3600, 86_400, MAX_OVERLAP_SECONDS];
/// The expiries "Create API key" offers besides a date.
const EXPIRY_CHOICES: [&str; 4] = ["never", "30", "90", "date"];

fn tab_path(ws: &str) -> String {
    format!("/console/workspaces/{ws}/api-keys")
}

fn key_path(ws: &str, key: &str) -> String {
    format!("/console/workspaces/{ws}/api-keys/{key}")
}

pub async fn list(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, &tab_path(&id)).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "api-keys").await?;
    let now = app.clock.now();
    let f = filter(&q);
    // Only the page is read: a workspace may hold thousands of keys.
    let wanted = q.page.unwrap_or(1).max(1);
    let (mut shown, matching) = app
        .api_keys
        .page(&id, &list_query(&f, now, wanted))
        .await
        .map_err(key_error)?;
    let pages = usize::try_from(matching)
        .unwrap_or(usize::MAX)
        .div_ceil(PAGE_SIZE)
        .max(1);
    let page_no = wanted.min(pages);
    if page_no != wanted {
        // Past the end: the last page.
        shown = app
            .api_keys
            .page(&id, &list_query(&f, now, page_no))
            .await
            .map_err(key_error)?
            .0;
    }
    let range = DayRange::last(30, now);
    let creators = Creators::of(&app, &id, &shown).await?;
    let rows = rows(&app, &id, &shown, &creators, range, now).await?;
    let overview = overview(&app, &id, range, now).await?;
    Ok(page(
        StatusCode::OK,
        ApiKeysPage {
            frame: frame(&app, &session, "workspaces"),
            rows,
            total: usize::try_from(overview.total).unwrap_or(0),
            matching: usize::try_from(matching).unwrap_or(0),
            page: page_no,
            pages,
            prev_link: (page_no > 1).then(|| page_link(&id, &f, page_no - 1)),
            next_link: (page_no < pages).then(|| page_link(&id, &f, page_no + 1)),
            filter: f,
            can_write: access.may(WorkspaceAction::Administer),
            notice: notice_text(q.done.as_deref()),
            overview,
            form: new_form(&app),
            ws,
        },
    ))
}

pub async fn show(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((id, key_id)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, &key_path(&id, &key_id)).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "api-keys").await?;
    key_page(
        &app,
        &session,
        &access,
        ws,
        &key_id,
        notice_text(q.done.as_deref()),
        None,
    )
    .await
}

async fn key_page(
    app: &App,
    session: &SignedIn,
    access: &WorkspaceAccess,
    ws: super::views::WorkspaceHeader,
    key_id: &str,
    notice: Option<String>,
    refused: Option<(String, KeyForm)>,
) -> Result<Response, PageError> {
    let now = app.clock.now();
    let k = app.api_keys.get(&ws.id, key_id).await.map_err(key_error)?;
    let range = DayRange::last(30, now);
    let series = app.usage_reports().api_key(&ws.id, &k.id, range).await?;
    let creators = Creators::of(app, &ws.id, std::slice::from_ref(&k)).await?;
    let overrides: Option<Overrides> = k
        .rate_limits
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    let status = if refused.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (error, mut edit) = match refused {
        Some((e, f)) => (Some(e), f),
        None => (
            None,
            KeyForm {
                name: k.name.clone(),
                key_type: k.key_type.as_str().to_owned(),
                scopes: scope_choices(app, &k.scopes)
                    .into_iter()
                    .filter(|c| k.key_type.allows_scope(&c.name))
                    .collect(),
                expires: String::new(),
                expires_on: String::new(),
                limits: limit_fields(app, k.key_type, overrides),
                limits_set: overrides.is_some(),
            },
        ),
    };
    rate_state(app, &k, &mut edit.limits).await;
    Ok(page(
        status,
        ApiKeyPage {
            frame: frame(app, session, "workspaces"),
            key: row(app, &k, &creators, Some(&series), &series, now),
            chart: chart(&series),
            outcomes: Outcome::ALL.iter().map(|o| o.label()).collect(),
            can_write: access.may(WorkspaceAction::Administer) && k.revoked_at.is_none(),
            edit,
            notice,
            error,
            ws,
        },
    ))
}

/// Each limit's budget as it stands, read without spending any of it.
async fn rate_state(app: &App, k: &ApiKeyRecord, limits: &mut [LimitView]) {
    let state = app
        .verifier
        .rate_state(&app.api_keys.principal(k))
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reading a key's rate limit state failed");
            Vec::new()
        });
    for (l, d) in limits.iter_mut().zip(&state) {
        l.remaining = Some(d.remaining);
        l.refills_in = d.reset;
    }
}

/// The key a row action names, in a workspace the person administers.
async fn acting_on(
    app: &App,
    session: &SignedIn,
    id: &str,
    key_id: &str,
    origin: crate::domain::audit::Origin,
) -> Result<
    (
        WorkspaceAccess,
        super::views::WorkspaceHeader,
        Creator,
        ApiKeyRecord,
    ),
    PageError,
> {
    let (access, ws) = workspace_tab(app, session, id, "api-keys").await?;
    let by = creator(app, session, &access, origin).await?;
    let k = app.api_keys.get(id, key_id).await.map_err(key_error)?;
    Ok((access, ws, by, k))
}

pub async fn edit(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path((id, key_id)): Path<(String, String)>,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let (access, ws, by, k) = acting_on(&app, &session, &id, &key_id, origin).await?;
    let refused = |app: &App, message: String| {
        let mut f = posted_form(app, &form);
        f.key_type = k.key_type.as_str().to_owned();
        f.scopes.retain(|c| k.key_type.allows_scope(&c.name));
        (message, f)
    };
    let scopes = scopes_field(&app, &form);
    let parsed = limits_field(&form).and_then(|limits| {
        if scopes.is_empty() {
            return Err(Refused(
                "Choose at least one scope under Resource access.".into(),
            ));
        }
        Ok(limits)
    });
    let limits = match parsed {
        Ok(l) => l,
        Err(Refused(m)) => {
            let r = refused(&app, m);
            return key_page(&app, &session, &access, ws, &key_id, None, Some(r)).await;
        }
    };
    let changes = ApiKeyChanges {
        name: Some(form.get("name").unwrap_or_default().to_owned()),
        scopes: Some(scopes.to_string()),
        deactivated: None,
        rate_limits: Some(limits.map(keys::overrides_json).transpose().map_err(|e| {
            PageError::from(error_page(
                StatusCode::BAD_REQUEST,
                "That did not work",
                &refusal_text(&e),
            ))
        })?),
    };
    match app.api_keys.update(&id, &k.id, changes, &by).await {
        Ok(_) => {
            crate::node::leased_cache::wait_for_propagation().await;
            Ok(see_other(&format!("{}?done=saved", key_path(&id, &key_id))))
        }
        Err(ApiKeyError::Store(f)) => Err(f.into()),
        Err(e) => {
            let r = refused(&app, refusal_text(&e));
            key_page(&app, &session, &access, ws, &key_id, None, Some(r)).await
        }
    }
}

/// Deactivate (`active=0`) or activate (`active=1`); back to `return`
/// (the table or the key's page).
pub async fn set_active(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path((id, key_id)): Path<(String, String)>,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let (_, _, by, k) = acting_on(&app, &session, &id, &key_id, origin).await?;
    let active = match form.get("active") {
        Some("1") => true,
        Some("0") => false,
        _ => {
            return Err(error_page(
                StatusCode::BAD_REQUEST,
                "Choose Activate or Deactivate",
                "Go back and use one of the buttons.",
            )
            .into());
        }
    };
    let changes = ApiKeyChanges {
        deactivated: Some(!active),
        ..ApiKeyChanges::default()
    };
    app.api_keys
        .update(&id, &k.id, changes, &by)
        .await
        .map_err(key_error)?;
    // Every node refuses (or accepts) the key before the page says so.
    crate::node::leased_cache::wait_for_propagation().await;
    let done = if active { "activated" } else { "deactivated" };
    Ok(see_other(&format!(
        "{}?done={done}",
        back(&form, &id, &key_id)
    )))
}

/// Where a row action returns: the key's page when it came from there.
fn back(form: &OAuthForm, id: &str, key_id: &str) -> String {
    match form.get("return") {
        Some("key") => key_path(id, key_id),
        _ => tab_path(id),
    }
}

fn key_error(e: ApiKeyError) -> PageError {
    let e = match e {
        ApiKeyError::Store(f) => return f.into(),
        other => other,
    };
    let (status, title) = match &e {
        ApiKeyError::NotFound => (StatusCode::NOT_FOUND, "No such API key"),
        ApiKeyError::Forbidden { .. } => (StatusCode::FORBIDDEN, "Not allowed"),
        ApiKeyError::Revoked { .. }
        | ApiKeyError::AlreadyRevoked { .. }
        | ApiKeyError::Changed(_) => (StatusCode::CONFLICT, "That did not work"),
        _ => (StatusCode::BAD_REQUEST, "That did not work"),
    };
    error_page(status, title, &refusal_text(&e)).into()
}
