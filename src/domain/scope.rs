//! Scopes: the catalogue of what may be asked for, and validated scope sets.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;

/// One entry of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeDefinition {
    pub name: String,
    /// Shown to people, on consent pages and in discovery tooling.
    pub description: String,
    /// Whether a workspace application token (client_credentials) may request it.
    #[serde(default = "yes")]
    pub applications: bool,
    /// Granted when an application token asks for no scope at all.
    #[serde(default)]
    pub default: bool,
}

fn yes() -> bool {
    true
}

impl ScopeDefinition {
    fn new(name: &str, description: &str, applications: bool, default: bool) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            applications,
            default,
        }
    }
}

/// All scopes keyflow knows: built-ins plus the operator's additions.
#[derive(Debug, Clone)]
pub struct ScopeCatalogue {
    scopes: BTreeMap<String, ScopeDefinition>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogueError {
    #[error("scope {0:?} is not a valid RFC 6749 scope-token")]
    InvalidName(String),
    #[error("scope {0:?} is defined twice")]
    Duplicate(String),
}

impl ScopeCatalogue {
    pub fn builtin() -> Vec<ScopeDefinition> {
        vec![
            ScopeDefinition::new(
                "api:read",
                "Read data through the workspace API",
                true,
                true,
            ),
            ScopeDefinition::new(
                "api:write",
                "Create and change data through the workspace API",
                true,
                true,
            ),
            ScopeDefinition::new(
                "workspace:read",
                "See the workspace's settings",
                true,
                false,
            ),
            ScopeDefinition::new(
                "workspace:admin",
                "Administer the workspace, including its credentials",
                true,
                false,
            ),
            ScopeDefinition::new("keys:read", "List the workspace's API keys", true, false),
            ScopeDefinition::new(
                "keys:write",
                "Create, change and revoke API keys",
                true,
                false,
            ),
            ScopeDefinition::new(
                "events:write",
                "Send events (the one scope of client API keys)",
                true,
                false,
            ),
            ScopeDefinition::new("openid", "Sign you in", false, false),
            ScopeDefinition::new("profile", "See your name", false, false),
            ScopeDefinition::new("email", "See your email address", false, false),
            ScopeDefinition::new(
                "offline_access",
                "Keep access while you are away",
                false,
                false,
            ),
        ]
    }

    /// Built-ins plus `extra`; an extra entry may redefine a built-in's
    /// description and flags, but not appear twice itself.
    pub fn new(extra: Vec<ScopeDefinition>) -> Result<Self, CatalogueError> {
        let mut scopes: BTreeMap<String, ScopeDefinition> = Self::builtin()
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect();
        let mut seen = BTreeSet::new();
        for def in extra {
            if !is_scope_token(&def.name) {
                return Err(CatalogueError::InvalidName(def.name));
            }
            if !seen.insert(def.name.clone()) {
                return Err(CatalogueError::Duplicate(def.name));
            }
            scopes.insert(def.name.clone(), def);
        }
        Ok(Self { scopes })
    }

    pub fn get(&self, name: &str) -> Option<&ScopeDefinition> {
        self.scopes.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.scopes.keys().map(String::as_str)
    }

    /// The scopes an application token gets when it asks for none.
    pub fn application_defaults(&self) -> ScopeSet {
        ScopeSet(
            self.scopes
                .values()
                .filter(|s| s.applications && s.default)
                .map(|s| s.name.clone())
                .collect(),
        )
    }

    /// Every scope an application token may request.
    pub fn application_scopes(&self) -> ScopeSet {
        ScopeSet(
            self.scopes
                .values()
                .filter(|s| s.applications)
                .map(|s| s.name.clone())
                .collect(),
        )
    }

    /// Checks a requested set for an application token (client_credentials).
    pub fn check_for_application(&self, requested: &ScopeSet) -> Result<(), ScopeError> {
        for name in requested.iter() {
            match self.scopes.get(name) {
                None => return Err(ScopeError::Unknown(name.to_owned())),
                Some(def) if !def.applications => {
                    return Err(ScopeError::NotAllowed(name.to_owned()));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

impl Default for ScopeCatalogue {
    fn default() -> Self {
        Self::new(Vec::new()).expect("built-in scopes are valid")
    }
}

/// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScopeError {
    #[error("scope {0:?} is malformed")]
    Malformed(String),
    #[error("scope {0:?} is unknown")]
    Unknown(String),
    #[error("scope {0:?} is not allowed for this client")]
    NotAllowed(String),
}

/// A set of valid scope-tokens, serialised space-separated in sorted order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeSet(BTreeSet<String>);

impl ScopeSet {
    /// RFC 6749 §3.3: a list of space-delimited scope-tokens.
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        let mut set = BTreeSet::new();
        for token in raw.split(' ').filter(|t| !t.is_empty()) {
            if !is_scope_token(token) {
                return Err(ScopeError::Malformed(token.to_owned()));
            }
            set.insert(token.to_owned());
        }
        Ok(Self(set))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl FromIterator<String> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// Serialized as the space-separated string of RFC 6749 §3.3, as stored.
impl serde::Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_sorts_space_delimited_scopes() {
        let s = ScopeSet::parse("api:write  api:read api:read").unwrap();
        assert_eq!(s.to_string(), "api:read api:write");
    }

    #[test]
    fn rejects_characters_outside_the_scope_token_grammar() {
        assert_eq!(
            ScopeSet::parse("api:read bad\"quote"),
            Err(ScopeError::Malformed("bad\"quote".into()))
        );
        assert!(ScopeSet::parse("caf\u{e9}").is_err());
        assert!(ScopeSet::parse("back\\slash").is_err());
    }

    #[test]
    fn application_policy_excludes_oidc_and_unknown_scopes() {
        let c = ScopeCatalogue::default();
        assert!(
            c.check_for_application(&ScopeSet::parse("api:read keys:write").unwrap())
                .is_ok()
        );
        assert_eq!(
            c.check_for_application(&ScopeSet::parse("openid").unwrap()),
            Err(ScopeError::NotAllowed("openid".into()))
        );
        assert_eq!(
            c.check_for_application(&ScopeSet::parse("nope").unwrap()),
            Err(ScopeError::Unknown("nope".into()))
        );
        assert_eq!(c.application_defaults().to_string(), "api:read api:write");
    }

    #[test]
    fn operator_scopes_extend_the_catalogue() {
        let extra = ScopeDefinition::new("reports:read", "Read reports", true, true);
        let c = ScopeCatalogue::new(vec![extra.clone()]).unwrap();
        assert_eq!(c.get("reports:read"), Some(&extra));
        assert_eq!(
            c.application_defaults().to_string(),
            "api:read api:write reports:read"
        );
        assert_eq!(
            ScopeCatalogue::new(vec![extra.clone(), extra]).unwrap_err(),
            CatalogueError::Duplicate("reports:read".into())
        );
        let bad = ScopeDefinition::new("has space", "x", true, false);
        assert!(matches!(
            ScopeCatalogue::new(vec![bad]),
            Err(CatalogueError::InvalidName(_))
        ));
    }
}
