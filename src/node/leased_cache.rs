//! A cache that is trusted only under a lease, so that no node ever serves
//! a credential that another node (or the CLI) has revoked.
//!
//! The sync poller (`App::sync_once`) reads the credentials epoch every
//! `POLL_INTERVAL`, flushes every cache when the epoch moved, and renews the
//! lease to `poll start + LEASE`. A node whose poller stalls loses its lease
//! and reads the database directly. A change that revokes a credential
//! bumps the epoch in its own transaction and then waits `LEASE +
//! POLL_INTERVAL` ([`wait_for_propagation`]) before it reports success, so
//! by then no node anywhere still trusts an entry that predates it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

/// How often every node reads the epochs.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How long a poll's answer may be trusted.
pub const LEASE: Duration = Duration::from_millis(500);
/// Beyond this many entries the cache starts over.
const MAX_ENTRIES: usize = 100_000;

/// Waits until no node can still trust a cache entry written before a
/// credential change that has just committed.
pub async fn wait_for_propagation() {
    tokio::time::sleep(LEASE + POLL_INTERVAL).await;
}

/// The time until which a cache may be trusted: `LEASE` after the start of
/// the last poll that confirmed it. Lock-free, for the hot path.
#[derive(Debug)]
pub struct Lease {
    origin: Instant,
    /// Nanoseconds after `origin` until which the cache may be trusted.
    until: AtomicU64,
}

impl Default for Lease {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            until: AtomicU64::new(0),
        }
    }
}

impl Lease {
    pub fn is_valid(&self) -> bool {
        (self.origin.elapsed().as_nanos() as u64) < self.until.load(Ordering::Acquire)
    }

    /// Trusted until `LEASE` after `poll_started`, the moment the poll that
    /// confirmed the cache began (not when its answer came back).
    pub fn renew(&self, poll_started: Instant) {
        let until = poll_started.saturating_duration_since(self.origin) + LEASE;
        self.until.store(until.as_nanos() as u64, Ordering::Release);
    }

    /// Stops trusting the cache (the poller lost its source).
    pub fn end(&self) {
        self.until.store(0, Ordering::Release);
    }
}

pub struct LeasedCache<V> {
    map: RwLock<HashMap<String, Arc<V>>>,
    /// Bumped under the write lock by every flush, so a lookup that raced a
    /// flush does not put its stale answer back.
    generation: AtomicU64,
    lease: Lease,
}

impl<V> Default for LeasedCache<V> {
    fn default() -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            lease: Lease::default(),
        }
    }
}

impl<V> LeasedCache<V> {
    /// The cached value while the lease holds; otherwise `load`'s answer,
    /// which is cached if it exists and the lease held when we started.
    pub async fn get_or_load<E, F, Fut>(&self, key: &str, load: F) -> Result<Option<Arc<V>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<V>, E>>,
    {
        let trusted = self.lease.is_valid();
        if trusted && let Some(hit) = self.read().get(key) {
            return Ok(Some(Arc::clone(hit)));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(found) = load().await? else {
            return Ok(None);
        };
        let found = Arc::new(found);
        if trusted {
            let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
            if self.generation.load(Ordering::Acquire) == generation {
                if map.len() >= MAX_ENTRIES {
                    map.clear();
                }
                map.insert(key.to_owned(), Arc::clone(&found));
            }
        }
        Ok(Some(found))
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<String, Arc<V>>> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets every entry.
    pub fn invalidate_all(&self) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.clear();
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Trusts the cache until `LEASE` after `poll_started`, the moment the
    /// poll that confirmed it began.
    pub fn renew_lease(&self, poll_started: Instant) {
        self.lease.renew(poll_started);
    }

    /// Stops trusting the cache (the poller lost the database).
    pub fn drop_lease(&self) {
        self.lease.end();
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
