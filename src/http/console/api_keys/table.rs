//! The key table: each key as a row, the search, filters and paging, the
//! names of creators, and the workspace's overview.

use super::*;

/// `?q&status&type&sort&page&done`: the table's view.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    pub(super) q: Option<String>,
    pub(super) status: Option<String>,
    #[serde(rename = "type")]
    pub(super) key_type: Option<String>,
    pub(super) sort: Option<String>,
    pub(super) page: Option<usize>,
    pub(super) done: Option<String>,
}

/// The status a person sees: the stored one, and "expires soon".
pub(super) fn shown_status(k: &ApiKeyRecord, now: UnixTime) -> (&'static str, &'static str, bool) {
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

pub(super) fn type_label(t: ApiKeyType) -> &'static str {
    match t {
        ApiKeyType::Secret => "Secret",
        ApiKeyType::Client => "Client",
        ApiKeyType::ReadOnly => "Read-only",
    }
}

/// Names for the `created_by` ids of the keys shown: the workspace's
/// members, its application key, and the keys that made them.
pub(super) struct Creators(HashMap<String, String>);

impl Creators {
    pub(super) async fn of(
        app: &App,
        workspace_id: &str,
        keys: &[ApiKeyRecord],
    ) -> Result<Self, PageError> {
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
        // A key made by another key names that key's id; an id found
        // nowhere is shown as it is, and looked up once.
        for k in keys {
            if names.contains_key(&k.created_by) {
                continue;
            }
            let name = match app.api_keys.get(workspace_id, &k.created_by).await {
                Ok(by) => format!("API key {}", by.prefix),
                Err(_) => k.created_by.clone(),
            };
            names.insert(k.created_by.clone(), name);
        }
        Ok(Self(names))
    }

    pub(super) fn name(&self, id: &str) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }
}

pub(super) fn row(
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

/// The rows of the keys shown, with their sparklines of `range`, read in
/// one statement.
pub(super) async fn rows(
    app: &App,
    workspace_id: &str,
    shown: &[ApiKeyRecord],
    creators: &Creators,
    range: DayRange,
    now: UnixTime,
) -> Result<Vec<KeyRowView>, PageError> {
    let ids: Vec<&str> = shown.iter().map(|k| k.id.as_str()).collect();
    let usage = app
        .usage_reports()
        .api_keys(workspace_id, &ids, range)
        .await?;
    let empty = UsageSeries::from_rows(range.from, range.to, &[]);
    Ok(shown
        .iter()
        .map(|k| row(app, k, creators, usage.get(&k.id), &empty, now))
        .collect())
}

/// The filters as the form shows them, normalised: unknown values are
/// ignored rather than refused, as a search box would.
pub(super) fn filter(q: &ListQuery) -> KeysFilter {
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

/// The link to another page of the same view.
pub(super) fn page_link(ws: &str, f: &KeysFilter, page: usize) -> String {
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

pub(super) fn notice_text(done: Option<&str>) -> Option<String> {
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

/// The store's query for the table's view, page `page` (from 1).
pub(super) fn list_query(f: &KeysFilter, now: UnixTime, page: usize) -> KeyListQuery {
    KeyListQuery {
        search: (!f.q.is_empty()).then(|| f.q.clone()),
        status: ["active", "deactivated", "expired", "revoked", "expiring"]
            .into_iter()
            .find(|s| *s == f.status),
        key_type: f.key_type.parse().ok(),
        sort: match f.sort.as_str() {
            "last_used" => KeySort::LastUsed,
            "created_asc" => KeySort::OldestFirst,
            _ => KeySort::NewestFirst,
        },
        now,
        expiring_before: now + EXPIRES_SOON_DAYS * 86_400,
        offset: ((page.max(1) - 1) * PAGE_SIZE) as u64,
        limit: PAGE_SIZE as u64,
    }
}

/// Stale keys the overview names; the rest are counted.
const STALE_SHOWN: u64 = 10;

/// The workspace's keys and their use over `range`, in figures.
pub(super) async fn overview(
    app: &App,
    ws: &str,
    range: DayRange,
    now: UnixTime,
) -> Result<OverviewView, PageError> {
    let o = app
        .api_keys
        .overview(ws, range, now - STALE_DAYS * 86_400, STALE_SHOWN)
        .await
        .map_err(key_error)?;
    let mut top = Vec::new();
    for (id, count) in o.top.iter().cloned() {
        if let Ok(k) = app.api_keys.get(ws, &id).await {
            top.push(TopKey {
                id,
                name: k.name,
                prefix: k.prefix,
                count,
            });
        }
    }
    let named = |k: &ApiKeyRecord| TopKey {
        id: k.id.clone(),
        name: k.name.clone(),
        prefix: k.prefix.clone(),
        count: 0,
    };
    Ok(OverviewView {
        verifications: o.totals.iter().sum(),
        successes: o.totals[Outcome::Success.index()],
        total: o.counts.total,
        active: o.counts.active,
        never_used: o.counts.never_used,
        stale_count: o.counts.stale,
        stale: o.stale.iter().map(named).collect(),
        top,
    })
}
