//! The audit log as a table: a workspace's (owners and admins) and the
//! whole platform's (platform admins). Filters by event, actor and UTC
//! date range; pages with the `/v1` API's cursor (entries before an id).
//! Each entry names its actor and target as people know them and links
//! the target while it exists.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::views::{AuditFilter, AuditPage, AuditRowView, Choice};
use super::{frame, require_session, when, workspace_tab};
use crate::app::App;
use crate::domain::audit::{ActorKind, AuditEvent, AuditQuery, AuditRecord};
use crate::domain::permission::WorkspaceAction;
use crate::domain::usage::{day_start, parse_day};
use crate::http::browser::{PageError, page};
use crate::service::admin::PlatformAdmin;

/// Entries per page.
pub const PAGE_SIZE: u32 = 50;
pub const PLATFORM_PATH: &str = "/console/admin/audit";

fn tab_path(ws: &str) -> String {
    format!("/console/workspaces/{ws}/audit")
}

/// `?event&actor&from&to&before`, read leniently: a bad value is said on
/// the page, not answered with a bare error.
fn filter(raw: Option<&str>) -> (AuditFilter, Option<i64>) {
    let mut f = AuditFilter::default();
    let mut before = None;
    for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let v = v.trim().to_owned();
        match k.as_ref() {
            "event" => f.event = v,
            "actor" => f.actor = v,
            "from" => f.from = v,
            "to" => f.to = v,
            "before" => before = v.parse().ok(),
            _ => {}
        }
    }
    (f, before)
}

/// The store's query for a filter, or what is wrong with it.
fn query(
    f: &AuditFilter,
    workspace_id: Option<&str>,
    before: Option<i64>,
) -> Result<AuditQuery, String> {
    let day = |name: &str, v: &str| -> Result<Option<i64>, String> {
        if v.is_empty() {
            return Ok(None);
        }
        parse_day(v)
            .map(Some)
            .ok_or_else(|| format!("{name} must be a date like 2026-12-01."))
    };
    let from = day("From", &f.from)?;
    let to = day("To", &f.to)?;
    if let (Some(a), Some(b)) = (from, to)
        && a > b
    {
        return Err("From is after To.".into());
    }
    let event = if f.event.is_empty() {
        None
    } else {
        Some(
            f.event
                .parse::<AuditEvent>()
                .map_err(|_| "Choose an event from the list.".to_owned())?,
        )
    };
    Ok(AuditQuery {
        workspace_id: workspace_id.map(str::to_owned),
        event,
        actor_id: (!f.actor.is_empty()).then(|| f.actor.clone()),
        since: from.map(day_start),
        until: to.map(|d| day_start(d + 1)),
        before_id: before,
        limit: PAGE_SIZE,
    })
}

/// "api_key_created" as "API key created".
fn event_label(e: AuditEvent) -> String {
    let words = e.as_str().replace('_', " ");
    let mut label = words.replacen("api key", "API key", 1);
    if let Some(first) = label.get(..1) {
        label = format!("{}{}", first.to_uppercase(), &label[1..]);
    }
    label
}

/// What the page knows to name actors and targets by: ids to names, and
/// which targets still exist (with their links).
#[derive(Default)]
struct Names {
    actors: HashMap<String, String>,
    targets: HashMap<String, (String, Option<String>)>,
    /// The actors the filter offers: (actor id, name).
    choices: Vec<(String, String)>,
}

impl Names {
    /// A workspace's members, application key and API keys.
    async fn of_workspace(app: &App, ws: &str, records: &[AuditRecord]) -> Result<Self, PageError> {
        let mut n = Names::default();
        let (members, _) = app.members().list(ws).await?;
        let members_tab = format!("/console/workspaces/{ws}/members");
        for m in members {
            n.choices.push((m.user_id.clone(), m.email.clone()));
            n.actors.insert(m.user_id.clone(), m.email.clone());
            n.targets
                .insert(m.user_id, (m.email, Some(members_tab.clone())));
        }
        if let Ok(token) = app
            .workspaces()
            .application_token(ws, app.clock.now())
            .await
        {
            let id = token.client.client_id;
            let name = format!("Application key {id}");
            let tab = format!("/console/workspaces/{ws}/integration");
            n.choices.push((id.clone(), name.clone()));
            n.actors.insert(id.clone(), name.clone());
            n.targets.insert(id, (name, Some(tab)));
        }
        // Keys by what the entries name (a workspace may hold thousands):
        // an actor's prefix, a target's id.
        let mut keys = Vec::new();
        for r in records {
            let a = &r.entry.actor;
            if let (ActorKind::Client, Some(id)) = (a.kind, &a.id)
                && !n.actors.contains_key(id)
            {
                keys.extend(app.api_keys.list(ws, Some(id)).await.unwrap_or_default());
            }
            if let Some(id) = r.entry.details.get("apiKeyId").and_then(|v| v.as_str())
                && let Ok(k) = app.api_keys.get(ws, id).await
            {
                keys.push(k);
            }
        }
        for k in keys {
            let name = format!("API key {} ({})", k.name, k.prefix);
            if !n.actors.contains_key(&k.prefix) {
                n.choices.push((k.prefix.clone(), name.clone()));
            }
            n.actors.insert(k.prefix.clone(), name.clone());
            n.targets.insert(
                k.id.clone(),
                (
                    name,
                    Some(format!("/console/workspaces/{ws}/api-keys/{}", k.id)),
                ),
            );
        }
        Ok(n)
    }

    fn actor(&self, r: &AuditRecord) -> String {
        let a = &r.entry.actor;
        let id = a.id.clone().unwrap_or_default();
        match a.kind {
            ActorKind::System => "keyflow".to_owned(),
            ActorKind::Cli => format!("CLI ({id})"),
            ActorKind::User | ActorKind::Client => self.actors.get(&id).cloned().unwrap_or(id),
        }
    }

    /// The entry's target: the first identifier its details carry.
    fn target(&self, r: &AuditRecord) -> (String, Option<String>) {
        for field in [
            "apiKeyId",
            "userId",
            "clientId",
            "invitationId",
            "kid",
            "jti",
        ] {
            if let Some(id) = r.entry.details.get(field).and_then(|v| v.as_str()) {
                return match self.targets.get(id) {
                    Some((name, link)) => (name.clone(), link.clone()),
                    None => (format!("{field} {id}"), None),
                };
            }
        }
        (String::new(), None)
    }
}

fn rows(records: &[AuditRecord], names: &Names) -> Vec<AuditRowView> {
    records
        .iter()
        .map(|r| {
            let (target, target_link) = names.target(r);
            AuditRowView {
                time: when(r.entry.occurred_at),
                actor: names.actor(r),
                event: event_label(r.entry.event),
                target,
                target_link,
                workspace: r.entry.workspace_id.clone().unwrap_or_default(),
                ip: r.entry.origin.ip.clone().unwrap_or_default(),
                user_agent: r.entry.origin.user_agent.clone().unwrap_or_default(),
            }
        })
        .collect()
}

fn events(f: &AuditFilter) -> Vec<Choice> {
    AuditEvent::ALL
        .iter()
        .map(|e| Choice {
            value: e.as_str().to_owned(),
            label: event_label(*e),
            selected: f.event == e.as_str(),
        })
        .collect()
}

/// The link to the next (older) page, keeping the filters.
fn older(path: &str, f: &AuditFilter, records: &[AuditRecord]) -> Option<String> {
    if records.len() < PAGE_SIZE as usize {
        return None;
    }
    let last = records.last()?.id;
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("event", &f.event),
        ("actor", &f.actor),
        ("from", &f.from),
        ("to", &f.to),
    ] {
        if !v.is_empty() {
            q.append_pair(k, v);
        }
    }
    q.append_pair("before", &last.to_string());
    Some(format!("{path}?{}", q.finish()))
}

pub async fn workspace_log(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let path = tab_path(&id);
    let session = require_session(&app, &headers, &path).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "audit").await?;
    access.require(WorkspaceAction::Administer)?;
    let (f, before) = filter(raw.as_deref());
    let (records, error) = match query(&f, Some(&id), before) {
        Ok(q) => (
            app.workspaces()
                .audit_log(&q)
                .await
                .map_err(super::integration::workspace_error)?,
            None,
        ),
        Err(e) => (Vec::new(), Some(e)),
    };
    let names = Names::of_workspace(&app, &id, &records).await?;
    let mut actors: Vec<Choice> = names
        .choices
        .iter()
        .map(|(value, label)| Choice {
            selected: f.actor == *value,
            value: value.clone(),
            label: label.clone(),
        })
        .collect();
    actors.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(shown(AuditPage {
        frame: frame(&app, &session, "workspaces"),
        rows: rows(&records, &names),
        older: older(&path, &f, &records),
        newest: before.map(|_| path.clone()),
        events: events(&f),
        actors,
        platform: false,
        action: path,
        error,
        filter: f,
        ws: Some(ws),
    }))
}

pub async fn platform_log(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, PLATFORM_PATH).await?;
    PlatformAdmin::new(&app, &session.user)?;
    let (f, before) = filter(raw.as_deref());
    let (records, error) = match query(&f, None, before) {
        Ok(q) => (
            app.workspaces()
                .audit_log(&q)
                .await
                .map_err(super::integration::workspace_error)?,
            None,
        ),
        Err(e) => (Vec::new(), Some(e)),
    };
    // Across workspaces, actors are named by the users they are.
    let mut names = Names::default();
    for (u, _) in PlatformAdmin::new(&app, &session.user)?.users().await? {
        names.actors.insert(u.id.clone(), u.email.clone());
        names
            .targets
            .insert(u.id, (u.email, Some(super::admin::USERS_PATH.to_owned())));
    }
    Ok(shown(AuditPage {
        frame: frame(&app, &session, "admin"),
        rows: rows(&records, &names),
        older: older(PLATFORM_PATH, &f, &records),
        newest: before.map(|_| PLATFORM_PATH.to_owned()),
        events: events(&f),
        actors: Vec::new(),
        platform: true,
        action: PLATFORM_PATH.to_owned(),
        error,
        filter: f,
        ws: None,
    }))
}

/// A filter that could not be read answers 400, with the page saying why.
fn shown(p: AuditPage) -> Response {
    let status = if p.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page(status, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_as_words() {
        assert_eq!(event_label(AuditEvent::ApiKeyCreated), "API key created");
        assert_eq!(
            event_label(AuditEvent::SecretRegenerated),
            "Secret regenerated"
        );
    }

    #[test]
    fn filters_become_queries_or_say_what_is_wrong() {
        let f = AuditFilter {
            event: "api_key_revoked".into(),
            actor: "u1".into(),
            from: "2027-01-15".into(),
            to: "2027-01-15".into(),
        };
        let q = query(&f, Some("w"), Some(9)).unwrap();
        assert_eq!(q.event, Some(AuditEvent::ApiKeyRevoked));
        assert_eq!(q.until.unwrap() - q.since.unwrap(), 86_400);
        assert_eq!((q.before_id, q.actor_id.as_deref()), (Some(9), Some("u1")));
        let bad = |f: AuditFilter| query(&f, None, None).unwrap_err();
        assert!(
            bad(AuditFilter {
                event: "nope".into(),
                ..AuditFilter::default()
            })
            .contains("event")
        );
        assert!(
            bad(AuditFilter {
                from: "yesterday".into(),
                ..AuditFilter::default()
            })
            .contains("From")
        );
        assert!(
            bad(AuditFilter {
                from: "2027-01-02".into(),
                to: "2027-01-01".into(),
                ..AuditFilter::default()
            })
            .contains("after")
        );
    }
}
