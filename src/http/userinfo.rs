//! The UserInfo endpoint (OIDC Core §5.3): GET or POST with a Bearer
//! access token that carries `openid`; answers with the claims its scopes
//! release (§5.4).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::response::{Caching, json};
use crate::app::App;
use crate::domain::id_token::{IdentityClaims, StandardClaims};
use crate::verifier::{CredentialKind, Rejection};

pub const USERINFO_PATH: &str = "/oauth/userinfo";

pub async fn userinfo(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    match answer(&app, &headers).await {
        Ok(r) => r,
        Err(rejection) => rejection.into_response(),
    }
}

async fn answer(app: &App, headers: &HeaderMap) -> Result<Response, Rejection> {
    let principal = app.verifier.authenticate(headers).await?;
    if principal.kind != CredentialKind::AccessToken {
        return Err(Rejection::invalid_token(
            "the UserInfo endpoint accepts access tokens only",
        ));
    }
    principal.require_scope("openid")?;
    let user_id = principal
        .user_id
        .as_deref()
        .ok_or_else(|| Rejection::invalid_token("the token was not issued to a user"))?;
    let user = app
        .tokens()
        .token_user(user_id)
        .await
        .map_err(|f| {
            f.log();
            Rejection::Unavailable
        })?
        .ok_or_else(|| Rejection::invalid_token("the token's user no longer exists"))?;
    let who = IdentityClaims {
        user_id: &user.id,
        email: &user.email,
        name: user.name.as_deref(),
    };
    let body = serde_json::to_vec(&StandardClaims::released(&who, &principal.scopes))
        .expect("claims serialize");
    Ok(json(
        StatusCode::OK,
        "application/json",
        Caching::NoStore,
        body,
    ))
}
