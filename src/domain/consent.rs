//! Consent: what a user granted a client in a workspace, and when a request
//! is already covered by it.

use crate::clock::UnixTime;
use crate::domain::scope::ScopeSet;
use crate::domain::user::{Role, grantable};

/// What a user allowed a client to do in a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub user_id: String,
    pub client_id: String,
    pub workspace_id: String,
    pub scope: ScopeSet,
    pub granted_at: UnixTime,
}

/// A consent with the names to show on the connected apps page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedApp {
    pub consent: ConsentRecord,
    pub client_name: String,
    pub logo_uri: Option<String>,
    pub workspace_name: String,
    /// The person who consented.
    pub user_email: String,
}

/// Whether a stored grant covers a request, so that no consent page is
/// shown (OIDC Core §3.1.2.4: the server may use a prior consent). Only
/// what the user's role can grant counts, and a role that grants nothing of
/// the request is never covered: the consent page refuses it instead.
pub fn covers(requested: &ScopeSet, role: Role, granted: &ScopeSet) -> bool {
    let grantable = grantable(requested, role);
    !grantable.is_empty() && grantable.iter().all(|s| granted.contains(s))
}

/// What to remember after the user allowed `now`: the union with what was
/// granted before, so that asking for a subset later needs no new consent.
pub fn merge(now: &ScopeSet, previous: Option<&ScopeSet>) -> ScopeSet {
    now.iter()
        .chain(previous.into_iter().flat_map(ScopeSet::iter))
        .map(str::to_owned)
        .collect()
}

/// Of the candidates that cover a request, the most recently granted.
pub fn latest<T>(covering: impl IntoIterator<Item = (T, UnixTime)>) -> Option<T> {
    covering
        .into_iter()
        .fold(None, |best: Option<(T, UnixTime)>, (c, at)| match best {
            Some((_, best_at)) if best_at >= at => best,
            _ => Some((c, at)),
        })
        .map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    #[test]
    fn a_subset_of_the_grant_is_covered_and_a_new_scope_asks_again() {
        let granted = scopes("openid reports:read reports:write");
        assert!(covers(
            &scopes("openid reports:read"),
            Role::Member,
            &granted
        ));
        assert!(!covers(&scopes("openid profile"), Role::Member, &granted));
    }

    #[test]
    fn only_what_the_role_can_grant_counts() {
        // A member cannot grant the admin scope, so its absence from the
        // grant does not matter; for an owner it does.
        let granted = scopes("openid");
        let requested = scopes("openid workspace:admin");
        assert!(covers(&requested, Role::Member, &granted));
        assert!(!covers(&requested, Role::Owner, &granted));
    }

    #[test]
    fn a_role_that_grants_nothing_is_never_covered() {
        assert!(!covers(
            &scopes("workspace:admin"),
            Role::Member,
            &scopes("workspace:admin")
        ));
    }

    #[test]
    fn consent_is_remembered_as_the_union() {
        let merged = merge(&scopes("openid b"), Some(&scopes("a openid")));
        assert_eq!(merged, scopes("a b openid"));
        assert_eq!(merge(&scopes("x"), None), scopes("x"));
    }

    #[test]
    fn the_latest_grant_wins_and_ties_keep_the_first() {
        assert_eq!(latest([("a", 5), ("b", 9), ("c", 7)]), Some("b"));
        assert_eq!(latest([("a", 5), ("b", 5)]), Some("a"));
        assert_eq!(latest::<&str>([]), None);
    }
}
