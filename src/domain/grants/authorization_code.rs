//! Redeeming an authorization code (RFC 6749 §4.1.3) bound to a PKCE
//! challenge (RFC 7636 §4.6): the rules, apart from the store that holds
//! the code.

use crate::clock::UnixTime;
use crate::domain::pkce;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::Redacted;
use crate::domain::user::{Role, grantable};

/// The token request of the grant.
pub struct AuthorizationCodeRequest {
    pub code: String,
    /// Required because keyflow's authorization endpoint always requires it
    /// (RFC 6749 §4.1.3).
    pub redirect_uri: String,
    /// RFC 9700 §2.1.1: every code is bound to a PKCE challenge.
    pub code_verifier: String,
    /// RFC 8707 §2.2.
    pub resources: Vec<String>,
}

impl std::fmt::Debug for AuthorizationCodeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationCodeRequest")
            .field("code", &Redacted)
            .field("redirect_uri", &self.redirect_uri)
            .field("code_verifier", &Redacted)
            .field("resources", &self.resources)
            .finish()
    }
}

/// The stages of an authorization code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeStage {
    /// Issued, not yet redeemed.
    Pending,
    /// Redeemed once; any further attempt is a replay (RFC 6749 §4.1.2).
    Exchanged,
    /// Spent unredeemed because the user withdrew consent.
    Revoked,
}

/// What a stored code is bound to, as far as these rules look.
#[derive(Debug, Clone, Copy)]
pub struct IssuedCode<'a> {
    pub client_id: &'a str,
    pub stage: CodeStage,
    pub expires_at: UnixTime,
    pub redirect_uri: &'a str,
    /// RFC 7636 §4.2, S256.
    pub code_challenge: &'a str,
}

/// Why a code cannot be redeemed; each is `invalid_grant` (RFC 6749 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRejection {
    #[error("the authorization code is invalid")]
    Unknown,
    /// A code stolen by another client gets the answer of an unknown one.
    #[error("the authorization code is invalid")]
    OtherClient,
    /// Every token of the grant must be revoked (RFC 6749 §4.1.2).
    #[error("the authorization code has already been used; its tokens are revoked")]
    Replayed,
    #[error("the authorization code was revoked when the user disconnected the app")]
    Revoked,
    #[error("the authorization code has expired")]
    Expired,
    #[error("redirect_uri differs from the one in the authorization request")]
    RedirectUriMismatch,
    #[error("code_verifier does not match the code_challenge")]
    VerifierMismatch,
    #[error("the user no longer exists or is disabled")]
    UserGone,
    #[error("the user no longer belongs to the workspace")]
    NotAMember,
    #[error("the user's role no longer grants any of the scopes")]
    NoScopeLeft,
}

/// May `client_id` redeem `code` with `request` at `now`? The checks run in
/// this order, so that a replay is caught before anything else is said.
pub fn check(
    code: &IssuedCode<'_>,
    client_id: &str,
    request: &AuthorizationCodeRequest,
    now: UnixTime,
) -> Result<(), CodeRejection> {
    // RFC 6749 §4.1.3: issued to this client.
    if code.client_id != client_id {
        return Err(CodeRejection::OtherClient);
    }
    match code.stage {
        CodeStage::Pending => {}
        CodeStage::Exchanged => return Err(CodeRejection::Replayed),
        CodeStage::Revoked => return Err(CodeRejection::Revoked),
    }
    if now >= code.expires_at {
        return Err(CodeRejection::Expired);
    }
    // RFC 6749 §4.1.3: identical to the authorization request's.
    if code.redirect_uri != request.redirect_uri {
        return Err(CodeRejection::RedirectUriMismatch);
    }
    // RFC 7636 §4.6.
    if !pkce::verify(&request.code_verifier, code.code_challenge) {
        return Err(CodeRejection::VerifierMismatch);
    }
    Ok(())
}

/// The user may have left the workspace (`role` is `None`) or changed role
/// since consenting: the tokens carry what the role still grants.
pub fn scope_for(consented: &ScopeSet, role: Option<Role>) -> Result<ScopeSet, CodeRejection> {
    let role = role.ok_or(CodeRejection::NotAMember)?;
    let scope = grantable(consented, role);
    if scope.is_empty() {
        return Err(CodeRejection::NoScopeLeft);
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn code(stage: CodeStage) -> IssuedCode<'static> {
        IssuedCode {
            client_id: "cli_a",
            stage,
            expires_at: 1_000,
            redirect_uri: "https://app.example/cb",
            code_challenge: CHALLENGE,
        }
    }

    fn request(redirect_uri: &str, verifier: &str) -> AuthorizationCodeRequest {
        AuthorizationCodeRequest {
            code: "c".into(),
            redirect_uri: redirect_uri.into(),
            code_verifier: verifier.into(),
            resources: vec![],
        }
    }

    fn ok() -> AuthorizationCodeRequest {
        request("https://app.example/cb", VERIFIER)
    }

    #[test]
    fn a_pending_code_redeems_for_its_client_before_expiry() {
        assert_eq!(
            check(&code(CodeStage::Pending), "cli_a", &ok(), 999),
            Ok(())
        );
    }

    #[test]
    fn another_clients_code_looks_unknown() {
        let e = check(&code(CodeStage::Pending), "cli_b", &ok(), 0).unwrap_err();
        assert_eq!(e, CodeRejection::OtherClient);
        assert_eq!(e.to_string(), CodeRejection::Unknown.to_string());
    }

    #[test]
    fn the_stage_is_checked_before_expiry() {
        let at = 5_000;
        assert_eq!(
            check(&code(CodeStage::Exchanged), "cli_a", &ok(), at),
            Err(CodeRejection::Replayed)
        );
        assert_eq!(
            check(&code(CodeStage::Revoked), "cli_a", &ok(), at),
            Err(CodeRejection::Revoked)
        );
        assert_eq!(
            check(&code(CodeStage::Pending), "cli_a", &ok(), 1_000),
            Err(CodeRejection::Expired)
        );
    }

    #[test]
    fn redirect_uri_and_verifier_must_match() {
        let pending = code(CodeStage::Pending);
        let other_uri = request("https://app.example/other", VERIFIER);
        assert_eq!(
            check(&pending, "cli_a", &other_uri, 0),
            Err(CodeRejection::RedirectUriMismatch)
        );
        let wrong = request("https://app.example/cb", &"a".repeat(43));
        assert_eq!(
            check(&pending, "cli_a", &wrong, 0),
            Err(CodeRejection::VerifierMismatch)
        );
    }

    #[test]
    fn the_role_is_checked_again() {
        let consented = ScopeSet::parse("openid workspace:admin").unwrap();
        assert_eq!(scope_for(&consented, None), Err(CodeRejection::NotAMember));
        let member = scope_for(&consented, Some(Role::Member)).unwrap();
        assert_eq!(member.to_string(), "openid");
        let admin_only = ScopeSet::parse("workspace:admin").unwrap();
        assert_eq!(
            scope_for(&admin_only, Some(Role::Member)),
            Err(CodeRejection::NoScopeLeft)
        );
        assert_eq!(
            scope_for(&admin_only, Some(Role::Admin)).unwrap(),
            admin_only
        );
    }

    #[test]
    fn the_request_redacts_its_secrets() {
        let shown = format!("{:?}", ok());
        assert!(!shown.contains(VERIFIER), "{shown}");
        assert!(shown.contains("https://app.example/cb"), "{shown}");
    }
}
