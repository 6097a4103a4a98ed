//! HTTP side of the client_credentials grant (RFC 6749 §4.4).

use super::TokenResponse;
use crate::app::App;
use crate::domain::grants::client_credentials::{
    ClientCredentialsError, ClientCredentialsRequest, decide,
};
use crate::http::error::{ErrorCode, OAuthError};
use crate::http::form::OAuthForm;
use crate::node::rate_limit::Category;
use crate::service::clients::AuthenticatedClient;

pub(super) fn parse(form: &mut OAuthForm) -> Result<ClientCredentialsRequest, OAuthError> {
    // A scope of only spaces names no scope: the defaults apply, as if omitted.
    let scope = super::optional_scope(form)?;
    Ok(ClientCredentialsRequest {
        scope,
        resources: form.take_all("resource"),
    })
}

pub(super) async fn handle(
    app: &App,
    client: &AuthenticatedClient,
    request: ClientCredentialsRequest,
) -> Result<TokenResponse, OAuthError> {
    let settings = &app.settings;
    let grant = decide(
        client.record(),
        request,
        &settings.scopes,
        &settings.resources,
    )
    .map_err(|e| {
        let code = match e {
            ClientCredentialsError::Scope(_) => ErrorCode::InvalidScope,
            ClientCredentialsError::Resource(_) => ErrorCode::InvalidTarget,
            ClientCredentialsError::UnauthorizedClient => ErrorCode::UnauthorizedClient,
        };
        OAuthError::new(code, e.to_string())
    })?;
    let decision = app
        .token_limiter
        .check(
            &grant.client_id,
            Category::Token,
            settings.token_rate_limit,
            app.clock.now_us(),
        )
        .await
        .map_err(|e| OAuthError::unavailable(&e))?;
    if !decision.allowed {
        return Err(OAuthError::rate_limited(decision));
    }
    let mut response = super::respond(app, &grant, settings.access_token_ttl, None)?;
    response.rate_limit = Some(decision);
    app.usage
        .record(&grant.client_id, &client.secret_id, app.clock.now());
    Ok(response)
}
