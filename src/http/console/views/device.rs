//! The views of `/device`, where a person enters a device's user code and
//! allows or denies it (RFC 8628 §3.3).

use askama::Template;
use askama_web::WebTemplate;

use super::Frame;
use crate::http::browser::pages::{ScopeView, WorkspaceView};

/// What the person confirms: which client asks for what, and where.
#[derive(Debug, Clone)]
pub struct DeviceConfirmView {
    pub client_name: String,
    pub logo_uri: Option<String>,
    /// `WDJB-MJHT`: the person compares it with the device's.
    pub user_code: String,
    pub scopes: Vec<ScopeView>,
    /// One: shown as text. Several: a `<select name="workspace">`.
    pub workspaces: Vec<WorkspaceView>,
    /// keyflow's own CLI, which acts in every workspace of the person.
    pub first_party: bool,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "console/device.html")]
pub struct DevicePage {
    pub frame: Frame,
    /// What was typed, kept in the field after a mistake.
    pub typed: String,
    pub error: Option<String>,
    pub confirm: Option<DeviceConfirmView>,
    /// After the decision: what happened.
    pub done: Option<String>,
}

impl DevicePage {
    /// After the decision.
    pub fn done(frame: Frame, message: String) -> Self {
        Self {
            frame,
            typed: String::new(),
            error: None,
            confirm: None,
            done: Some(message),
        }
    }
}
