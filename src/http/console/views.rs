//! One view struct per console page; the templates under
//! `templates/console/` do no logic beyond loops and conditionals.

use askama::Template;
use askama_web::WebTemplate;

/// What every console page's frame shows.
#[derive(Debug, Clone)]
pub struct Frame {
    pub user_email: String,
    /// This session's CSRF token, for every form on the page.
    pub csrf: String,
    pub platform_admin: bool,
    /// The top-level section: "workspaces" or "account".
    pub nav: &'static str,
}

/// The workspace a tab belongs to.
#[derive(Debug, Clone)]
pub struct WorkspaceHeader {
    pub id: String,
    pub name: String,
    /// "Owner", "Admin", "Member", or "Platform admin (view only)".
    pub role: String,
    /// "integration", "api-keys", "members" or "audit".
    pub tab: &'static str,
    /// Whether the person administers it (owner or admin): the audit log
    /// tab shows then.
    pub administers: bool,
}

#[derive(Debug, Clone)]
pub struct WorkspaceRow {
    pub id: String,
    pub name: String,
    pub role: String,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/home.html")]
pub struct HomePage {
    pub frame: Frame,
    pub workspaces: Vec<WorkspaceRow>,
    /// Other workspaces a platform admin can look at.
    pub others: Vec<WorkspaceRow>,
    pub name: String,
    pub error: Option<String>,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/created.html")]
pub struct CreatedPage {
    pub frame: Frame,
    pub workspace_id: String,
    pub workspace_name: String,
    pub api_url: String,
    pub application_key: String,
    pub secret_key: String,
}

#[derive(Debug, Clone)]
pub struct PreviousSecretView {
    pub expires_at: String,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/integration.html")]
pub struct IntegrationPage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
    pub api_url: String,
    pub application_key: String,
    pub last_rotated: String,
    pub secret_age_days: i64,
    pub rotation_due_days: i64,
    pub rotation_due: bool,
    pub can_regenerate: bool,
    pub previous: Vec<PreviousSecretView>,
    /// When the application key last got a token.
    pub last_used: Option<String>,
    pub chart: super::chart::Chart,
    pub outcomes: Vec<&'static str>,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/regenerate.html")]
pub struct RegeneratePage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/rotated.html")]
pub struct RotatedPage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
    pub application_key: String,
    pub secret_key: String,
    /// When the previous secret stops, if it has a grace period.
    pub previous_until: Option<String>,
    pub tokens_revoked: bool,
}

#[derive(Debug, Clone)]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub is_me: bool,
    pub joined: String,
}

#[derive(Debug, Clone)]
pub struct InvitationRowView {
    pub id: String,
    pub email: String,
    pub role: &'static str,
    pub expires: String,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/members.html")]
pub struct MembersPage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
    pub members: Vec<MemberView>,
    pub invitations: Vec<InvitationRowView>,
    pub can_manage: bool,
    /// Whether the person is a member (and so may leave).
    pub is_member: bool,
    pub notice: Option<String>,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/invited.html")]
pub struct InvitedPage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
    pub email: String,
    pub role: &'static str,
    pub link: String,
    pub expires: String,
    pub emailed: bool,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/reauth.html")]
pub struct ReauthPage {
    pub frame: Frame,
    /// The form to post again, with the password.
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SessionView {
    pub signed_in: String,
    pub last_password: String,
    pub ip: String,
    pub user_agent: String,
    pub current: bool,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/account.html")]
pub struct AccountPage {
    pub frame: Frame,
    pub name: String,
    pub email: String,
    pub sessions: Vec<SessionView>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// The first-run page that creates the platform admin.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/setup.html")]
pub struct SetupPage {
    pub csrf: String,
    pub token: String,
    pub email: String,
    pub name: String,
    pub error: Option<String>,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/signup.html")]
pub struct SignupPage {
    pub csrf: String,
    pub email: String,
    pub name: String,
    pub error: Option<String>,
}

/// What the invitation page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationMode {
    /// Signed in as the invited email: one button.
    Join,
    /// The invited email has an account: sign in first.
    SignIn,
    /// No account yet: name and password.
    SignUp,
    /// Signed in as someone else.
    WrongAccount,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/invitation.html")]
pub struct InvitationPage {
    pub csrf: String,
    pub token: String,
    pub workspace_name: String,
    pub email: String,
    pub role: &'static str,
    pub mode: InvitationMode,
    pub name: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct UserRowView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub created: String,
    pub disabled: bool,
    pub platform_admin: bool,
    pub workspaces: usize,
    pub is_me: bool,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/admin_users.html")]
pub struct AdminUsersPage {
    pub frame: Frame,
    pub users: Vec<UserRowView>,
    pub notice: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ClientRowView {
    pub client_id: String,
    pub name: String,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub scopes: String,
    pub created: String,
    pub last_rotated: String,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/admin_clients.html")]
pub struct AdminClientsPage {
    pub frame: Frame,
    pub clients: Vec<ClientRowView>,
    /// The registration form, shown again after a refusal.
    pub form: ClientForm,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ClientForm {
    pub name: String,
    pub logo_uri: String,
    pub redirect_uris: String,
    pub public: bool,
    pub scopes: String,
}

/// A link or secret an admin made, shown once.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/admin_shown_once.html")]
pub struct ShownOncePage {
    pub frame: Frame,
    pub title: String,
    pub lead: String,
    /// The non-secret value shown beside it (a client id), if any.
    pub id_label: String,
    pub id_value: String,
    pub secret_label: String,
    pub secret: String,
    pub back: String,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/reset.html")]
pub struct ResetPage {
    pub csrf: String,
    pub token: String,
    pub error: Option<String>,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/forgot.html")]
pub struct ForgotPage {
    pub csrf: String,
    pub sent: bool,
}

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
    pub spark: super::chart::Sparkline,
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
    pub active: usize,
    pub never_used: usize,
    /// Active keys unused for 30 days: candidates to revoke.
    pub stale: Vec<TopKey>,
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
    pub chart: super::chart::Chart,
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

#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The audit log's filters as typed.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub event: String,
    pub actor: String,
    /// UTC days, `YYYY-MM-DD`, both included.
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone)]
pub struct AuditRowView {
    pub time: String,
    pub actor: String,
    pub event: String,
    pub target: String,
    /// The target's page, while it exists.
    pub target_link: Option<String>,
    pub workspace: String,
    pub ip: String,
    pub user_agent: String,
}

/// A workspace's audit log (`ws`), or the platform's (`platform`).
#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/audit.html")]
pub struct AuditPage {
    pub frame: Frame,
    pub ws: Option<WorkspaceHeader>,
    pub platform: bool,
    /// Where the filter form goes.
    pub action: String,
    pub filter: AuditFilter,
    pub events: Vec<Choice>,
    /// The actors to choose from (a workspace's); the platform view takes
    /// an id.
    pub actors: Vec<Choice>,
    pub rows: Vec<AuditRowView>,
    pub older: Option<String>,
    pub newest: Option<String>,
    pub error: Option<String>,
}

/// One person's grant to an app.
#[derive(Debug, Clone)]
pub struct ConnectionGrantView {
    pub email: String,
    pub scopes: Vec<String>,
    pub since: String,
}

/// One app connected to the workspace, with everyone it acts for.
#[derive(Debug, Clone)]
pub struct ConnectionView {
    pub client_id: String,
    pub name: String,
    pub logo_uri: Option<String>,
    /// The earliest grant.
    pub since: String,
    /// Every scope any person granted it.
    pub scopes: String,
    pub grants: Vec<ConnectionGrantView>,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/connections.html")]
pub struct ConnectionsPage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
    pub apps: Vec<ConnectionView>,
    pub can_disconnect: bool,
    pub notice: Option<String>,
}
