//! The authorization_code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.6).

use super::TokenResponse;
use super::user_tokens::{
    Replay, UserGrant, invalid_grant, mint, revoke_grant, role_in, third_party,
};
use crate::app::App;
use crate::domain::pkce;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::Redacted;
use crate::domain::user::grantable;
use crate::http::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::service::clients::AuthenticatedClient;
use crate::storage::auth::CodeState;

pub struct AuthorizationCodeRequest {
    code: String,
    redirect_uri: String,
    code_verifier: String,
    resources: Vec<String>,
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

pub(super) fn parse(form: &mut OAuthForm) -> Result<AuthorizationCodeRequest, OAuthError> {
    Ok(AuthorizationCodeRequest {
        code: form.require("code")?,
        // Required because keyflow's authorization endpoint always
        // requires it (RFC 6749 §4.1.3).
        redirect_uri: form.require("redirect_uri")?,
        // RFC 9700 §2.1.1: every code is bound to a PKCE challenge.
        code_verifier: form.require("code_verifier")?,
        resources: form.take_all("resource"),
    })
}

pub(super) async fn handle(
    app: &App,
    client: &AuthenticatedClient,
    r: AuthorizationCodeRequest,
) -> Result<TokenResponse, OAuthError> {
    let oauth = third_party(app, client).await?;
    let hash = app.clients.hasher().hash_str(&r.code);
    let store = &app.store;
    let code = store
        .auth_code(&hash)
        .await
        .map_err(|e| OAuthError::unavailable(&e))?
        .ok_or_else(|| invalid_grant("the authorization code is invalid"))?;
    // RFC 6749 §4.1.3: issued to this client. A code stolen by another
    // client gets the same answer as an unknown one.
    if code.client_id != oauth.client_id {
        tracing::warn!(client_id = %oauth.client_id, "a client presented another client's code");
        return Err(invalid_grant("the authorization code is invalid"));
    }
    let replayed = || {
        revoke_grant(
            app,
            &code.family_id,
            &code.client_id,
            &code.workspace_id,
            Replay::Code,
        )
    };
    match code.state {
        CodeState::Pending => {}
        CodeState::Exchanged => return Err(replayed().await),
        CodeState::Revoked => {
            return Err(invalid_grant(
                "the authorization code was revoked when the user disconnected the app",
            ));
        }
    }
    let now = app.clock.now();
    if now >= code.expires_at {
        return Err(invalid_grant("the authorization code has expired"));
    }
    if code.redirect_uri != r.redirect_uri {
        return Err(invalid_grant(
            "redirect_uri differs from the one in the authorization request",
        ));
    }
    if !pkce::verify(&r.code_verifier, &code.code_challenge) {
        return Err(invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    let user = store
        .user_by_id(&code.user_id)
        .await
        .map_err(|e| OAuthError::unavailable(&e))?
        .filter(|u| u.disabled_at.is_none())
        .ok_or_else(|| invalid_grant("the user no longer exists or is disabled"))?;
    // The user may have left the workspace or changed role since consenting.
    let scope = match role_in(app, &code.user_id, &code.workspace_id).await? {
        Some(role) => grantable(&ScopeSet::parse(&code.scope).unwrap_or_default(), role),
        None => return Err(invalid_grant("the user no longer belongs to the workspace")),
    };
    if scope.is_empty() {
        return Err(invalid_grant(
            "the user's role no longer grants any of the scopes",
        ));
    }
    let grant = UserGrant {
        oauth: &oauth,
        family_id: &code.family_id,
        user: &user,
        workspace_id: &code.workspace_id,
        granted: &scope,
        scope: &scope,
        auth_time: code.auth_time,
        nonce: code.nonce.as_deref(),
        granted_resources: &code.resources,
        resources: &r.resources,
    };
    let (response, issuance) = mint(app, &grant)?;
    let redeemed = store
        .redeem_auth_code(&hash, now, &issuance)
        .await
        .map_err(|e| OAuthError::unavailable(&e))?;
    if !redeemed {
        // Another request redeemed it between our read and our write.
        return Err(replayed().await);
    }
    Ok(response)
}
