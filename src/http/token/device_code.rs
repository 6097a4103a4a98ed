//! The device code grant (RFC 8628 §3.4): the client polls with its
//! device code until the person decides.

use async_trait::async_trait;

use super::{Grant, GrantType, TokenResponse};
use crate::app::App;
use crate::domain::grants::device_code::DeviceCodeRequest;
use crate::http::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::service::clients::AuthenticatedClient;

pub struct DeviceCode;

#[async_trait]
impl Grant for DeviceCode {
    const TYPE: GrantType = GrantType::DeviceCode;
    type Request = DeviceCodeRequest;
    /// RFC 8628 §3.4: the client authenticates as for any token request
    /// (a public client names itself with `client_id`).
    type Client = AuthenticatedClient;

    fn parse(&self, form: &mut OAuthForm) -> Result<DeviceCodeRequest, OAuthError> {
        Ok(DeviceCodeRequest {
            device_code: form.require("device_code")?,
            resources: form.take_all("resource"),
        })
    }

    async fn handle(
        &self,
        app: &App,
        client: AuthenticatedClient,
        request: DeviceCodeRequest,
    ) -> Result<TokenResponse, OAuthError> {
        Ok(app
            .tokens()
            .redeem_device_code(&client, request)
            .await?
            .into())
    }
}
