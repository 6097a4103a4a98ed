//! The composition root: the state every handler shares, built once per
//! node. The loop that keeps it in step with the other nodes is in
//! [`crate::node::sync`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::crypto::keyring::{self, Keyring, KeyringError};
use crate::crypto::master_key::MasterKey;
use crate::metrics::Metrics;
use crate::node::login_throttle::LoginThrottle;
use crate::node::password_checks::PasswordChecks;
use crate::node::rate_limit::{RateLimiter, StoreBackend};
use crate::node::sync::SyncState;
use crate::node::usage::UsageRecorder;
use crate::service::api_keys::ApiKeys;
use crate::service::clients::{ClientRegistry, POLL_INTERVAL};
use crate::storage::{Backend, StorageError, Store};
use crate::verifier::revocation::{RevokedClient, RevokedToken};
use crate::verifier::{
    ApiKeyAuthenticator, KeySource, RevocationDocument, RevocationSource, StoreLegacyAuthenticator,
    Verifier, VerifierBuilder,
};

pub struct App {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub clock: SharedClock,
    pub master: Arc<MasterKey>,
    pub keyring: Arc<ArcSwap<Keyring>>,
    pub clients: Arc<ClientRegistry>,
    /// The legacy `appkey` check, for resource servers that ask over HTTP.
    pub legacy: StoreLegacyAuthenticator,
    /// Verifies keyflow's own access tokens for any of its audiences, for
    /// revocation and UserInfo.
    pub verifier: Verifier,
    /// The same, for `/v1`: only tokens meant for keyflow's management API.
    pub management_verifier: Verifier,
    /// The same, with no leeway on `exp`, for introspection.
    pub introspection_verifier: Verifier,
    pub api_keys: Arc<ApiKeys>,
    /// Per-client limit of the token endpoint. In memory, per node: a
    /// shared store would cost a database write per token.
    pub token_limiter: RateLimiter,
    pub usage: UsageRecorder,
    pub metrics: Metrics,
    /// Failed sign-ins per account and IP, in the shared database.
    pub login_throttle: LoginThrottle,
    /// Argon2id verifications, one per core at a time.
    pub password_checks: PasswordChecks,
    pub(crate) sync: Mutex<SyncState>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The workspace use cases, on this node's store.
    pub fn workspaces(&self) -> crate::service::workspaces::Workspaces<'_> {
        crate::service::workspaces::Workspaces::new(self.store.as_ref(), self.clients.hasher())
    }

    pub fn sessions(&self) -> crate::service::sessions::Sessions<'_> {
        crate::service::sessions::Sessions::new(self)
    }

    pub fn members(&self) -> crate::service::members::Members<'_> {
        crate::service::members::Members::new(self)
    }

    pub fn passwords(&self) -> crate::service::passwords::Passwords<'_> {
        crate::service::passwords::Passwords::new(self)
    }

    pub fn integrations(&self) -> crate::service::integrations::Integrations<'_> {
        crate::service::integrations::Integrations::new(self)
    }

    /// Usage analytics read from this node's store.
    pub fn usage_reports(&self) -> crate::service::usage::Usage<'_> {
        crate::service::usage::Usage::new(self.store.as_ref())
    }

    pub fn signup(&self) -> crate::service::signup::SignUp<'_> {
        crate::service::signup::SignUp::new(self)
    }

    pub fn authorizations(&self) -> crate::service::authorization::Authorizations<'_> {
        crate::service::authorization::Authorizations::new(self)
    }

    /// Creates missing signing keys, loads the keyring and takes the first
    /// epoch reading, so the node is ready when this returns.
    pub async fn new(
        settings: Settings,
        store: Arc<dyn Store>,
        master: MasterKey,
        clock: SharedClock,
    ) -> Result<Arc<Self>, KeyringError> {
        let created = keyring::ensure_keys(store.as_ref(), &master, clock.now()).await?;
        if !created.is_empty() {
            tracing::info!(algorithms = ?created, "created signing keys");
        }
        let clients = Arc::new(ClientRegistry::new(
            Arc::clone(&store),
            master.secret_hasher(),
            Arc::clone(&clock),
        ));
        let keyring = Arc::new(ArcSwap::from_pointee(Keyring::default()));
        let api_keys = Arc::new(
            ApiKeys::new(
                Arc::clone(&store),
                master.secret_hasher(),
                Arc::clone(&clock),
                settings.scopes.clone(),
            )
            .with_limits(settings.api_key_limits),
        );
        let verifier = local_verifier(&settings, &store, &keyring, &clock)
            .api_keys(Arc::clone(&api_keys) as Arc<dyn ApiKeyAuthenticator>)
            .rate_limiter(Arc::new(key_limiter(&store)))
            .build();
        let management_verifier = verifier.for_audiences(management_audiences(&settings));
        let login_throttle = LoginThrottle::new(Arc::clone(&store));
        let legacy = StoreLegacyAuthenticator::new(Arc::clone(&clients), &settings.scopes);
        let app = Arc::new(Self {
            settings: Arc::new(settings),
            store,
            clock,
            master: Arc::new(master),
            keyring,
            clients,
            legacy,
            management_verifier,
            introspection_verifier: verifier.exact_expiry(),
            verifier,
            api_keys,
            token_limiter: RateLimiter::in_memory(),
            usage: UsageRecorder::default(),
            metrics: Metrics::new(),
            login_throttle,
            password_checks: PasswordChecks::per_core(),
            sync: Mutex::new(SyncState::new()),
        });
        app.reload_keyring().await?;
        app.sync_once().await?;
        app.reload_revocations().await;
        Ok(app)
    }
}

/// API key limits hold across nodes when they share PostgreSQL; one
/// SQLite node keeps them in memory.
fn key_limiter(store: &Arc<dyn Store>) -> RateLimiter {
    match store.backend() {
        Backend::Postgres => RateLimiter::new(Arc::new(StoreBackend(Arc::clone(store)))),
        Backend::Sqlite => RateLimiter::in_memory(),
    }
}

/// Keys straight from this node's keyring.
struct LocalKeys(Arc<ArcSwap<Keyring>>);

#[async_trait::async_trait]
impl KeySource for LocalKeys {
    async fn fetch(&self) -> Result<Vec<u8>, String> {
        Ok(self.0.load().jwks_json().to_vec())
    }
}

/// Revocations straight from the database.
pub struct StoreRevocations {
    pub store: Arc<dyn Store>,
    pub clock: SharedClock,
    /// How far back a client-wide cut-off can still matter: the longest
    /// token lifetime.
    pub window: i64,
}

impl StoreRevocations {
    pub async fn document(&self) -> Result<RevocationDocument, StorageError> {
        let list = self
            .store
            .revocations(self.clock.now(), self.window)
            .await?;
        Ok(RevocationDocument {
            revoked_tokens: list
                .tokens
                .into_iter()
                .map(|(jti, exp)| RevokedToken { jti, exp })
                .collect(),
            revoked_clients: list
                .clients
                .into_iter()
                .map(|(client_id, revoked_before)| RevokedClient {
                    client_id,
                    revoked_before,
                })
                .collect(),
        })
    }
}

#[async_trait::async_trait]
impl RevocationSource for StoreRevocations {
    async fn fetch(&self) -> Result<RevocationDocument, String> {
        self.document().await.map_err(|e| e.to_string())
    }
}

/// The audiences `/v1` accepts: its own URL and the default audience, never
/// the other resources tokens may be minted for.
fn management_audiences(settings: &Settings) -> Vec<String> {
    let own = format!("{}/v1", settings.issuer);
    let default = settings.resources.default_audience().to_owned();
    if own == default {
        vec![own]
    } else {
        vec![own, default]
    }
}

fn local_verifier(
    settings: &Settings,
    store: &Arc<dyn Store>,
    keyring: &Arc<ArcSwap<Keyring>>,
    clock: &SharedClock,
) -> VerifierBuilder {
    let revocations = StoreRevocations {
        store: Arc::clone(store),
        clock: Arc::clone(clock),
        window: settings.access_token_ttl,
    };
    VerifierBuilder::new(
        &settings.issuer,
        settings.resources.all(),
        Arc::new(LocalKeys(Arc::clone(keyring))),
    )
    // Local reloads cost nothing: pick up a rotated key at once.
    .min_jwks_refetch(Duration::ZERO)
    .revocations(Arc::new(revocations), POLL_INTERVAL)
    .clock(Arc::clone(clock))
}
