//! The client_credentials grant (RFC 6749 §4.4): a workspace's application
//! token acts for the workspace itself.

use async_trait::async_trait;

use super::{Grant, GrantType, TokenResponse};
use crate::app::App;
use crate::domain::grants::client_credentials::ClientCredentialsRequest;
use crate::http::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::service::clients::AuthenticatedClient;

pub struct ClientCredentials;

#[async_trait]
impl Grant for ClientCredentials {
    const TYPE: GrantType = GrantType::ClientCredentials;
    type Request = ClientCredentialsRequest;
    type Client = AuthenticatedClient;

    fn parse(&self, form: &mut OAuthForm) -> Result<ClientCredentialsRequest, OAuthError> {
        // A scope of only spaces names no scope: the defaults apply, as if omitted.
        let scope = super::optional_scope(form)?;
        Ok(ClientCredentialsRequest {
            scope,
            resources: form.take_all("resource"),
        })
    }

    async fn handle(
        &self,
        app: &App,
        client: AuthenticatedClient,
        request: ClientCredentialsRequest,
    ) -> Result<TokenResponse, OAuthError> {
        Ok(app
            .tokens()
            .client_credentials(&client, request)
            .await?
            .into())
    }
}
