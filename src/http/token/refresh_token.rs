//! The refresh_token grant (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2).

use async_trait::async_trait;

use super::{Grant, GrantType, TokenResponse};
use crate::app::App;
use crate::domain::grants::refresh_token::RefreshTokenRequest;
use crate::http::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::service::clients::AuthenticatedClient;

pub struct RefreshToken;

#[async_trait]
impl Grant for RefreshToken {
    const TYPE: GrantType = GrantType::RefreshToken;
    type Request = RefreshTokenRequest;
    type Client = AuthenticatedClient;

    fn parse(&self, form: &mut OAuthForm) -> Result<RefreshTokenRequest, OAuthError> {
        let scope = super::optional_scope(form)?;
        Ok(RefreshTokenRequest {
            refresh_token: form.require("refresh_token")?,
            scope,
            resources: form.take_all("resource"),
        })
    }

    async fn handle(
        &self,
        app: &App,
        client: AuthenticatedClient,
        request: RefreshTokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        Ok(app.tokens().rotate_refresh(&client, request).await?.into())
    }
}
