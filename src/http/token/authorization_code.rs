//! The authorization_code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.6).

use async_trait::async_trait;

use super::{Grant, GrantType, TokenResponse};
use crate::app::App;
use crate::domain::grants::authorization_code::AuthorizationCodeRequest;
use crate::http::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::service::clients::AuthenticatedClient;

pub struct AuthorizationCode;

#[async_trait]
impl Grant for AuthorizationCode {
    const TYPE: GrantType = GrantType::AuthorizationCode;
    type Request = AuthorizationCodeRequest;
    type Client = AuthenticatedClient;

    fn parse(&self, form: &mut OAuthForm) -> Result<AuthorizationCodeRequest, OAuthError> {
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

    async fn handle(
        &self,
        app: &App,
        client: AuthenticatedClient,
        request: AuthorizationCodeRequest,
    ) -> Result<TokenResponse, OAuthError> {
        Ok(app.tokens().redeem_code(&client, request).await?.into())
    }
}
