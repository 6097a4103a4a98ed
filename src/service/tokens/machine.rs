//! Tokens no user takes part in: a workspace application's own
//! (client_credentials, RFC 6749 §4.4) and an API key's exchanged one
//! (RFC 8693).

use super::{IssuedTokens, SigningFailed, Tokens};
use crate::domain::grants::client_credentials::{
    ClientCredentialsError, ClientCredentialsRequest, decide as decide_client_credentials,
};
use crate::domain::grants::token_exchange::{
    ACCESS_TOKEN_TYPE, TokenExchangeError, TokenExchangeRequest, decide as decide_exchange,
};
use crate::domain::usage::Outcome;
use crate::node::rate_limit::{Category, Decision};
use crate::service::StoreFailure;
use crate::service::api_keys::ApiKeyError;
use crate::service::clients::AuthenticatedClient;
use crate::verifier::Rejection;

#[derive(Debug, thiserror::Error)]
pub enum ClientCredentialsFailure {
    #[error(transparent)]
    Rejected(#[from] ClientCredentialsError),
    #[error("the client's token rate limit is spent")]
    RateLimited(Decision),
    #[error("the token rate limiter failed: {0}")]
    Limiter(String),
    #[error(transparent)]
    Signing(#[from] SigningFailed),
}

#[derive(Debug, thiserror::Error)]
pub enum TokenExchangeFailure {
    /// RFC 8693 §2.2.2: an unacceptable subject_token.
    #[error("subject_token: {0}")]
    Subject(ApiKeyError),
    #[error("the key's token rate limit is spent")]
    RateLimited(Decision),
    #[error("the key's rate limit could not be checked")]
    Limiter,
    #[error(transparent)]
    Rejected(#[from] TokenExchangeError),
    #[error(transparent)]
    Signing(#[from] SigningFailed),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

impl Tokens<'_> {
    /// The application's token, within its per-client rate limit.
    pub async fn client_credentials(
        &self,
        client: &AuthenticatedClient,
        request: ClientCredentialsRequest,
    ) -> Result<IssuedTokens, ClientCredentialsFailure> {
        let issued = self.issue_client_credentials(client, request).await;
        let refusal = match &issued {
            Err(ClientCredentialsFailure::Rejected(ClientCredentialsError::Scope(_))) => {
                Some(Outcome::InsufficientScope)
            }
            Err(ClientCredentialsFailure::RateLimited(_)) => Some(Outcome::RateLimited),
            _ => None,
        };
        if let Some(outcome) = refusal {
            let app = self.app;
            app.usage
                .refused(&client.record().client_id, outcome, app.clock.now());
        }
        issued
    }

    async fn issue_client_credentials(
        &self,
        client: &AuthenticatedClient,
        request: ClientCredentialsRequest,
    ) -> Result<IssuedTokens, ClientCredentialsFailure> {
        let app = self.app;
        let settings = &app.settings;
        let grant = decide_client_credentials(
            client.record(),
            request,
            &settings.scopes,
            &settings.resources,
        )?;
        let decision = app
            .token_limiter
            .check(
                &grant.client_id,
                Category::Token,
                settings.token_rate_limit,
                app.clock.now_us(),
            )
            .await
            .map_err(ClientCredentialsFailure::Limiter)?;
        if !decision.allowed {
            return Err(ClientCredentialsFailure::RateLimited(decision));
        }
        let mut tokens = self.access_only(&grant, settings.access_token_ttl, None)?;
        tokens.rate_limit = Some(decision);
        app.usage
            .record(&grant.client_id, &client.secret_id, app.clock.now());
        Ok(tokens)
    }

    /// An access token for an API key, with its scopes or fewer; the key's
    /// token budget is spent here.
    pub async fn exchange_api_key(
        &self,
        request: TokenExchangeRequest,
    ) -> Result<IssuedTokens, TokenExchangeFailure> {
        let app = self.app;
        let key = app
            .api_keys
            .verify(&request.subject_token)
            .await
            .map_err(|e| match e {
                ApiKeyError::Store(f) => TokenExchangeFailure::Store(f),
                other => TokenExchangeFailure::Subject(other),
            })?;
        let decision = app
            .verifier
            .check_rate(&app.api_keys.principal(&key), Category::Token)
            .await
            .map_err(|r| match r {
                Rejection::TooManyRequests(d) => {
                    app.api_keys.record_refusal(&key.id, Outcome::RateLimited);
                    TokenExchangeFailure::RateLimited(d)
                }
                _ => TokenExchangeFailure::Limiter,
            })?;
        let settings = &app.settings;
        let (grant, lifetime) = decide_exchange(
            &key,
            request.scope,
            &request.resources,
            &settings.resources,
            settings.access_token_ttl,
            app.clock.now(),
        )?;
        let mut tokens = self.access_only(&grant, lifetime, Some(ACCESS_TOKEN_TYPE))?;
        tokens.rate_limit = decision;
        Ok(tokens)
    }
}
