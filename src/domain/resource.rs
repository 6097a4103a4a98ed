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
    /// RFC 8707 §2.2: beyond what the authorization request named.
    #[error("resource {0:?} was not named in the authorization request")]
    NotGranted(String),
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

    /// The audience of a token issued from a user's grant. RFC 8707 §2.2:
    /// the token request may name the resources of the authorization
    /// request or fewer; naming none means all of them. A grant that named
    /// none at authorization may name any the server serves.
    pub fn audience_within(
        &self,
        granted: &[String],
        requested: &[String],
    ) -> Result<Vec<String>, ResourceError> {
        let requested = if requested.is_empty() {
            granted
        } else {
            requested
        };
        if !granted.is_empty()
            && let Some(r) = requested.iter().find(|r| !granted.contains(r))
        {
            return Err(ResourceError::NotGranted(r.clone()));
        }
        self.audience(requested)
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

    #[test]
    fn a_users_grant_bounds_the_token_requests_resources() {
        let p = policy();
        let reports = "https://reports.example".to_string();
        let granted = [reports.clone()];
        assert_eq!(p.audience_within(&granted, &[]).unwrap(), granted);
        assert_eq!(
            p.audience_within(&granted, &["https://as/v1".into()]),
            Err(ResourceError::NotGranted("https://as/v1".into()))
        );
        assert_eq!(p.audience_within(&[], &[]).unwrap(), vec!["https://as/v1"]);
        assert_eq!(
            p.audience_within(&[], std::slice::from_ref(&reports))
                .unwrap(),
            vec![reports]
        );
    }
}
