//! The credentials epoch, polled: what keeps the cache's lease.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::http::{StatusCode, header};
use serde::Deserialize;
use tokio::task::JoinHandle;

use super::RemoteCredentials;
use crate::node::leased_cache::{LEASE, POLL_INTERVAL};

#[derive(Deserialize)]
struct EpochDocument {
    credentials: i64,
}

impl RemoteCredentials {
    /// One poll of the credentials epoch: flushes the cache if it moved,
    /// then renews the lease from the moment the poll started.
    pub async fn poll_once(&self) -> Result<(), String> {
        let started = Instant::now();
        let etag = self.read().etag.clone();
        let mut req = self
            .http
            .get(&self.epoch_url)
            .header(header::AUTHORIZATION, self.authorization.clone())
            .timeout(LEASE);
        if let Some(etag) = etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        let res = req
            .send()
            .await
            .map_err(|e| format!("GET {}: {e}", self.epoch_url))?;
        match res.status() {
            StatusCode::NOT_MODIFIED => {}
            StatusCode::OK => {
                let etag = res.headers().get(header::ETAG).cloned();
                let doc: EpochDocument = res
                    .json()
                    .await
                    .map_err(|e| format!("{}: not a credentials epoch: {e}", self.epoch_url))?;
                let mut cache = self.write();
                if cache.epoch != Some(doc.credentials) {
                    cache.generation += 1;
                    cache.positive.clear();
                    cache.negative.clear();
                    cache.epoch = Some(doc.credentials);
                }
                cache.etag = etag;
            }
            other => return Err(format!("GET {}: HTTP {other}", self.epoch_url)),
        }
        self.lease.renew(started);
        Ok(())
    }

    /// Polls every `POLL_INTERVAL` until the runtime stops. A failed poll
    /// ends the lease at once: every check then asks keyflow.
    pub fn spawn_poll(self: &Arc<Self>) -> JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move { this.poll_forever().await })
    }

    pub(crate) async fn poll_forever(&self) {
        let mut tick = tokio::time::interval(POLL_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.poll_once().await {
                Ok(()) => {
                    if self.failing.swap(false, Ordering::Relaxed) {
                        tracing::info!("keyflow's credentials epoch is reachable again");
                    }
                }
                Err(e) => {
                    self.lease.end();
                    if !self.failing.swap(true, Ordering::Relaxed) {
                        tracing::warn!(error = %e, "polling keyflow's credentials epoch failed; every check asks keyflow until it recovers");
                    }
                }
            }
        }
    }
}
