//! Users: who they are in a workspace, and their passwords.
//!
//! Passwords are hashed with Argon2id at the OWASP Password Storage Cheat
//! Sheet's first recommended setting (19 MiB, 2 iterations, 1 lane). That
//! costs tens of milliseconds on purpose, so it runs only at login and
//! never on a token or verification path.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::domain::scope::ScopeSet;
use crate::domain::user_record::Membership;

/// A user's role in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Owners and admins may hand a client the workspace's administrative
    /// scopes; members may not.
    pub fn administers(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Role::Owner, Role::Admin, Role::Member]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}: use owner, admin or member"))
    }
}

/// Scopes that act as the workspace's administrator. Only owners and admins
/// may hand them to a client; for members they are left out of the grant
/// (RFC 6749 §3.3 lets the server grant less than was asked).
pub const ADMIN_SCOPES: &[&str] = &["workspace:admin", "keys:write"];

/// What `role` may grant of `requested`.
pub fn grantable(requested: &ScopeSet, role: Role) -> ScopeSet {
    requested
        .iter()
        .filter(|s| role.administers() || !ADMIN_SCOPES.contains(s))
        .map(str::to_owned)
        .collect()
}

/// The role a grant made to `client_id` acts with in `workspace_id`, given
/// the person's memberships; `None` if it has
/// none. keyflow's own CLI acts as the person in every workspace
/// (docs/cli.md), so its grant carries their highest role anywhere, the
/// workspace it was made in being only the default; any other client's
/// grant, their role in that workspace.
pub fn grant_role(memberships: &[Membership], workspace_id: &str, client_id: &str) -> Option<Role> {
    let everywhere = client_id == crate::domain::client::CLI_CLIENT_ID;
    memberships
        .iter()
        .filter(|m| everywhere || m.workspace_id == workspace_id)
        .map(|m| m.role)
        // Owner < Admin < Member: the least is the highest role.
        .min()
}

/// Emails are compared case-insensitively: stored and looked up trimmed and
/// lower-cased. `None` when it cannot be an address.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(email)
}

/// The shortest password `user create` accepts (NIST SP 800-63B §3.1.1.2).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longer input is refused before hashing, so nobody can make the server
/// hash megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP Argon2id parameters are valid");
    Argon2::new(argon2::Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must be at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// An Argon2id PHC string for `password`, with a random salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// A hash nobody's password matches, checked when the account does not
/// exist so that a login takes as long for unknown emails as for known ones.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_password(&crate::domain::secret::random_base62(32)).expect("hashing a random password")
});

/// Checks `password` against `stored` (or against a dummy hash when there
/// is no account) in about the same time either way.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let password = Zeroizing::new(password.to_owned());
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let candidate = stored.unwrap_or(DUMMY_HASH.as_str());
    let Ok(parsed) = PasswordHash::new(candidate) else {
        tracing::error!("a stored password hash is not a PHC string");
        return false;
    };
    argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_acts_with_the_role_in_its_workspace_and_the_cli_with_the_highest() {
        let member = |workspace: &str, role| Membership {
            workspace_id: workspace.into(),
            workspace_name: workspace.into(),
            role,
        };
        let all = [member("ws_a", Role::Member), member("ws_b", Role::Admin)];
        assert_eq!(grant_role(&all, "ws_a", "make"), Some(Role::Member));
        assert_eq!(grant_role(&all, "ws_b", "make"), Some(Role::Admin));
        assert_eq!(grant_role(&all, "ws_c", "make"), None);
        let cli = crate::domain::client::CLI_CLIENT_ID;
        assert_eq!(grant_role(&all, "ws_a", cli), Some(Role::Admin));
        // The CLI's workspace is only its default: it keeps acting elsewhere.
        assert_eq!(grant_role(&all, "ws_c", cli), Some(Role::Admin));
        assert_eq!(grant_role(&[], "ws_a", cli), None);
    }

    #[test]
    fn hashes_with_argon2id_and_verifies() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse", Some(&h)));
        assert!(!verify_password("wrong horse", Some(&h)));
        assert!(!verify_password("correct horse", None));
        assert_ne!(h, hash_password("correct horse").unwrap(), "salted");
    }

    #[test]
    fn refuses_short_and_huge_passwords() {
        assert!(matches!(
            hash_password("short"),
            Err(PasswordError::TooShort)
        ));
        assert!(matches!(
            hash_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(PasswordError::TooLong)
        ));
    }

    #[test]
    fn emails_are_normalized() {
        assert_eq!(
            normalize_email(" Ann@Example.COM "),
            Some("ann@example.com".into())
        );
        for bad in ["", "ann", "@x", "ann@", "a@b@c", "a b@c"] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn members_cannot_grant_admin_scopes() {
        let asked = ScopeSet::parse("openid api:read keys:write workspace:admin").unwrap();
        assert_eq!(
            grantable(&asked, Role::Member).to_string(),
            "api:read openid"
        );
        assert_eq!(grantable(&asked, Role::Admin), asked);
    }

    #[test]
    fn roles_parse() {
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
        assert!(Role::Owner.administers() && !Role::Member.administers());
    }
}
