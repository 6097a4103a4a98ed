//! Throttling of failed sign-ins, per account and per IP address, in the
//! shared database so that every node counts the same failures (OWASP
//! Authentication Cheat Sheet, "Protect against automated attacks").
//!
//! Each key is a GCRA bucket (see `rate_limit.rs`): a burst of failures is
//! allowed, then one more per refill interval. An attempt takes its step
//! from every bucket *before* the password is checked, in one atomic update
//! per bucket, so parallel attempts cannot all pass a check that none has
//! counted yet; a successful sign-in gives its steps back. So only failures
//! count, and no more password checks run than the budget allows.

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

    /// Takes one attempt from the account's and the address's budgets.
    /// `Err(seconds)` when either is spent: nothing is taken then, and the
    /// password must not be checked.
    pub async fn reserve(
        &self,
        email: &str,
        ip: Option<&str>,
        now_us: i64,
    ) -> Result<Result<Reservation, u64>, StorageError> {
        self.reserve_in(Self::buckets(email, ip), now_us).await
    }

    /// The same budgets for user codes typed on `/device`, per session and
    /// per address: a user code is short, so guessing is stopped here (RFC
    /// 8628 §5.1). `session` is the session's hash, never its cookie.
    pub async fn reserve_device_code(
        &self,
        session: &str,
        ip: Option<&str>,
        now_us: i64,
    ) -> Result<Result<Reservation, u64>, StorageError> {
        let mut buckets = vec![(format!("device:session:{session}"), PER_ACCOUNT)];
        if let Some(ip) = ip {
            buckets.push((format!("device:ip:{ip}"), PER_IP));
        }
        self.reserve_in(buckets, now_us).await
    }

    async fn reserve_in(
        &self,
        buckets: Vec<(String, Policy)>,
        now_us: i64,
    ) -> Result<Result<Reservation, u64>, StorageError> {
        let mut taken = Reservation(Vec::new());
        for (bucket, policy) in buckets {
            let step = self
                .store
                .rate_limit_advance(&bucket, now_us, policy.refill_us, policy.tolerance())
                .await;
            match step {
                Ok(Ok(_)) => taken.0.push((bucket, policy)),
                Ok(Err(tat)) => {
                    self.refund(taken).await?;
                    let wait = (tat - now_us - policy.tolerance()).max(1);
                    return Ok(Err((wait as u64).div_ceil(1_000_000)));
                }
                Err(e) => {
                    self.refund(taken).await?;
                    return Err(e);
                }
            }
        }
        Ok(Ok(taken))
    }

    /// Gives a reserved attempt back: the sign-in succeeded.
    pub async fn refund(&self, reservation: Reservation) -> Result<(), StorageError> {
        for (bucket, policy) in reservation.0 {
            self.store
                .rate_limit_refund(&bucket, policy.refill_us)
                .await?;
        }
        Ok(())
    }
}

/// An attempt counted against its buckets; a failure simply keeps it.
#[derive(Debug)]
#[must_use = "a successful sign-in refunds its reservation"]
pub struct Reservation(Vec<(String, Policy)>);
