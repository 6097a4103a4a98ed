//! The views of a workspace's Connected apps tab.

use askama::Template;
use askama_web::WebTemplate;

use super::{Frame, WorkspaceHeader};

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

/// The confirmation before an app is disconnected for everyone, when the
/// dialog could not open (no script).
#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/connection_disconnect.html")]
pub struct DisconnectAppPage {
    pub frame: Frame,
    pub ws: WorkspaceHeader,
    pub app: ConnectionView,
}
