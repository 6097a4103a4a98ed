//! Throttling of failed sign-ins, per account and per IP address, in the
//! shared database so that every node counts the same failures (OWASP
//! Authentication Cheat Sheet, "Protect against automated attacks").
//!
//! Each key is a GCRA bucket (see `rate_limit.rs`): a burst of failures is
//! allowed, then one more per refill interval. Only failures count; the
//! check before a password is verified reads the bucket without counting.

use std::sync::Arc;

use crate::storage::{StorageError, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub burst: i64,
    pub refill_us: i64,
}

impl Policy {
    fn tolerance(self) -> i64 {
        (self.burst - 1) * self.refill_us
    }
}

/// Five wrong passwords for one account, then one try a minute.
pub const PER_ACCOUNT: Policy = Policy {
    burst: 5,
    refill_us: 60_000_000,
};
/// Twenty failures from one address (offices share one), then one every
/// fifteen seconds.
pub const PER_IP: Policy = Policy {
    burst: 20,
    refill_us: 15_000_000,
};

pub struct LoginThrottle {
    store: Arc<dyn Store>,
}

impl LoginThrottle {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    fn buckets<'a>(email: &'a str, ip: Option<&'a str>) -> Vec<(String, Policy)> {
        let mut b = vec![(format!("login:account:{email}"), PER_ACCOUNT)];
        if let Some(ip) = ip {
            b.push((format!("login:ip:{ip}"), PER_IP));
        }
        b
    }

    /// Seconds until a sign-in may be tried, when one must wait.
    pub async fn retry_after(
        &self,
        email: &str,
        ip: Option<&str>,
        now_us: i64,
    ) -> Result<Option<u64>, StorageError> {
        let mut wait = 0i64;
        for (bucket, policy) in Self::buckets(email, ip) {
            if let Some(tat) = self.store.rate_limit_tat(&bucket).await? {
                wait = wait.max(tat - now_us - policy.tolerance());
            }
        }
        Ok((wait > 0).then(|| (wait as u64).div_ceil(1_000_000)))
    }

    /// Counts one failure against the account and the address.
    pub async fn record_failure(
        &self,
        email: &str,
        ip: Option<&str>,
        now_us: i64,
    ) -> Result<(), StorageError> {
        for (bucket, policy) in Self::buckets(email, ip) {
            // A refused advance means the bucket is already full: nothing
            // more to count.
            let _ = self
                .store
                .rate_limit_advance(&bucket, now_us, policy.refill_us, policy.tolerance())
                .await?;
        }
        Ok(())
    }
}
