//! What the UserInfo endpoint (OIDC Core §5.3) reads.

use super::Tokens;
use crate::service::{During, StoreFailure};
use crate::storage::UserRecord;

impl Tokens<'_> {
    /// The user a token was issued to, if they still exist.
    pub async fn token_user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreFailure> {
        self.app
            .store
            .user_by_id(user_id)
            .await
            .during("read the token's user")
    }
}
