//! The domain: scopes, secrets, workspaces, grants and tokens. No HTTP or
//! SQL types appear here.

pub mod access_token;
pub mod api_key;
pub mod api_key_record;
pub mod audit;
pub mod authorization_code;
pub mod authorize_request;
pub mod client;
pub mod consent;
pub mod device_code;
pub mod grants;
pub mod id_token;
pub mod invitation;
pub mod issuance;
pub mod json;
pub mod one_time_link;
pub mod permission;
pub mod pkce;
pub mod redirect_uri;
pub mod resource;
pub mod scope;
pub mod secret;
pub mod session;
pub mod usage;
pub mod user;
pub mod user_record;
pub mod workspace;

/// The longest name a person may give a workspace, client or key.
pub const MAX_LABEL_CHARS: usize = 200;

/// A name people give things: trimmed, 1 to [`MAX_LABEL_CHARS`]
/// characters, no control characters.
pub fn label(name: &str) -> Option<&str> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_LABEL_CHARS
        && !name.chars().any(char::is_control);
    ok.then_some(name)
}
