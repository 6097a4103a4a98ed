//! The pages people see, rendered server-side from `templates/` by askama.
//! They work without JavaScript; field names (`username`, `password`,
//! `workspace`, `decision`) are the interface browsers and tests use.

use askama::Template;
use askama_web::WebTemplate;

/// The application asking for access, as shown to the user.
#[derive(Debug, Clone)]
pub struct ClientView {
    pub name: String,
    pub logo_uri: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ScopeView {
    pub name: String,
    pub description: String,
    /// Granted only in workspaces where the user is an owner or admin.
    pub admin_only: bool,
}

impl ScopeView {
    /// What a consent asks for, each scope with its catalogue description:
    /// the consent page's and `/device`'s list.
    pub fn list(
        scope: &crate::domain::scope::ScopeSet,
        catalogue: &crate::domain::scope::ScopeCatalogue,
    ) -> Vec<Self> {
        scope
            .iter()
            .map(|s| ScopeView {
                admin_only: crate::domain::user::ADMIN_SCOPES.contains(&s),
                name: s.to_owned(),
                description: catalogue
                    .get(s)
                    .map_or_else(|| s.to_owned(), |d| d.description.clone()),
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct WorkspaceView {
    pub id: String,
    pub name: String,
}

impl WorkspaceView {
    /// The workspaces a person may grant in.
    pub fn list(memberships: &[crate::storage::Membership]) -> Vec<Self> {
        memberships
            .iter()
            .map(|m| WorkspaceView {
                id: m.workspace_id.clone(),
                name: m.workspace_name.clone(),
            })
            .collect()
    }
}

/// One connected app on the account page.
#[derive(Debug, Clone)]
pub struct AppView {
    pub client_id: String,
    pub client_name: String,
    pub logo_uri: Option<String>,
    pub workspace_id: String,
    pub workspace_name: String,
    pub scopes: Vec<String>,
    /// `YYYY-MM-DD`.
    pub granted_on: String,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// The application the user is signing in for, if any.
    pub client: Option<ClientView>,
    pub csrf: String,
    /// The authorization request's query string, carried through the form.
    pub request: String,
    /// A local path to go to after signing in, when not in an OAuth flow.
    pub return_to: String,
    pub username: String,
    pub error: Option<String>,
    /// Seconds until another attempt may succeed, when throttled.
    pub retry_after: Option<u64>,
    /// Shown above the form (after a password reset).
    pub notice: Option<String>,
    /// "Forgot your password?" works only when keyflow sends email.
    pub can_reset: bool,
    /// "Create an account" under `--signup open`.
    pub signup_open: bool,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    pub client: ClientView,
    pub user_email: String,
    pub csrf: String,
    pub request: String,
    pub scopes: Vec<ScopeView>,
    /// One entry: shown as text. Several: a `<select name="workspace">`.
    pub workspaces: Vec<WorkspaceView>,
    /// keyflow's own CLI, which acts in every workspace of the person.
    pub first_party: bool,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: String,
    pub message: String,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "apps.html")]
pub struct AppsPage {
    pub frame: crate::http::console::Frame,
    pub apps: Vec<AppView>,
    pub notice: Option<String>,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    pub csrf: String,
    pub client: Option<ClientView>,
    pub client_id: String,
    pub post_logout_redirect_uri: String,
    pub state: String,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "signed_out.html")]
pub struct SignedOutPage {}
