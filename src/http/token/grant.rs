//! The grants the token endpoint serves: one trait each implements, and
//! the one list they are registered in. Discovery's
//! `grant_types_supported` is read from the same list.

use async_trait::async_trait;

use super::TokenResponse;
use super::authorization_code::AuthorizationCode;
use super::client_credentials::ClientCredentials;
use super::device_code::DeviceCode;
use super::refresh_token::RefreshToken;
use super::token_exchange::TokenExchange;
use crate::app::App;
use crate::http::client_auth::ClientCredentials as Credentials;
use crate::http::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::service::clients::AuthenticatedClient;

/// Grant types the endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// RFC 6749 §4.1, with PKCE.
    AuthorizationCode,
    /// RFC 6749 §6, with rotation.
    RefreshToken,
    ClientCredentials,
    /// RFC 8693, for trading an API key for a short-lived access token.
    TokenExchange,
    /// RFC 8628 §3.4: polling with a device code.
    DeviceCode,
}

impl GrantType {
    /// The `grant_type` parameter (RFC 6749 §4.1.3, §4.4.2, §6; RFC 8693 §2.1).
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }

    /// A short name for metric labels.
    pub fn label(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::TokenExchange => "token_exchange",
            GrantType::DeviceCode => "device_code",
        }
    }
}

/// One grant type: how its request reads, who may send it, what it does.
#[async_trait]
pub trait Grant: Sync {
    const TYPE: GrantType;
    /// The grant's own parameters, typed.
    type Request: Send;
    /// Who sends the request, which says whether the client must
    /// authenticate: [`AuthenticatedClient`] when it must (RFC 6749
    /// §3.2.1), `Option<AuthenticatedClient>` when credentials are checked
    /// only if the request sends some.
    type Client: Caller;

    /// Takes the grant's parameters out of the form.
    fn parse(&self, form: &mut OAuthForm) -> Result<Self::Request, OAuthError>;

    async fn handle(
        &self,
        app: &App,
        client: Self::Client,
        request: Self::Request,
    ) -> Result<TokenResponse, OAuthError>;
}

/// Who a grant's request comes from.
pub trait Caller: Sized + Send {
    /// Whether to read and check the client's credentials, given whether
    /// the request sent any.
    fn authenticates(sent_credentials: bool) -> bool;
    fn from_client(client: Option<AuthenticatedClient>) -> Result<Self, OAuthError>;
}

impl Caller for AuthenticatedClient {
    fn authenticates(_: bool) -> bool {
        true
    }

    fn from_client(client: Option<AuthenticatedClient>) -> Result<Self, OAuthError> {
        client.ok_or_else(|| OAuthError::invalid_client("client authentication is required"))
    }
}

impl Caller for Option<AuthenticatedClient> {
    fn authenticates(sent_credentials: bool) -> bool {
        sent_credentials
    }

    fn from_client(client: Option<AuthenticatedClient>) -> Result<Self, OAuthError> {
        Ok(client)
    }
}

/// A [`Grant`] with its types erased, so that the grants fit in one list.
#[async_trait]
pub(super) trait Registered: Sync {
    fn grant_type(&self) -> GrantType;
    fn authenticates(&self, sent_credentials: bool) -> bool;
    /// Parses the request, then authenticates the client, then handles it.
    async fn run(
        &self,
        app: &App,
        form: &mut OAuthForm,
        credentials: Option<Credentials>,
    ) -> Result<TokenResponse, OAuthError>;
}

#[async_trait]
impl<G: Grant> Registered for G {
    fn grant_type(&self) -> GrantType {
        G::TYPE
    }

    fn authenticates(&self, sent_credentials: bool) -> bool {
        G::Client::authenticates(sent_credentials)
    }

    async fn run(
        &self,
        app: &App,
        form: &mut OAuthForm,
        credentials: Option<Credentials>,
    ) -> Result<TokenResponse, OAuthError> {
        let request = self.parse(form)?;
        let client = match &credentials {
            Some(c) => Some(c.authenticate(app).await?),
            None => None,
        };
        self.handle(app, G::Client::from_client(client)?, request)
            .await
    }
}

/// Every grant the endpoint serves, in the order discovery lists them.
static GRANTS: &[&dyn Registered] = &[
    &AuthorizationCode,
    &RefreshToken,
    &ClientCredentials,
    &TokenExchange,
    &DeviceCode,
];

/// The grant a `grant_type` names.
pub(super) fn find(grant_type: &str) -> Option<&'static dyn Registered> {
    GRANTS
        .iter()
        .copied()
        .find(|g| g.grant_type().as_str() == grant_type)
}

/// RFC 8414 §2 `grant_types_supported`.
pub fn supported() -> impl Iterator<Item = GrantType> {
    GRANTS.iter().map(|g| g.grant_type())
}
