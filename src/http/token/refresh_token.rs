//! The refresh_token grant (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2).

use super::TokenResponse;
use super::user_tokens::{
    Replay, UserGrant, invalid_grant, mint, revoke_grant, role_in, third_party,
};
use crate::app::App;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::Redacted;
use crate::domain::user::grantable;
use crate::http::error::{ErrorCode, OAuthError};
use crate::http::form::OAuthForm;
use crate::service::clients::AuthenticatedClient;

pub struct RefreshTokenRequest {
    refresh_token: String,
    scope: Option<ScopeSet>,
    resources: Vec<String>,
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

pub(super) fn parse(form: &mut OAuthForm) -> Result<RefreshTokenRequest, OAuthError> {
    let scope = super::optional_scope(form)?;
    Ok(RefreshTokenRequest {
        refresh_token: form.require("refresh_token")?,
        scope,
        resources: form.take_all("resource"),
    })
}

pub(super) async fn handle(
    app: &App,
    client: &AuthenticatedClient,
    r: RefreshTokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let oauth = third_party(app, client).await?;
    let hash = app.clients.hasher().hash_str(&r.refresh_token);
    let store = &app.store;
    let unavailable = |e: crate::storage::StorageError| OAuthError::unavailable(&e);
    let token = store
        .refresh_token(&hash)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| invalid_grant("the refresh token is invalid"))?;
    // RFC 6749 §6: bound to the client it was issued to.
    if token.client_id != oauth.client_id {
        tracing::warn!(client_id = %oauth.client_id, "a client presented another client's refresh token");
        return Err(invalid_grant("the refresh token is invalid"));
    }
    if token.revoked_at.is_some() {
        return Err(invalid_grant("the refresh token has been revoked"));
    }
    let now = app.clock.now();
    if now >= token.expires_at {
        return Err(invalid_grant("the refresh token has expired"));
    }
    let grace = app.settings.auth.refresh_reuse_grace;
    if token.rotated_at.is_some_and(|at| now - at > grace) {
        return Err(revoke_grant(
            app,
            &token.family_id,
            &token.client_id,
            &token.workspace_id,
            Replay::RefreshToken,
        )
        .await);
    }
    let granted = ScopeSet::parse(&token.scope).unwrap_or_default();
    // RFC 6749 §6: the scope may shrink, never grow.
    let requested = r.scope.unwrap_or_else(|| granted.clone());
    if let Some(extra) = requested.iter().find(|s| !granted.contains(s)) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            format!("scope {extra:?} was not granted"),
        ));
    }
    // The user may have left the workspace or lost a role since.
    let role = role_in(app, &token.user_id, &token.workspace_id)
        .await?
        .ok_or_else(|| invalid_grant("the user no longer belongs to the workspace"))?;
    let user = store
        .user_by_id(&token.user_id)
        .await
        .map_err(unavailable)?
        .filter(|u| u.disabled_at.is_none())
        .ok_or_else(|| invalid_grant("the user no longer exists or is disabled"))?;
    // The operator may have narrowed the client's scopes since
    // (`keyflow client update`): a refresh gets no scope it no longer has.
    let registered = ScopeSet::parse(&oauth.scopes).unwrap_or_default();
    let scope: ScopeSet = grantable(&requested, role)
        .iter()
        .filter(|s| registered.contains(s))
        .map(str::to_owned)
        .collect();
    if scope.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "neither the user's role nor the client's registration still grants any of the requested scopes",
        ));
    }
    let grant = UserGrant {
        oauth: &oauth,
        family_id: &token.family_id,
        user: &user,
        workspace_id: &token.workspace_id,
        granted: &granted,
        scope: &scope,
        auth_time: token.auth_time,
        nonce: None,
        granted_resources: &token.resources,
        resources: &r.resources,
    };
    let (response, issuance) = mint(app, &grant)?;
    let rotated = store
        .rotate_refresh_token(&hash, now, now - grace, &issuance)
        .await
        .map_err(unavailable)?;
    if !rotated {
        return Err(invalid_grant("the refresh token is no longer valid"));
    }
    Ok(response)
}
