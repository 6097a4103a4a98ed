//! The loop that keeps a node in step with the others: it polls the shared
//! epochs, flushes caches whose credentials changed, reloads the keyring,
//! purges what has expired, and renews the leases the caches trust; a second
//! task writes batched usage.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::crypto::keyring::{Keyring, KeyringError};
use crate::service::clients::POLL_INTERVAL;
use crate::storage::{Epochs, StorageError};

/// Rebuild the keyring at least this often, so retired keys leave the JWKS
/// when their window closes even if nothing else changes.
const KEYRING_REFRESH: Duration = Duration::from_secs(60);
const USAGE_FLUSH: Duration = Duration::from_secs(5);

pub(crate) struct SyncState {
    pub(crate) epochs: Option<Epochs>,
    pub(crate) keyring_built: Instant,
    pub(crate) failing: bool,
    /// The UTC day usage counts were last pruned on.
    pub(crate) pruned_day: Option<i64>,
}

impl SyncState {
    pub(crate) fn new() -> Self {
        Self {
            epochs: None,
            keyring_built: Instant::now(),
            failing: false,
            pruned_day: None,
        }
    }
}

impl App {
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
            self.store.purge_rate_limits(self.clock.now_us()).await?;
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

    /// The credentials epoch as the database has it now, never this
    /// node's memory: for resource APIs, whose lease starts when they
    /// asked, which is only sound if the answer is at least that fresh.
    pub async fn current_credentials_epoch(&self) -> Result<i64, StorageError> {
        Ok(self.store.epochs().await?.credentials)
    }

    /// The credentials epoch this node's caches reflect: the one its last
    /// poll read, recorded after the flush it caused. `None` before the
    /// first poll and while polls fail. An answer computed after reading
    /// it is at least that fresh, which is what a resource server needs to
    /// know before it caches the answer under its own lease.
    pub fn synced_credentials_epoch(&self) -> Option<i64> {
        let s = self.lock_sync();
        if s.failing {
            return None;
        }
        s.epochs.map(|e| e.credentials)
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
        self.prune_usage().await;
    }

    /// Once a day per node, drops the daily usage counts older than the
    /// retention (`--usage-retention-days`).
    async fn prune_usage(&self) {
        let today = crate::domain::usage::day_of(self.clock.now());
        if self.lock_sync().pruned_day == Some(today) {
            return;
        }
        let before = today - self.settings.usage_retention_days;
        match self.store.prune_usage(before).await {
            Ok(rows) => {
                self.lock_sync().pruned_day = Some(today);
                if rows > 0 {
                    tracing::info!(rows, "pruned usage counts past the retention");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "pruning usage counts failed; retrying at the next flush")
            }
        }
    }
}
