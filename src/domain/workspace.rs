//! Workspaces and their application token (the workspace's confidential client).

use crate::clock::UnixTime;
use crate::domain::secret::{PlainSecret, random_base62};

pub const APPLICATION_KEY_PREFIX: &str = "app_";
pub const SECRET_KEY_PREFIX: &str = "sec_";
/// 24 base62 characters: about 143 bits, so keys are not guessable either.
const APPLICATION_KEY_CHARS: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub created_at: UnixTime,
}

pub fn new_workspace_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The public half of an application token; it is the OAuth client_id.
pub fn new_application_key() -> String {
    format!(
        "{APPLICATION_KEY_PREFIX}{}",
        random_base62(APPLICATION_KEY_CHARS)
    )
}

/// The secret half; it is the OAuth client_secret.
pub fn new_secret_key() -> PlainSecret {
    PlainSecret::generate(SECRET_KEY_PREFIX)
}

/// Builds `apiUrl` for a workspace from the operator's template, for example
/// `https://{workspaceId}.api.example.com/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUrlTemplate(String);

impl ApiUrlTemplate {
    pub const DEFAULT: &'static str = "{issuer}/v1/workspace/{workspaceId}";

    /// Fails unless the template names `{workspaceId}` and renders to an
    /// absolute http(s) URL.
    pub fn new(template: &str, issuer: &str) -> Result<Self, String> {
        if !template.contains("{workspaceId}") {
            return Err("must contain {workspaceId}".into());
        }
        let t = Self(template.to_owned());
        let sample = t.render(issuer, "00000000-0000-0000-0000-000000000000");
        match url::Url::parse(&sample) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(t),
            _ => Err(format!(
                "renders to {sample:?}, which is not an absolute http(s) URL"
            )),
        }
    }

    pub fn render(&self, issuer: &str, workspace_id: &str) -> String {
        self.0
            .replace("{issuer}", issuer.trim_end_matches('/'))
            .replace("{workspaceId}", workspace_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_keys_are_prefixed_and_long_enough() {
        let k = new_application_key();
        assert!(k.starts_with("app_"));
        assert!(k.len() >= 4 + 16);
        assert_ne!(k, new_application_key());
    }

    #[test]
    fn renders_default_and_custom_templates() {
        let d = ApiUrlTemplate::new(ApiUrlTemplate::DEFAULT, "http://127.0.0.1:8080").unwrap();
        assert_eq!(
            d.render("http://127.0.0.1:8080/", "w1"),
            "http://127.0.0.1:8080/v1/workspace/w1"
        );
        let c = ApiUrlTemplate::new("https://{workspaceId}.api.example.com/", "x").unwrap();
        assert_eq!(c.render("x", "w1"), "https://w1.api.example.com/");
    }

    #[test]
    fn rejects_templates_without_workspace_or_not_urls() {
        assert!(ApiUrlTemplate::new("https://api.example.com/", "x").is_err());
        assert!(ApiUrlTemplate::new("not a url {workspaceId}", "x").is_err());
    }
}
