//! Client authentication, with a cache that never outlives a secret change
//! (see `leased_cache.rs`).

use std::sync::Arc;
use std::time::Instant;

use crate::clock::SharedClock;
use crate::domain::secret::SecretHasher;
use crate::node::leased_cache::LeasedCache;
pub use crate::node::leased_cache::{LEASE, POLL_INTERVAL, wait_for_propagation};
use crate::storage::{ClientRecord, ClientWithSecrets, OAuthClientRecord, StorageError, Store};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("unknown client")]
    UnknownClient,
    #[error("wrong client secret")]
    WrongSecret,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A client that proved it holds one of its valid secrets.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub entry: Arc<ClientWithSecrets>,
    /// Which secret matched, for usage statistics.
    pub secret_id: String,
}

impl AuthenticatedClient {
    pub fn record(&self) -> &ClientRecord {
        &self.entry.client
    }

    /// When the matched secret stops being valid, if it ever does.
    pub fn secret_expires_at(&self) -> Option<crate::clock::UnixTime> {
        let secret = self.entry.secrets.iter().find(|s| s.id == self.secret_id);
        secret.and_then(|s| s.expires_at)
    }
}

pub struct ClientRegistry {
    store: Arc<dyn Store>,
    hasher: SecretHasher,
    clock: SharedClock,
    cache: LeasedCache<ClientWithSecrets>,
    /// Third-party clients' OAuth registrations, under the same lease:
    /// every change to one bumps the credentials epoch, as a secret's does.
    registrations: LeasedCache<OAuthClientRecord>,
}

impl std::fmt::Debug for ClientRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRegistry").finish_non_exhaustive()
    }
}

impl ClientRegistry {
    pub fn new(store: Arc<dyn Store>, hasher: SecretHasher, clock: SharedClock) -> Self {
        Self {
            store,
            hasher,
            clock,
            cache: LeasedCache::default(),
            registrations: LeasedCache::default(),
        }
    }

    pub fn hasher(&self) -> &SecretHasher {
        &self.hasher
    }

    /// Checks `secret` against every secret of the client that is valid now.
    /// Each candidate is compared in constant time and none is skipped, so
    /// timing says nothing about which secret (if any) matched.
    pub async fn authenticate(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<AuthenticatedClient, AuthError> {
        let presented = self.hasher.hash_str(secret);
        let entry = self
            .lookup(client_id)
            .await?
            .ok_or(AuthError::UnknownClient)?;
        let now = self.clock.now();
        let mut matched = None;
        for s in &entry.secrets {
            if s.hash.matches(&presented) && s.is_valid_at(now) {
                matched = Some(s.id.clone());
            }
        }
        match matched {
            Some(secret_id) => Ok(AuthenticatedClient { entry, secret_id }),
            None => Err(AuthError::WrongSecret),
        }
    }

    /// The client without checking a secret (for the legacy appkey-only path).
    pub async fn find(&self, client_id: &str) -> Result<Arc<ClientWithSecrets>, AuthError> {
        self.lookup(client_id)
            .await?
            .ok_or(AuthError::UnknownClient)
    }

    async fn lookup(
        &self,
        client_id: &str,
    ) -> Result<Option<Arc<ClientWithSecrets>>, StorageError> {
        let now = self.clock.now();
        self.cache
            .get_or_load(client_id, || self.store.find_client(client_id, now))
            .await
    }

    /// A client's OAuth registration (redirect URIs, scopes, grants, ID
    /// token algorithm), which every refresh, code exchange and device poll
    /// reads: cached like the client itself.
    pub async fn registration(
        &self,
        client_id: &str,
    ) -> Result<Option<Arc<OAuthClientRecord>>, StorageError> {
        self.registrations
            .get_or_load(client_id, || async {
                Ok(self
                    .store
                    .oauth_client(client_id)
                    .await?
                    .map(|(_, oauth)| oauth))
            })
            .await
    }

    /// Forgets every cached client and registration.
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
        self.registrations.invalidate_all();
    }

    pub fn renew_lease(&self, poll_started: Instant) {
        self.cache.renew_lease(poll_started);
        self.registrations.renew_lease(poll_started);
    }

    pub fn drop_lease(&self) {
        self.cache.drop_lease();
        self.registrations.drop_lease();
    }

    pub fn cached_len(&self) -> usize {
        self.cache.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::MockClock;
    use crate::domain::workspace::Workspace;
    use crate::storage::{NewSecret, SecretRotation};
    use crate::testing::TestDb;
    use aws_lc_rs::hmac;

    fn audit() -> crate::domain::audit::AuditEntry {
        crate::domain::audit::AuditContext::system()
            .entry(crate::domain::audit::AuditEvent::WorkspaceCreated, 0)
    }

    async fn registry(db: &TestDb) -> (ClientRegistry, Arc<dyn Store>) {
        let store = db.store().await;
        let hasher = SecretHasher::new(hmac::Key::new(hmac::HMAC_SHA256, b"pepper"));
        let ws = Workspace {
            id: "w".into(),
            name: "w".into(),
            created_at: 0,
        };
        store
            .create_workspace(
                &ws,
                "app_1",
                &NewSecret::new(hasher.hash_str("sec_one")),
                None,
                &audit(),
            )
            .await
            .unwrap();
        let clock: SharedClock = Arc::new(MockClock::new(10));
        (
            ClientRegistry::new(Arc::clone(&store), hasher, clock),
            store,
        )
    }

    async fn rotate(store: &dyn Store, registry: &ClientRegistry, secret: &str) {
        let rotation = SecretRotation {
            now: 10,
            previous_expire_at: 10,
            revoke_issued_tokens: false,
        };
        let new = NewSecret::new(registry.hasher().hash_str(secret));
        assert!(
            store
                .rotate_client_secret("app_1", &new, rotation, &audit())
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn without_a_lease_every_lookup_reads_the_database() {
        let db = TestDb::sqlite();
        let (registry, store) = registry(&db).await;
        registry.authenticate("app_1", "sec_one").await.unwrap();
        assert_eq!(registry.cached_len(), 0);
        rotate(store.as_ref(), &registry, "sec_two").await;
        assert!(matches!(
            registry.authenticate("app_1", "sec_one").await,
            Err(AuthError::WrongSecret)
        ));
        registry.authenticate("app_1", "sec_two").await.unwrap();
    }

    #[tokio::test]
    async fn under_a_lease_the_cache_answers_until_invalidated() {
        let db = TestDb::sqlite();
        let (registry, store) = registry(&db).await;
        registry.renew_lease(Instant::now());
        registry.authenticate("app_1", "sec_one").await.unwrap();
        assert_eq!(registry.cached_len(), 1);
        rotate(store.as_ref(), &registry, "sec_two").await;
        // The cache has not heard of the rotation yet: this is exactly why
        // a rotation waits out the lease before it reports success.
        registry.authenticate("app_1", "sec_one").await.unwrap();
        registry.invalidate_all();
        assert!(matches!(
            registry.authenticate("app_1", "sec_one").await,
            Err(AuthError::WrongSecret)
        ));
        registry.authenticate("app_1", "sec_two").await.unwrap();
    }

    #[tokio::test]
    async fn an_expired_lease_bypasses_the_cache() {
        let db = TestDb::sqlite();
        let (registry, store) = registry(&db).await;
        registry.renew_lease(Instant::now());
        registry.authenticate("app_1", "sec_one").await.unwrap();
        rotate(store.as_ref(), &registry, "sec_two").await;
        registry.drop_lease();
        assert!(matches!(
            registry.authenticate("app_1", "sec_one").await,
            Err(AuthError::WrongSecret)
        ));
    }

    #[tokio::test]
    async fn unknown_clients_are_not_cached() {
        let db = TestDb::sqlite();
        let (registry, _) = registry(&db).await;
        registry.renew_lease(Instant::now());
        assert!(matches!(
            registry.authenticate("app_x", "s").await,
            Err(AuthError::UnknownClient)
        ));
        assert_eq!(registry.cached_len(), 0);
    }
}
