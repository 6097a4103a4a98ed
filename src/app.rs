//! The composition root: the state every handler shares, and the background
//! work that keeps a node in step with the others (epoch polling, keyring
//! reloads, batched usage writes).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api_keys::ApiKeys;
use crate::clients::{ClientRegistry, POLL_INTERVAL};
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::crypto::keyring::{self, Keyring, KeyringError};
use crate::crypto::master_key::MasterKey;
use crate::domain::user::PasswordChecks;
use crate::login_throttle::LoginThrottle;
use crate::metrics::Metrics;
use crate::rate_limit::{RateLimiter, StoreBackend};
use crate::storage::{Backend, Epochs, StorageError, Store};
use crate::usage::UsageRecorder;
use crate::verifier::revocation::{RevokedClient, RevokedToken};
use crate::verifier::{
    ApiKeyAuthenticator, KeySource, RevocationDocument, RevocationSource, Verifier, VerifierBuilder,
};

/// Rebuild the keyring at least this often, so retired keys leave the JWKS
/// when their window closes even if nothing else changes.
const KEYRING_REFRESH: Duration = Duration::from_secs(60);
const USAGE_FLUSH: Duration = Duration::from_secs(5);

pub struct App {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub clock: SharedClock,
    pub master: Arc<MasterKey>,
    pub keyring: Arc<ArcSwap<Keyring>>,
    pub clients: Arc<ClientRegistry>,
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
    sync: Mutex<SyncState>,
}

struct SyncState {
    epochs: Option<Epochs>,
    keyring_built: Instant,
    failing: bool,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

impl App {
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
        // API key limits hold across nodes when they share PostgreSQL; one
        // SQLite node keeps them in memory.
        let key_limiter = match store.backend() {
            Backend::Postgres => RateLimiter::new(Arc::new(StoreBackend(Arc::clone(&store)))),
            Backend::Sqlite => RateLimiter::in_memory(),
        };
        let verifier = local_verifier(&settings, &store, &keyring, &clock)
            .api_keys(Arc::clone(&api_keys) as Arc<dyn ApiKeyAuthenticator>)
            .rate_limiter(Arc::new(key_limiter))
            .build();
        let management_verifier = verifier.for_audiences(management_audiences(&settings));
        let login_throttle = LoginThrottle::new(Arc::clone(&store));
        let app = Arc::new(Self {
            settings: Arc::new(settings),
            store,
            clock,
            master: Arc::new(master),
            keyring,
            clients,
            management_verifier,
            introspection_verifier: verifier.exact_expiry(),
            verifier,
            api_keys,
            token_limiter: RateLimiter::in_memory(),
            usage: UsageRecorder::default(),
            metrics: Metrics::new(),
            login_throttle,
            password_checks: PasswordChecks::per_core(),
            sync: Mutex::new(SyncState {
                epochs: None,
                keyring_built: Instant::now(),
                failing: false,
            }),
        });
        app.reload_keyring().await?;
        app.sync_once().await?;
        app.reload_revocations().await;
        Ok(app)
    }

    pub async fn reload_keyring(&self) -> Result<(), KeyringError> {
        let stored = self.store.list_signing_keys().await?;
        let previous = self.keyring.load();
        let ring = Keyring::build(
            &stored,
            &self.master,
            Some(&previous),
            self.clock.now(),
            self.settings.key_publish_window(),
        )?;
        // The token endpoint needs its configured algorithm's key.
        ring.active(self.settings.access_token_alg)?;
        self.keyring.store(Arc::new(ring));
        self.lock_sync().keyring_built = Instant::now();
        Ok(())
    }

    /// One poll of the epochs: flush the client cache if credentials changed,
    /// reload the keyring if keys changed, then renew the cache lease.
    pub async fn sync_once(&self) -> Result<(), KeyringError> {
        let started = Instant::now();
        let epochs = self.store.epochs().await?;
        let (credentials_changed, reload, revoked) = {
            let s = self.lock_sync();
            let last = s.epochs;
            (
                last.is_some_and(|l| l.credentials != epochs.credentials),
                last.is_none_or(|l| l.signing_keys != epochs.signing_keys)
                    || s.keyring_built.elapsed() >= KEYRING_REFRESH,
                last.is_some_and(|l| l.revocations != epochs.revocations),
            )
        };
        if credentials_changed {
            self.clients.invalidate_all();
            self.api_keys.invalidate_all();
        }
        if reload {
            self.reload_keyring().await?;
            // Expired denylist entries and refilled rate-limit buckets go
            // with the same once-a-minute beat.
            self.store.purge_revocations(self.clock.now()).await?;
            self.store
                .purge_rate_limits(crate::rate_limit::now_us())
                .await?;
            self.store.purge_expired_auth(self.clock.now()).await?;
        }
        if revoked {
            self.reload_revocations().await;
        }
        self.lock_sync().epochs = Some(epochs);
        self.clients.renew_lease(started);
        self.api_keys.renew_lease(started);
        Ok(())
    }

    /// Refreshes this node's own view of revoked tokens.
    pub async fn reload_revocations(&self) {
        if let Err(e) = self.verifier.refresh_revocations().await {
            tracing::warn!(error = %e, "loading revocations failed");
        }
    }

    fn lock_sync(&self) -> std::sync::MutexGuard<'_, SyncState> {
        self.sync.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the poller and the usage flusher; both stop when `shutdown`
    /// turns true, the flusher after a last flush.
    pub fn spawn_background(
        self: &Arc<Self>,
        shutdown: watch::Receiver<bool>,
    ) -> Vec<JoinHandle<()>> {
        let poller = {
            let app = Arc::clone(self);
            let mut shutdown = shutdown.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(POLL_INTERVAL);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = tick.tick() => app.poll_logged().await,
                        _ = shutdown.changed() => break,
                    }
                }
            })
        };
        let flusher = {
            let app = Arc::clone(self);
            let mut shutdown = shutdown;
            tokio::spawn(async move {
                let start = tokio::time::Instant::now() + USAGE_FLUSH;
                let mut tick = tokio::time::interval_at(start, USAGE_FLUSH);
                loop {
                    tokio::select! {
                        _ = tick.tick() => app.flush_usage().await,
                        _ = shutdown.changed() => break,
                    }
                }
                app.flush_usage().await;
            })
        };
        vec![poller, flusher]
    }

    async fn poll_logged(&self) {
        let result = self.sync_once().await;
        let mut s = self.lock_sync();
        match result {
            Ok(()) if s.failing => {
                s.failing = false;
                tracing::info!("database reachable again; client cache re-enabled");
            }
            Ok(()) => {}
            Err(e) => {
                self.clients.drop_lease();
                self.api_keys.drop_lease();
                if !s.failing {
                    s.failing = true;
                    tracing::warn!(error = %e, "sync poll failed; client cache bypassed until it recovers");
                }
            }
        }
    }

    pub async fn flush_usage(&self) {
        if let Err(e) = self.usage.flush(self.store.as_ref()).await {
            tracing::warn!(error = %e, "writing usage counters failed; keeping them for the next flush");
        }
        if let Err(e) = self.api_keys.flush_usage().await {
            tracing::warn!(error = %e, "writing API key usage failed; keeping it for the next flush");
        }
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
