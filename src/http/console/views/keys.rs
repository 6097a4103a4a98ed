//! The views of the API Keys tab, a key's page, and their forms.

use askama::Template;
use askama_web::WebTemplate;

use super::{Frame, WorkspaceHeader};

#[derive(Debug, Clone)]
pub struct ScopeView {
    pub name: String,
    pub description: String,
}

/// One key as the table and its page show it: never the key itself.
#[derive(Debug, Clone)]
pub struct KeyRowView {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub key_type: &'static str,
    pub scopes: Vec<ScopeView>,
    pub created_by: String,
    pub created: String,
    pub last_used: Option<String>,
    pub uses: i64,
    pub expires: Option<String>,
    /// `active`, `deactivated`, `expired` or `revoked`.
    pub status: &'static str,
    pub status_label: &'static str,
    /// Active and expiring within 7 days.
    pub expires_soon: bool,
    pub spark: crate::http::console::chart::Sparkline,
}

/// The table's search, filters and order, as the form shows them.
#[derive(Debug, Clone, Default)]
pub struct KeysFilter {
    pub q: String,
    pub status: String,
    pub key_type: String,
    pub sort: String,
}

#[derive(Debug, Clone)]
pub struct TopKey {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub count: i64,
}

/// The workspace's keys over the last 30 days.
#[derive(Debug, Clone)]
pub struct OverviewView {
    /// Every verification, whatever its outcome.
    pub verifications: i64,
    pub successes: i64,
    /// Every key, whatever its status.
    pub total: i64,
    pub active: i64,
    pub never_used: i64,
    /// Active keys unused for 30 days: candidates to revoke; the first few.
    pub stale: Vec<TopKey>,
    pub stale_count: i64,
    pub top: Vec<TopKey>,
}

#[derive(Debug, Clone)]
pub struct ScopeChoice {
    /// The checkbox's name: `scope-{name}`.
    pub field: String,
    pub name: String,
    pub description: String,
    /// The key types that may carry it, for people to read.
    pub types: String,
    /// The same as type values (`secret read_only`), for keyflow.js to
    /// hide what the chosen type may not carry.
    pub type_values: String,
    pub checked: bool,
}

#[derive(Debug, Clone)]
pub struct LimitView {
    /// `limit-read`, `limit-write`, `limit-token`.
    pub field: String,
    pub label: &'static str,
    pub default: u32,
    /// The override as typed, or empty for the default.
    pub value: String,
    pub effective: u32,
    /// Requests left right now, and seconds until the quota is whole (the
    /// key's page only).
    pub remaining: Option<u32>,
    pub refills_in: u64,
}

/// The fields of "Create API key" (and of a key's settings).
#[derive(Debug, Clone)]
pub struct KeyForm {
    pub name: String,
    pub key_type: String,
    pub scopes: Vec<ScopeChoice>,
    /// `never`, `30`, `90` or `date`.
    pub expires: String,
    pub expires_on: String,
    pub limits: Vec<LimitView>,
    /// Whether any limit is overridden (the section then starts open).
    pub limits_set: bool,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/api_keys.html")]
pub struct ApiKeysPage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
    pub rows: Vec<KeyRowView>,
    pub total: usize,
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    pub prev_link: Option<String>,
    pub next_link: Option<String>,
    pub filter: KeysFilter,
    pub can_write: bool,
    pub notice: Option<String>,
    pub overview: OverviewView,
    pub form: KeyForm,
}

/// "Create API key" without JavaScript, or shown again after a refusal.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/api_key_new.html")]
pub struct NewKeyPage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
    pub form: KeyForm,
    pub error: Option<String>,
}

/// A new (or rolled) key, shown this once.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/api_key_created.html")]
pub struct KeyCreatedPage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
    pub name: String,
    pub prefix: String,
    pub key_id: String,
    pub key: String,
    /// A `data:` URL of the key file, for the Download link.
    pub download: String,
    /// When the rolled key's predecessor stops, if it overlaps.
    pub rolled_until: Option<String>,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/api_key.html")]
pub struct ApiKeyPage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
    pub key: KeyRowView,
    pub chart: crate::http::console::chart::Chart,
    /// The table's column heads, in the chart's order.
    pub outcomes: Vec<&'static str>,
    pub can_write: bool,
    pub edit: KeyForm,
    pub notice: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/api_key_roll.html")]
pub struct RollKeyPage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
    pub key: KeyRowView,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/api_key_revoke.html")]
pub struct RevokeKeyPage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
    pub key: KeyRowView,
}
