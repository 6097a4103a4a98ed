//! What keeps one node running and in step with the others: caches that
//! trust their contents only within a lease, rate limiting, usage batching,
//! sign-in throttling, and the loop that polls the shared epochs.

pub mod leased_cache;
pub mod login_throttle;
pub mod password_checks;
pub mod rate_limit;
pub mod sync;
pub mod usage;
