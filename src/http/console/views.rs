//! One view struct per console page; the templates under
//! `templates/console/` do no logic beyond loops and conditionals.

use askama::Template;
use askama_web::WebTemplate;

mod connections;
mod device;
mod keys;
pub use connections::*;
pub use device::*;
pub use keys::*;

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
    /// RFC 8628: registered for device sign-in.
    pub device_grant: bool,
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
    /// The `grant_device_code` checkbox (RFC 8628).
    pub device_grant: bool,
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
