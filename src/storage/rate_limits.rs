//! GCRA rate-limit buckets shared by every node (see `node/rate_limit.rs`).

use async_trait::async_trait;

use super::Result;

#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// One GCRA step for `bucket`, atomically (see `rate_limit.rs`):
    /// `Ok(new tat)` when allowed, `Err(current tat)` when not.
    async fn rate_limit_advance(
        &self,
        bucket: &str,
        now_us: i64,
        emission_ms: i64,
        tolerance_ms: i64,
    ) -> Result<std::result::Result<i64, i64>>;

    /// Gives back one step taken from a GCRA bucket by `rate_limit_advance`
    /// (see `rate_limit.rs`), atomically.
    async fn rate_limit_refund(&self, bucket: &str, emission_us: i64) -> Result<()>;

    /// A bucket's theoretical arrival time, if it has one.
    async fn rate_limit_tat(&self, bucket: &str) -> Result<Option<i64>>;

    /// Forgets buckets that have fully refilled.
    async fn purge_rate_limits(&self, now_us: i64) -> Result<u64>;
}
