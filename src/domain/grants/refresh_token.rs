//! The refresh_token grant (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2): the rules, apart from the store that holds the
//! tokens.

use crate::clock::UnixTime;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::Redacted;
use crate::domain::user::{Role, grantable};

/// The token request of the grant.
pub struct RefreshTokenRequest {
    pub refresh_token: String,
    /// `None` when the request has no `scope`: the whole grant (RFC 6749 §6).
    pub scope: Option<ScopeSet>,
    /// RFC 8707 §2.2.
    pub resources: Vec<String>,
}

impl std::fmt::Debug for RefreshTokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshTokenRequest")
            .field("refresh_token", &Redacted)
            .field("scope", &self.scope)
            .field("resources", &self.resources)
            .finish()
    }
}

/// What a stored refresh token is bound to, as far as these rules look.
#[derive(Debug, Clone, Copy)]
pub struct HeldRefreshToken<'a> {
    pub client_id: &'a str,
    pub expires_at: UnixTime,
    /// When a successor was issued.
    pub rotated_at: Option<UnixTime>,
    pub revoked_at: Option<UnixTime>,
}

/// Why a refresh token cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshRejection {
    #[error("the refresh token is invalid")]
    Unknown,
    /// Another client's token gets the answer of an unknown one.
    #[error("the refresh token is invalid")]
    OtherClient,
    #[error("the refresh token has been revoked")]
    Revoked,
    #[error("the refresh token has expired")]
    Expired,
    /// Presented again after the grace period: every token of its grant
    /// must be revoked (RFC 9700 §4.14.2).
    #[error("the refresh token has already been used; every token of its grant is revoked")]
    Reused,
    /// Another request rotated it between our read and our write.
    #[error("the refresh token is no longer valid")]
    RotatedMeanwhile,
    #[error("the user no longer belongs to the workspace")]
    NotAMember,
    #[error("the user no longer exists or is disabled")]
    UserGone,
    /// `invalid_scope` (RFC 6749 §6): the scope may shrink, never grow.
    #[error("scope {0:?} was not granted")]
    ScopeNotGranted(String),
    /// `invalid_scope`.
    #[error(
        "neither the user's role nor the client's registration still grants any of the requested scopes"
    )]
    NoScopeLeft,
}

impl RefreshRejection {
    /// `invalid_scope` rather than `invalid_grant` (RFC 6749 §5.2).
    pub fn is_scope(&self) -> bool {
        matches!(self, Self::ScopeNotGranted(_) | Self::NoScopeLeft)
    }
}

/// May `client_id` use `token` at `now`? A token rotated less than `grace`
/// seconds ago still works, so that a client whose answer was lost can
/// retry (RFC 9700 §4.14.2 leaves the policy to the server).
pub fn check(
    token: &HeldRefreshToken<'_>,
    client_id: &str,
    now: UnixTime,
    grace: i64,
) -> Result<(), RefreshRejection> {
    // RFC 6749 §6: bound to the client it was issued to.
    if token.client_id != client_id {
        return Err(RefreshRejection::OtherClient);
    }
    if token.revoked_at.is_some() {
        return Err(RefreshRejection::Revoked);
    }
    if now >= token.expires_at {
        return Err(RefreshRejection::Expired);
    }
    if token.rotated_at.is_some_and(|at| now - at > grace) {
        return Err(RefreshRejection::Reused);
    }
    Ok(())
}

/// The oldest rotation a retry may still follow.
pub fn reuse_cutoff(now: UnixTime, grace: i64) -> UnixTime {
    now - grace
}

/// RFC 6749 §6: the requested scope "MUST NOT include any scope not
/// originally granted"; none requested means the whole grant.
pub fn requested_scope(
    granted: &ScopeSet,
    requested: Option<ScopeSet>,
) -> Result<ScopeSet, RefreshRejection> {
    let requested = requested.unwrap_or_else(|| granted.clone());
    if let Some(extra) = requested.iter().find(|s| !granted.contains(s)) {
        return Err(RefreshRejection::ScopeNotGranted(extra.to_owned()));
    }
    Ok(requested)
}

/// The user may have lost a role, and the operator may have narrowed the
/// client's scopes (`keyflow client update`), since the grant: a refresh
/// gets no scope either no longer allows.
pub fn refreshed_scope(
    requested: &ScopeSet,
    role: Role,
    registered: &ScopeSet,
) -> Result<ScopeSet, RefreshRejection> {
    let scope: ScopeSet = grantable(requested, role)
        .iter()
        .filter(|s| registered.contains(s))
        .map(str::to_owned)
        .collect();
    if scope.is_empty() {
        return Err(RefreshRejection::NoScopeLeft);
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(
        rotated_at: Option<UnixTime>,
        revoked_at: Option<UnixTime>,
    ) -> HeldRefreshToken<'static> {
        HeldRefreshToken {
            client_id: "cli_a",
            expires_at: 1_000,
            rotated_at,
            revoked_at,
        }
    }

    fn scopes(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    #[test]
    fn a_fresh_token_works_for_its_client() {
        assert_eq!(check(&token(None, None), "cli_a", 999, 10), Ok(()));
        assert_eq!(
            check(&token(None, None), "cli_b", 0, 10),
            Err(RefreshRejection::OtherClient)
        );
    }

    #[test]
    fn revoked_and_expired_tokens_are_refused() {
        assert_eq!(
            check(&token(None, Some(5)), "cli_a", 10, 10),
            Err(RefreshRejection::Revoked)
        );
        assert_eq!(
            check(&token(None, None), "cli_a", 1_000, 10),
            Err(RefreshRejection::Expired)
        );
    }

    #[test]
    fn reuse_is_forgiven_only_within_the_grace_period() {
        assert_eq!(check(&token(Some(100), None), "cli_a", 110, 10), Ok(()));
        assert_eq!(
            check(&token(Some(100), None), "cli_a", 111, 10),
            Err(RefreshRejection::Reused)
        );
        assert_eq!(reuse_cutoff(111, 10), 101);
    }

    #[test]
    fn the_scope_may_shrink_but_never_grow() {
        let granted = scopes("openid api:read");
        assert_eq!(requested_scope(&granted, None).unwrap(), granted);
        assert_eq!(
            requested_scope(&granted, Some(scopes("api:read"))).unwrap(),
            scopes("api:read")
        );
        let e = requested_scope(&granted, Some(scopes("api:write"))).unwrap_err();
        assert_eq!(e, RefreshRejection::ScopeNotGranted("api:write".into()));
        assert!(e.is_scope());
    }

    #[test]
    fn role_and_registration_narrow_the_refresh() {
        let requested = scopes("openid workspace:admin api:read");
        let registered = scopes("openid workspace:admin");
        assert_eq!(
            refreshed_scope(&requested, Role::Member, &registered).unwrap(),
            scopes("openid")
        );
        assert_eq!(
            refreshed_scope(&requested, Role::Owner, &registered).unwrap(),
            scopes("openid workspace:admin")
        );
        assert_eq!(
            refreshed_scope(&scopes("api:read"), Role::Owner, &registered),
            Err(RefreshRejection::NoScopeLeft)
        );
    }
}
