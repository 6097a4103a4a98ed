//! The tokens a user's grant hands out, shared by the authorization_code
//! and refresh_token grants: an RFC 9068 access token for the user in the
//! workspace, a rotated refresh token when `offline_access` was granted,
//! and an ID token when `openid` was.

use super::TokenResponse;
use crate::app::App;
use crate::clock::UnixTime;
use crate::domain::access_token::{Grant, issue};
use crate::domain::audit::{Actor, AuditEntry, AuditEvent};
use crate::domain::id_token::{self, IdTokenInput, IdentityClaims};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::PlainSecret;
use crate::domain::user::Role;
use crate::http::error::{ErrorCode, OAuthError};
use crate::service::clients::AuthenticatedClient;
use crate::storage::ClientKind;
use crate::storage::auth::{
    Issuance, IssuedAccessToken, OAuthClientRecord, RefreshTokenRecord, UserRecord,
};

/// The refresh token rule: one is issued exactly when the grant includes
/// `offline_access` (OIDC Core §11), which the client must have registered
/// and the user consented to.
pub const OFFLINE_ACCESS: &str = "offline_access";

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

/// The client's OAuth registration; only third-party clients use the
/// user grants.
pub(super) async fn third_party(
    app: &App,
    client: &AuthenticatedClient,
) -> Result<OAuthClientRecord, OAuthError> {
    let id = &client.record().client_id;
    match app
        .store
        .oauth_client(id)
        .await
        .map_err(|e| OAuthError::unavailable(&e))?
    {
        Some((c, oauth)) if c.kind == ClientKind::ThirdParty => Ok(oauth),
        _ => Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use this grant type",
        )),
    }
}

/// The user's role in the workspace, if they still belong to it.
pub(super) async fn role_in(
    app: &App,
    user_id: &str,
    workspace_id: &str,
) -> Result<Option<Role>, OAuthError> {
    Ok(app
        .store
        .memberships(user_id)
        .await
        .map_err(|e| OAuthError::unavailable(&e))?
        .into_iter()
        .find(|m| m.workspace_id == workspace_id)
        .map(|m| m.role))
}

pub(super) fn invalid_grant(description: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, description)
}

fn signing_failed(e: &dyn std::fmt::Display) -> OAuthError {
    tracing::error!(error = %e, "no signing key");
    OAuthError::new(
        ErrorCode::ServerError,
        "the server cannot sign tokens right now",
    )
}

/// RFC 8707 §2.2: the token request may name the resources of the
/// authorization request or fewer; naming none means all of them. A grant
/// that named none at authorization may name any the server serves.
fn audience(app: &App, g: &UserGrant<'_>) -> Result<Vec<String>, OAuthError> {
    let requested = if g.resources.is_empty() {
        g.granted_resources
    } else {
        g.resources
    };
    if !g.granted_resources.is_empty()
        && let Some(r) = requested.iter().find(|r| !g.granted_resources.contains(r))
    {
        return Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            format!("resource {r:?} was not named in the authorization request"),
        ));
    }
    app.settings
        .resources
        .audience(requested)
        .map_err(|e| OAuthError::new(ErrorCode::InvalidTarget, e.to_string()))
}

/// Signs the tokens and describes the rows that record them; nothing is
/// stored here, so the caller writes them in the transaction that
/// consumes the code or refresh token.
pub(super) fn mint(app: &App, g: &UserGrant<'_>) -> Result<(TokenResponse, Issuance), OAuthError> {
    let settings = &app.settings;
    let now = app.clock.now();
    let audience = audience(app, g)?;
    let grant = Grant {
        subject: g.user.id.clone(),
        client_id: g.oauth.client_id.clone(),
        workspace_id: Some(g.workspace_id.to_owned()),
        scope: g.scope.clone(),
        audience,
    };
    let keyring = app.keyring.load();
    let key = keyring
        .active(settings.access_token_alg)
        .map_err(|e| signing_failed(&e))?;
    let access = issue(
        &grant,
        key,
        &settings.issuer,
        settings.access_token_ttl,
        now,
    );
    let id_token = if g.scope.contains("openid") {
        let key = keyring
            .active(g.oauth.id_token_alg)
            .map_err(|e| signing_failed(&e))?;
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
        Some(id_token::issue(&input, key))
    } else {
        None
    };
    let refresh = g
        .granted
        .contains(OFFLINE_ACCESS)
        .then(|| PlainSecret::generate(""));
    let issuance = Issuance {
        access: IssuedAccessToken {
            jti: access.jti.clone(),
            family_id: g.family_id.to_owned(),
            client_id: g.oauth.client_id.clone(),
            expires_at: now + access.expires_in,
        },
        refresh: refresh.as_ref().map(|t| RefreshTokenRecord {
            token_hash: app.clients.hasher().hash(t),
            family_id: g.family_id.to_owned(),
            client_id: g.oauth.client_id.clone(),
            user_id: g.user.id.clone(),
            workspace_id: g.workspace_id.to_owned(),
            scope: g.granted.to_string(),
            resources: g.granted_resources.to_vec(),
            auth_time: g.auth_time,
            created_at: now,
            expires_at: now + settings.auth.refresh_token_ttl,
            rotated_at: None,
            revoked_at: None,
        }),
    };
    let response = TokenResponse {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        scope: g.scope.to_string(),
        issued_token_type: None,
        refresh_token: refresh.map(|t| t.expose().to_owned()),
        id_token,
        rate_limit: None,
    };
    Ok((response, issuance))
}

/// What was presented a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Replay {
    /// RFC 6749 §4.1.2.
    Code,
    /// RFC 9700 §4.14.2, after the grace period.
    RefreshToken,
}

impl Replay {
    fn as_str(self) -> &'static str {
        match self {
            Replay::Code => "code_replay",
            Replay::RefreshToken => "refresh_token_reuse",
        }
    }
}

/// Revokes every token of a grant whose code or refresh token was replayed,
/// records why, and returns the error for the request.
pub(super) async fn revoke_grant(
    app: &App,
    family_id: &str,
    client_id: &str,
    workspace_id: &str,
    replay: Replay,
) -> OAuthError {
    let reason = replay.as_str();
    let now = app.clock.now();
    let audit = AuditEntry::new(AuditEvent::GrantRevoked, Actor::client(client_id), now)
        .workspace(workspace_id)
        .details(serde_json::json!({"familyId": family_id, "reason": reason}));
    match app.store.revoke_family(family_id, now, &audit).await {
        Ok(n) => {
            app.reload_revocations().await;
            tracing::warn!(
                client_id,
                family_id,
                reason,
                refresh_tokens = n,
                "grant revoked after replay"
            );
        }
        Err(e) => tracing::error!(error = %e, family_id, "revoking a replayed grant failed"),
    }
    invalid_grant(match replay {
        Replay::Code => "the authorization code has already been used; its tokens are revoked",
        Replay::RefreshToken => {
            "the refresh token has already been used; every token of its grant is revoked"
        }
    })
}
