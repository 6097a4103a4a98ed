//! Resource indicators (RFC 8707): which audiences a token may be issued for.

use std::collections::BTreeSet;

#[derive(Debug, Clone)]
pub struct ResourcePolicy {
    default_audience: String,
    allowed: BTreeSet<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResourceError {
    /// RFC 8707 §2: an absolute URI without a fragment.
    #[error("resource {0:?} is not an absolute URI without a fragment")]
    Malformed(String),
    #[error("resource {0:?} is not served by this authorization server")]
    Unknown(String),
}

impl ResourcePolicy {
    /// `allowed` lists every resource a client may name; the default audience
    /// is always allowed.
    pub fn new(default_audience: String, allowed: impl IntoIterator<Item = String>) -> Self {
        let mut allowed: BTreeSet<String> = allowed.into_iter().collect();
        allowed.insert(default_audience.clone());
        Self {
            default_audience,
            allowed,
        }
    }

    /// Every audience a token may carry.
    pub fn all(&self) -> impl Iterator<Item = String> + '_ {
        self.allowed.iter().cloned()
    }

    pub fn default_audience(&self) -> &str {
        &self.default_audience
    }

    /// The token's audience: the requested resources, or the default when the
    /// client named none (RFC 8707 §2).
    pub fn audience(&self, requested: &[String]) -> Result<Vec<String>, ResourceError> {
        if requested.is_empty() {
            return Ok(vec![self.default_audience.clone()]);
        }
        let mut aud = Vec::with_capacity(requested.len());
        for r in requested {
            match url::Url::parse(r) {
                Ok(u) if u.fragment().is_none() => {}
                _ => return Err(ResourceError::Malformed(r.clone())),
            }
            if !self.allowed.contains(r) {
                return Err(ResourceError::Unknown(r.clone()));
            }
            if !aud.contains(r) {
                aud.push(r.clone());
            }
        }
        Ok(aud)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ResourcePolicy {
        ResourcePolicy::new(
            "https://as/v1".into(),
            ["https://reports.example".to_string()],
        )
    }

    #[test]
    fn defaults_when_no_resource_is_named() {
        assert_eq!(policy().audience(&[]).unwrap(), vec!["https://as/v1"]);
    }

    #[test]
    fn accepts_configured_resources_and_dedups() {
        let r = "https://reports.example".to_string();
        assert_eq!(policy().audience(&[r.clone(), r.clone()]).unwrap(), vec![r]);
    }

    #[test]
    fn rejects_relative_fragment_and_unknown_resources() {
        let p = policy();
        assert!(matches!(
            p.audience(&["/relative".into()]),
            Err(ResourceError::Malformed(_))
        ));
        assert!(matches!(
            p.audience(&["https://reports.example#x".into()]),
            Err(ResourceError::Malformed(_))
        ));
        assert!(matches!(
            p.audience(&["https://evil.example".into()]),
            Err(ResourceError::Unknown(_))
        ));
    }
}
