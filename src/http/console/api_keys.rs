//! A workspace's API Keys tab: the keys with their usage, searching,
//! filtering, sorting and paging; creating a key (shown once, with a
//! download); a key's page with its limits, its usage chart and its
//! settings; deactivating, rolling and revoking. Every action calls
//! `ApiKeys`, as `/v1` and the CLI do, under the same rule of who may act
//! on which key.

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
use crate::storage::{ApiKeyChanges, ApiKeyRecord};

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

/// `?q&status&type&sort&page&done`: the table's view.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    #[serde(rename = "type")]
    key_type: Option<String>,
    sort: Option<String>,
    page: Option<usize>,
    done: Option<String>,
}

/// The status a person sees: the stored one, and "expires soon".
fn shown_status(k: &ApiKeyRecord, now: UnixTime) -> (&'static str, &'static str, bool) {
    let status = keys::status(k, now);
    let soon = status == ApiKeyStatus::Active
        && k.expires_at
            .is_some_and(|e| e - now <= EXPIRES_SOON_DAYS * 86_400);
    let (key, label) = match status {
        ApiKeyStatus::Active => ("active", "Active"),
        ApiKeyStatus::Deactivated => ("deactivated", "Deactivated"),
        ApiKeyStatus::Expired => ("expired", "Expired"),
        ApiKeyStatus::Revoked => ("revoked", "Revoked"),
    };
    (key, label, soon)
}

fn type_label(t: ApiKeyType) -> &'static str {
    match t {
        ApiKeyType::Secret => "Secret",
        ApiKeyType::Client => "Client",
        ApiKeyType::ReadOnly => "Read-only",
    }
}

/// Names for the `created_by` ids a workspace's keys carry: its members,
/// its application key, and its other keys.
struct Creators(HashMap<String, String>);

impl Creators {
    async fn of(app: &App, workspace_id: &str, keys: &[ApiKeyRecord]) -> Result<Self, PageError> {
        let mut names = HashMap::new();
        let (members, _) = app.members().list(workspace_id).await?;
        for m in members {
            names.insert(m.user_id, m.email);
        }
        if let Ok(token) = app
            .workspaces()
            .application_token(workspace_id, app.clock.now())
            .await
        {
            names.insert(token.client.client_id, "Application key".to_owned());
        }
        for k in keys {
            names.insert(k.id.clone(), format!("API key {}", k.prefix));
        }
        Ok(Self(names))
    }

    fn name(&self, id: &str) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }
}

fn row(
    app: &App,
    k: &ApiKeyRecord,
    creators: &Creators,
    usage: Option<&UsageSeries>,
    empty: &UsageSeries,
    now: UnixTime,
) -> KeyRowView {
    let (status, status_label, expires_soon) = shown_status(k, now);
    KeyRowView {
        id: k.id.clone(),
        name: k.name.clone(),
        prefix: k.prefix.clone(),
        key_type: type_label(k.key_type),
        scopes: k
            .scopes
            .iter()
            .map(|s| ScopeView {
                name: s.to_owned(),
                description: app
                    .api_keys
                    .catalogue()
                    .get(s)
                    .map(|d| d.description.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        created_by: creators.name(&k.created_by),
        created: when(k.created_at),
        last_used: k.last_used_at.map(when),
        uses: k.usage_count,
        expires: k.expires_at.map(when),
        status,
        status_label,
        expires_soon,
        spark: sparkline(usage.unwrap_or(empty)),
    }
}

/// The filters as the form shows them, normalised: unknown values are
/// ignored rather than refused, as a search box would.
fn filter(q: &ListQuery) -> KeysFilter {
    let pick = |v: &Option<String>, allowed: &[&str]| {
        v.as_deref()
            .filter(|v| allowed.contains(v))
            .unwrap_or_default()
            .to_owned()
    };
    KeysFilter {
        q: q.q.as_deref().unwrap_or_default().trim().to_owned(),
        status: pick(
            &q.status,
            &["active", "deactivated", "expired", "revoked", "expiring"],
        ),
        key_type: pick(&q.key_type, &["secret", "client", "read_only"]),
        sort: pick(&q.sort, &["last_used", "created_asc"]),
    }
}

fn matches(f: &KeysFilter, k: &ApiKeyRecord, now: UnixTime) -> bool {
    let (status, _, soon) = shown_status(k, now);
    let q = f.q.to_lowercase();
    (q.is_empty() || k.name.to_lowercase().contains(&q) || k.prefix.starts_with(&q))
        && (f.status.is_empty() || f.status == status || (f.status == "expiring" && soon))
        && (f.key_type.is_empty() || f.key_type == k.key_type.as_str())
}

/// The link to another page of the same view.
fn page_link(ws: &str, f: &KeysFilter, page: usize) -> String {
    let mut url = url::Url::parse("http://x/").expect("a base URL");
    url.set_path(&tab_path(ws));
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in [
            ("q", &f.q),
            ("status", &f.status),
            ("type", &f.key_type),
            ("sort", &f.sort),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        q.append_pair("page", &page.to_string());
    }
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

fn notice_text(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "deactivated" => "The key was deactivated. It is refused everywhere until activated.",
            "activated" => "The key was activated.",
            "revoked" => "The key was revoked. It can never be used again.",
            "saved" => "The key was saved.",
            _ => return None,
        }
        .to_owned(),
    )
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
    let mut all = app.api_keys.list(&id, None).await.map_err(key_error)?;
    let range = DayRange::last(30, now);
    let usage = app.usage_reports().api_keys(&id, range).await?;
    let empty = UsageSeries::from_rows(range.from, range.to, &[]);
    let creators = Creators::of(&app, &id, &all).await?;
    let overview = overview(&all, &usage, now);
    let f = filter(&q);
    match f.sort.as_str() {
        "last_used" => all.sort_by_key(|k| std::cmp::Reverse(k.last_used_at)),
        "created_asc" => all.sort_by_key(|k| k.created_at),
        _ => all.sort_by_key(|k| std::cmp::Reverse(k.created_at)),
    }
    let matching: Vec<&ApiKeyRecord> = all.iter().filter(|k| matches(&f, k, now)).collect();
    let pages = matching.len().div_ceil(PAGE_SIZE).max(1);
    let page_no = q.page.unwrap_or(1).clamp(1, pages);
    let rows = matching
        .iter()
        .skip((page_no - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|k| row(&app, k, &creators, usage.get(&k.id), &empty, now))
        .collect();
    Ok(page(
        StatusCode::OK,
        ApiKeysPage {
            frame: frame(&app, &session, "workspaces"),
            rows,
            total: all.len(),
            matching: matching.len(),
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

/// The workspace's figures over the last 30 days.
fn overview(
    all: &[ApiKeyRecord],
    usage: &HashMap<String, UsageSeries>,
    now: UnixTime,
) -> OverviewView {
    let live: Vec<&ApiKeyRecord> = all
        .iter()
        .filter(|k| keys::status(k, now) == ApiKeyStatus::Active)
        .collect();
    let mut top: Vec<TopKey> = all
        .iter()
        .filter_map(|k| {
            let n = usage.get(&k.id)?.total(Outcome::Success);
            (n > 0).then(|| TopKey {
                id: k.id.clone(),
                name: k.name.clone(),
                prefix: k.prefix.clone(),
                count: n,
            })
        })
        .collect();
    top.sort_by_key(|t| std::cmp::Reverse(t.count));
    top.truncate(5);
    let stale_before = now - STALE_DAYS * 86_400;
    OverviewView {
        verifications: usage.values().map(UsageSeries::all_outcomes_total).sum(),
        successes: usage.values().map(|s| s.total(Outcome::Success)).sum(),
        active: live.len(),
        never_used: live.iter().filter(|k| k.last_used_at.is_none()).count(),
        stale: live
            .iter()
            .filter(|k| {
                k.last_used_at.is_some_and(|t| t < stale_before)
                    || (k.last_used_at.is_none() && k.created_at < stale_before)
            })
            .map(|k| TopKey {
                id: k.id.clone(),
                name: k.name.clone(),
                prefix: k.prefix.clone(),
                count: 0,
            })
            .collect(),
        top,
    }
}

/// The create form, empty.
fn new_form(app: &App) -> KeyForm {
    KeyForm {
        name: String::new(),
        key_type: "secret".to_owned(),
        scopes: scope_choices(app, &ScopeSet::default()),
        expires: "never".to_owned(),
        expires_on: String::new(),
        limits: limit_fields(app, ApiKeyType::Secret, None),
        limits_set: false,
    }
}

fn scope_choices(app: &App, checked: &ScopeSet) -> Vec<ScopeChoice> {
    app.api_keys
        .grantable_scopes()
        .into_iter()
        .map(|(name, description)| {
            let types: Vec<ApiKeyType> =
                [ApiKeyType::Secret, ApiKeyType::Client, ApiKeyType::ReadOnly]
                    .into_iter()
                    .filter(|t| t.allows_scope(&name))
                    .collect();
            let list = |f: fn(ApiKeyType) -> &'static str, sep| {
                types.iter().map(|t| f(*t)).collect::<Vec<_>>().join(sep)
            };
            ScopeChoice {
                field: format!("scope-{name}"),
                checked: checked.contains(&name),
                types: list(type_label, ", "),
                type_values: list(ApiKeyType::as_str, " "),
                name,
                description,
            }
        })
        .collect()
}

/// The three per-minute limits: the override, if any, and the default.
fn limit_fields(app: &App, t: ApiKeyType, overrides: Option<Overrides>) -> Vec<LimitView> {
    let defaults = app.settings.api_key_limits.for_type(t);
    let o = overrides.unwrap_or_default();
    [
        (Category::Read, "Read", o.read),
        (Category::Write, "Write", o.write),
        (Category::Token, "Token", o.token),
    ]
    .into_iter()
    .map(|(c, label, set)| LimitView {
        field: format!("limit-{}", c.as_str()),
        label,
        default: defaults.get(c),
        value: set.map(|v| v.to_string()).unwrap_or_default(),
        effective: set.unwrap_or(defaults.get(c)),
        remaining: None,
        refills_in: 0,
    })
    .collect()
}

/// A bad form answers with this message on the page it came from.
struct Refused(String);

fn scopes_field(app: &App, form: &OAuthForm) -> ScopeSet {
    let names: Vec<String> = app
        .api_keys
        .grantable_scopes()
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| form.get(&format!("scope-{n}")).is_some())
        .collect();
    ScopeSet::parse(&names.join(" ")).unwrap_or_default()
}

fn limits_field(form: &OAuthForm) -> Result<Option<Overrides>, Refused> {
    let one = |c: &str| -> Result<Option<u32>, Refused> {
        match form.get(&format!("limit-{c}")).map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                Refused(format!(
                    "The {c} limit must be a whole number of requests per minute."
                ))
            }),
        }
    };
    let o = Overrides {
        read: one("read")?,
        write: one("write")?,
        token: one("token")?,
    };
    o.validate()
        .map_err(|e| Refused(format!("{}.", capital(&e))))?;
    Ok((o != Overrides::default()).then_some(o))
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn expiry_field(form: &OAuthForm, now: UnixTime) -> Result<Option<UnixTime>, Refused> {
    match form.get("expires").unwrap_or("never") {
        "never" => Ok(None),
        "30" => Ok(Some(now + 30 * 86_400)),
        "90" => Ok(Some(now + 90 * 86_400)),
        "date" => {
            let day = form
                .get("expires_on")
                .and_then(crate::domain::usage::parse_day)
                .ok_or_else(|| Refused("Choose the date the key expires on.".into()))?;
            // The key works through the chosen day (UTC).
            let end = crate::domain::usage::day_start(day + 1);
            if end <= now {
                return Err(Refused("The expiry date must be in the future.".into()));
            }
            Ok(Some(end))
        }
        _ => Err(Refused("Choose when the key expires.".into())),
    }
}

/// The form as posted, to show again after a refusal.
fn posted_form(app: &App, form: &OAuthForm) -> KeyForm {
    let key_type = form.get("type").unwrap_or("secret");
    let t: ApiKeyType = key_type.parse().unwrap_or(ApiKeyType::Secret);
    KeyForm {
        name: form.get("name").unwrap_or_default().to_owned(),
        key_type: key_type.to_owned(),
        scopes: scope_choices(app, &scopes_field(app, form)),
        expires: form
            .get("expires")
            .filter(|e| EXPIRY_CHOICES.contains(e))
            .unwrap_or("never")
            .to_owned(),
        expires_on: form.get("expires_on").unwrap_or_default().to_owned(),
        limits: limit_fields(app, t, limits_field(form).ok().flatten()),
        limits_set: ["limit-read", "limit-write", "limit-token"]
            .iter()
            .any(|f| form.get(f).is_some()),
    }
}

/// Every field of a key form, to post again after a password prompt.
fn form_fields(app: &App, form: &OAuthForm) -> Vec<(String, String)> {
    let mut names = vec![
        "name".to_owned(),
        "type".to_owned(),
        "expires".to_owned(),
        "expires_on".to_owned(),
        "limit-read".to_owned(),
        "limit-write".to_owned(),
        "limit-token".to_owned(),
        "overlap".to_owned(),
    ];
    names.extend(
        app.api_keys
            .grantable_scopes()
            .into_iter()
            .map(|(n, _)| format!("scope-{n}")),
    );
    names
        .into_iter()
        .filter_map(|n| form.get(&n).map(|v| (n.clone(), v.to_owned())))
        .collect()
}

async fn creator(
    app: &App,
    session: &SignedIn,
    access: &WorkspaceAccess,
    origin: crate::domain::audit::Origin,
) -> Result<Creator, PageError> {
    Ok(app
        .api_keys
        .person_creator(&session.user.id, access, audit_context(session, origin))?)
}

/// Without JavaScript, "Create API key" leads here instead of the dialog.
pub async fn new_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, &tab_path(&id)).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "api-keys").await?;
    access.require(WorkspaceAction::Administer)?;
    Ok(page(
        StatusCode::OK,
        super::views::NewKeyPage {
            frame: frame(&app, &session, "workspaces"),
            ws,
            form: new_form(&app),
            error: None,
        },
    ))
}

pub async fn create(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path(id): Path<String>,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "api-keys").await?;
    let by = creator(&app, &session, &access, origin.clone()).await?;
    let refuse = |app: &App, form: &OAuthForm, ws, message: String| {
        page(
            StatusCode::BAD_REQUEST,
            super::views::NewKeyPage {
                frame: frame(app, &session, "workspaces"),
                ws,
                form: posted_form(app, form),
                error: Some(message),
            },
        )
    };
    let now = app.clock.now();
    let parsed = (|| {
        let key_type: ApiKeyType = form
            .get("type")
            .unwrap_or_default()
            .parse()
            .map_err(|_| Refused("Choose the type of the key.".into()))?;
        let scopes = scopes_field(&app, &form);
        if scopes.is_empty() {
            return Err(Refused(
                "Choose at least one scope under Resource access.".into(),
            ));
        }
        Ok(NewKey {
            name: form.get("name").unwrap_or_default().to_owned(),
            key_type,
            scopes,
            expires_at: expiry_field(&form, now)?,
            rate_limits: limits_field(&form)?,
        })
    })();
    let new = match parsed {
        Ok(n) => n,
        Err(Refused(m)) => return Ok(refuse(&app, &form, ws, m)),
    };
    // A new credential is shown: as for regenerating the secret, only
    // after a recent sign-in.
    let fields = form_fields(&app, &form);
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    require_recent_auth(&app, &session, &mut form, &origin, &tab_path(&id), &fields).await?;
    match app.api_keys.create(&id, new, &by).await {
        Ok(made) => Ok(shown_once(&app, &session, ws, &made, None)),
        Err(ApiKeyError::Store(f)) => Err(f.into()),
        Err(e) => Ok(refuse(&app, &form, ws, refusal_text(&e))),
    }
}

fn refusal_text(e: &ApiKeyError) -> String {
    match e {
        ApiKeyError::Forbidden { scope, .. } => {
            format!("You may not give a key {scope}.")
        }
        other => format!("{}.", capital(&other.to_string())),
    }
}

/// The new key, this once: copy, download as `keyflow.key` (the file the
/// CLI looks for), and the warning.
fn shown_once(
    app: &App,
    session: &SignedIn,
    ws: super::views::WorkspaceHeader,
    made: &keys::CreatedKey,
    rolled_until: Option<String>,
) -> Response {
    let key = made.key.expose().to_owned();
    page(
        StatusCode::OK,
        KeyCreatedPage {
            frame: frame(app, session, "workspaces"),
            download: format!(
                "data:text/plain;charset=utf-8,{}%0A",
                percent_encoding::utf8_percent_encode(&key, percent_encoding::NON_ALPHANUMERIC)
            ),
            key,
            name: made.record.name.clone(),
            prefix: made.record.prefix.clone(),
            key_id: made.record.id.clone(),
            rolled_until,
            ws,
        },
    )
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
    // The budget as it stands, read without spending any of it.
    let state = app
        .verifier
        .rate_state(&app.api_keys.principal(&k))
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reading a key's rate limit state failed");
            Vec::new()
        });
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
    for (l, d) in edit.limits.iter_mut().zip(&state) {
        l.remaining = Some(d.remaining);
        l.refills_in = d.reset;
    }
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

/// Without JavaScript, "Roll" and "Revoke" lead to these pages.
pub async fn roll_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    confirmation(&app, &headers, &id, &key_id, |frame, ws, key| RollKeyPage {
        frame,
        ws,
        key,
    })
    .await
}

pub async fn revoke_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    confirmation(&app, &headers, &id, &key_id, |frame, ws, key| {
        RevokeKeyPage { frame, ws, key }
    })
    .await
}

/// A confirmation page about one key, for those who may act on it.
async fn confirmation<P: axum::response::IntoResponse>(
    app: &App,
    headers: &HeaderMap,
    id: &str,
    key_id: &str,
    view: impl FnOnce(super::views::Frame, super::views::WorkspaceHeader, KeyRowView) -> P,
) -> Result<Response, PageError> {
    let session = require_session(app, headers, &key_path(id, key_id)).await?;
    let (access, ws) = workspace_tab(app, &session, id, "api-keys").await?;
    access.require(WorkspaceAction::Administer)?;
    let k = app.api_keys.get(id, key_id).await.map_err(key_error)?;
    let creators = Creators::of(app, id, std::slice::from_ref(&k)).await?;
    let empty = UsageSeries::from_rows(0, 0, &[]);
    let key = row(app, &k, &creators, None, &empty, app.clock.now());
    Ok(page(
        StatusCode::OK,
        view(frame(app, &session, "workspaces"), ws, key),
    ))
}

pub async fn roll(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path((id, key_id)): Path<(String, String)>,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let (_, ws, by, k) = acting_on(&app, &session, &id, &key_id, origin.clone()).await?;
    let overlap = form
        .get("overlap")
        .unwrap_or("0")
        .parse::<i64>()
        .ok()
        .filter(|o| OVERLAP_CHOICES.contains(o))
        .ok_or_else(|| {
            PageError::from(error_page(
                StatusCode::BAD_REQUEST,
                "Choose when the old key stops",
                "Immediately, after 1 hour, after 24 hours or after 7 days.",
            ))
        })?;
    let overlap_field = overlap.to_string();
    let action = format!("{}/roll", key_path(&id, &key_id));
    let fields = [("overlap", overlap_field.as_str())];
    require_recent_auth(&app, &session, &mut form, &origin, &action, &fields).await?;
    let made = app
        .api_keys
        .roll(&id, &k.id, overlap, &by)
        .await
        .map_err(key_error)?;
    let until = (overlap > 0).then(|| when(app.clock.now() + overlap));
    Ok(shown_once(&app, &session, ws, &made, until))
}

pub async fn revoke(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path((id, key_id)): Path<(String, String)>,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let (_, _, by, k) = acting_on(&app, &session, &id, &key_id, origin).await?;
    app.api_keys
        .revoke(&id, &k.id, &by)
        .await
        .map_err(key_error)?;
    Ok(see_other(&format!("{}?done=revoked", tab_path(&id))))
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
