//! The `none` client authentication method: a public client (RFC 6749
//! §2.1) names itself and proves nothing; PKCE binds its code instead.

use super::Tokens;
use crate::service::clients::{AuthError, AuthenticatedClient};
use crate::service::{During, StoreFailure};

#[derive(Debug, thiserror::Error)]
pub enum PublicClientError {
    /// A confidential client that left out its secret.
    #[error("the client is not public")]
    NotPublic,
    #[error("unknown client")]
    Unknown,
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

impl Tokens<'_> {
    /// The client `client_id`, if it is registered as public.
    pub async fn public_client(
        &self,
        client_id: &str,
    ) -> Result<AuthenticatedClient, PublicClientError> {
        let public = self
            .app
            .store
            .oauth_client(client_id)
            .await
            .during("read the client's OAuth registration")?
            .is_some_and(|(_, oauth)| oauth.public);
        if !public {
            return Err(PublicClientError::NotPublic);
        }
        match self.app.clients.find(client_id).await {
            Ok(entry) => Ok(AuthenticatedClient {
                entry,
                secret_id: String::new(),
            }),
            Err(AuthError::Storage(e)) => Err(StoreFailure::new("read the client", e).into()),
            Err(_) => Err(PublicClientError::Unknown),
        }
    }
}
