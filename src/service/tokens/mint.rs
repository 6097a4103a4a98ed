//! The tokens a user's grant hands out, shared by the authorization_code
//! and refresh_token grants: an RFC 9068 access token for the user in the
//! workspace, a rotated refresh token when `offline_access` was granted,
//! and an ID token when `openid` was.

use super::{SigningFailed, Tokens};
use crate::clock::UnixTime;
use crate::domain::access_token::{Grant, IssuedAccessToken as SignedAccessToken};
use crate::domain::id_token::{self, IdTokenInput, IdentityClaims};
use crate::domain::resource::ResourceError;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::{PlainSecret, Redacted};
use crate::node::rate_limit::Decision;
use crate::storage::{
    Issuance, IssuedAccessToken, OAuthClientRecord, RefreshTokenRecord, UserRecord,
};

/// The refresh token rule: one is issued exactly when the grant includes
/// `offline_access` (OIDC Core §11), which the client must have registered
/// and the user consented to.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// What the token endpoint hands out (RFC 6749 §5.1), before it is
/// serialized.
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
    /// RFC 8693 §2.2.1, for token exchange.
    pub issued_token_type: Option<&'static str>,
    pub refresh_token: Option<PlainSecret>,
    /// OIDC Core §3.1.3.3.
    pub id_token: Option<String>,
    /// The client's rate-limit state.
    pub rate_limit: Option<Decision>,
}

impl std::fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("access_token", &Redacted)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_token", &self.refresh_token)
            .field("id_token", &self.id_token.as_ref().map(|_| Redacted))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// RFC 8707 §2: `invalid_target`.
    #[error(transparent)]
    Resource(#[from] ResourceError),
    #[error(transparent)]
    Signing(#[from] SigningFailed),
}

/// What the tokens are for.
#[derive(Debug)]
pub(super) struct UserGrant<'a> {
    pub oauth: &'a OAuthClientRecord,
    pub family_id: &'a str,
    pub user: &'a UserRecord,
    pub workspace_id: &'a str,
    /// The whole grant, which a refresh token keeps.
    pub granted: &'a ScopeSet,
    /// What this access token carries: the grant or less.
    pub scope: &'a ScopeSet,
    pub auth_time: UnixTime,
    pub nonce: Option<&'a str>,
    /// The resources the grant was limited to at authorization.
    pub granted_resources: &'a [String],
    /// The resources this token request names.
    pub resources: &'a [String],
}

impl Tokens<'_> {
    /// Signs the tokens and describes the rows that record them; nothing is
    /// stored here, so the caller writes them in the transaction that
    /// consumes the code or refresh token.
    pub(super) fn mint(&self, g: &UserGrant<'_>) -> Result<(IssuedTokens, Issuance), MintError> {
        let settings = &self.app.settings;
        let now = self.app.clock.now();
        let grant = Grant {
            subject: g.user.id.clone(),
            client_id: g.oauth.client_id.clone(),
            workspace_id: Some(g.workspace_id.to_owned()),
            scope: g.scope.clone(),
            audience: settings
                .resources
                .audience_within(g.granted_resources, g.resources)?,
        };
        let access = self.sign_access(&grant, settings.access_token_ttl, now)?;
        let id_token = if g.scope.contains("openid") {
            Some(self.id_token(g, &access, now)?)
        } else {
            None
        };
        let refresh = g
            .granted
            .contains(OFFLINE_ACCESS)
            .then(|| PlainSecret::generate(""));
        let issuance = self.issuance(g, &access, refresh.as_ref(), now);
        let tokens = IssuedTokens {
            access_token: access.token,
            expires_in: access.expires_in,
            scope: g.scope.to_string(),
            issued_token_type: None,
            refresh_token: refresh,
            id_token,
            rate_limit: None,
        };
        Ok((tokens, issuance))
    }

    /// OIDC Core §3.1.3.6, signed with the client's registered algorithm.
    fn id_token(
        &self,
        g: &UserGrant<'_>,
        access: &SignedAccessToken,
        now: UnixTime,
    ) -> Result<String, SigningFailed> {
        let settings = &self.app.settings;
        let keyring = self.app.keyring.load();
        let key = keyring.active(g.oauth.id_token_alg)?;
        let input = IdTokenInput {
            issuer: &settings.issuer,
            client_id: &g.oauth.client_id,
            who: IdentityClaims {
                user_id: &g.user.id,
                email: &g.user.email,
                name: g.user.name.as_deref(),
            },
            scope: g.scope,
            auth_time: g.auth_time,
            nonce: g.nonce,
            access_token: &access.token,
            now,
            ttl: settings.access_token_ttl,
        };
        Ok(id_token::issue(&input, key))
    }

    /// The rows that record what was issued.
    fn issuance(
        &self,
        g: &UserGrant<'_>,
        access: &SignedAccessToken,
        refresh: Option<&PlainSecret>,
        now: UnixTime,
    ) -> Issuance {
        let refresh_ttl = self.app.settings.auth.refresh_token_ttl;
        Issuance {
            access: IssuedAccessToken {
                jti: access.jti.clone(),
                family_id: g.family_id.to_owned(),
                client_id: g.oauth.client_id.clone(),
                expires_at: now + access.expires_in,
            },
            refresh: refresh.map(|t| RefreshTokenRecord {
                token_hash: self.app.clients.hasher().hash(t),
                family_id: g.family_id.to_owned(),
                client_id: g.oauth.client_id.clone(),
                user_id: g.user.id.clone(),
                workspace_id: g.workspace_id.to_owned(),
                scope: g.granted.clone(),
                resources: g.granted_resources.to_vec(),
                auth_time: g.auth_time,
                created_at: now,
                expires_at: now + refresh_ttl,
                rotated_at: None,
                revoked_at: None,
            }),
        }
    }
}
