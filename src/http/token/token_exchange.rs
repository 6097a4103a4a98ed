//! Token exchange (RFC 8693 §2) of an API key for a short-lived access
//! token.

use async_trait::async_trait;

use super::{Grant, GrantType, TokenResponse};
use crate::app::App;
use crate::domain::grants::token_exchange::{
    ACCESS_TOKEN_TYPE, API_KEY_TOKEN_TYPE, TokenExchangeRequest,
};
use crate::http::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::service::clients::AuthenticatedClient;

pub struct TokenExchange;

#[async_trait]
impl Grant for TokenExchange {
    const TYPE: GrantType = GrantType::TokenExchange;
    type Request = TokenExchangeRequest;
    /// The API key of a token exchange is itself the credential, so client
    /// authentication is optional (RFC 8693 §2.1); when sent, it must be
    /// right.
    type Client = Option<AuthenticatedClient>;

    fn parse(&self, form: &mut OAuthForm) -> Result<TokenExchangeRequest, OAuthError> {
        let subject_token = form.require("subject_token")?;
        let subject_type = form.require("subject_token_type")?;
        if subject_type != API_KEY_TOKEN_TYPE {
            return Err(OAuthError::invalid_request(format!(
                "subject_token_type must be {API_KEY_TOKEN_TYPE}"
            )));
        }
        if form
            .take("requested_token_type")
            .is_some_and(|t| t != ACCESS_TOKEN_TYPE)
        {
            return Err(OAuthError::invalid_request(format!(
                "only {ACCESS_TOKEN_TYPE} can be requested"
            )));
        }
        if form.take("actor_token").is_some() {
            return Err(OAuthError::invalid_request(
                "delegation (actor_token) is not supported",
            ));
        }
        let scope = super::optional_scope(form)?;
        Ok(TokenExchangeRequest {
            subject_token,
            scope,
            resources: form.take_all("resource"),
        })
    }

    async fn handle(
        &self,
        app: &App,
        _client: Option<AuthenticatedClient>,
        request: TokenExchangeRequest,
    ) -> Result<TokenResponse, OAuthError> {
        Ok(app.tokens().exchange_api_key(request).await?.into())
    }
}
