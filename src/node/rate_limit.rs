//! Rate limits: GCRA (the generic cell rate algorithm) per bucket, in
//! memory on one node or in the shared database across nodes, with the
//! headers of the IETF httpapi ratelimit-headers draft.
//!
//! A limit of N requests per minute emits one request every T = 60 s / N
//! and tolerates a burst of N: a request is allowed when the bucket's
//! theoretical arrival time (TAT) is at most 60 s − T ahead of now.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::storage::Store;

/// One minute, in microseconds: fine enough that even a million requests a
/// minute have a whole emission interval.
const WINDOW_US: i64 = 60_000_000;

/// What a request does, for its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Read,
    Write,
    Token,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Read => "read",
            Category::Write => "write",
            Category::Token => "token",
        }
    }

    /// Safe methods read; everything else writes.
    pub fn of_method(m: &axum::http::Method) -> Self {
        use axum::http::Method;
        if matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS) {
            Category::Read
        } else {
            Category::Write
        }
    }
}

/// Requests per minute for each category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub read: u32,
    pub write: u32,
    pub token: u32,
}

impl Limits {
    pub fn get(&self, c: Category) -> u32 {
        match c {
            Category::Read => self.read,
            Category::Write => self.write,
            Category::Token => self.token,
        }
    }
}

/// Per-key overrides: any subset of the categories.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<u32>,
}

impl Overrides {
    pub fn apply(&self, base: Limits) -> Limits {
        Limits {
            read: self.read.unwrap_or(base.read),
            write: self.write.unwrap_or(base.write),
            token: self.token.unwrap_or(base.token),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        for v in [self.read, self.write, self.token].into_iter().flatten() {
            if !(1..=1_000_000).contains(&v) {
                return Err("rate limits are requests per minute, 1 to 1000000".into());
            }
        }
        Ok(())
    }
}

const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the quota is whole again (or, refused, until a retry
    /// can succeed).
    pub reset: u64,
    pub category: Category,
}

impl Decision {
    /// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers),
    /// plus `Retry-After` when refused.
    pub fn write_headers(&self, h: &mut HeaderMap) {
        // Built by hand rather than with `format!`: every token answer
        // carries these two headers.
        let name = self.category.as_str();
        let mut number = itoa::Buffer::new();
        let mut policy = String::with_capacity(name.len() + 20);
        for part in ["\"", name, "\";q=", number.format(self.limit), ";w=60"] {
            policy.push_str(part);
        }
        let mut state = String::with_capacity(name.len() + 30);
        for part in ["\"", name, "\";r=", number.format(self.remaining)] {
            state.push_str(part);
        }
        state.push_str(";t=");
        state.push_str(number.format(self.reset));
        if let Ok(v) = HeaderValue::from_str(&policy) {
            h.insert(RATELIMIT_POLICY, v);
        }
        if let Ok(v) = HeaderValue::from_str(&state) {
            h.insert(RATELIMIT, v);
        }
        if !self.allowed {
            h.insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from(self.reset.max(1)),
            );
        }
    }
}

/// Where bucket state lives.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Atomically: if `max(tat, now) - now <= tolerance`, store
    /// `max(tat, now) + emission` and return `Ok(new tat)`; otherwise return
    /// `Err(current tat)`.
    async fn advance(
        &self,
        bucket: &str,
        now_us: i64,
        emission: i64,
        tolerance: i64,
    ) -> Result<Result<i64, i64>, String>;

    /// The bucket's theoretical arrival time, if it has one; changes
    /// nothing.
    async fn peek(&self, bucket: &str) -> Result<Option<i64>, String>;
}

#[derive(Default)]
pub struct MemoryBackend {
    tats: Mutex<HashMap<String, i64>>,
}

#[async_trait]
impl Backend for MemoryBackend {
    async fn advance(
        &self,
        bucket: &str,
        now: i64,
        emission: i64,
        tolerance: i64,
    ) -> Result<Result<i64, i64>, String> {
        let mut tats = self.tats.lock().unwrap_or_else(|e| e.into_inner());
        if tats.len() > 1_000_000 {
            tats.retain(|_, tat| *tat > now);
        }
        // The token endpoint passes here per request: one lookup, and the
        // bucket's key is allocated only the first time.
        if let Some(slot) = tats.get_mut(bucket) {
            let tat = (*slot).max(now);
            if tat - now > tolerance {
                return Ok(Err(tat));
            }
            *slot = tat + emission;
            return Ok(Ok(*slot));
        }
        // A new bucket is full: its first request always passes.
        tats.insert(bucket.to_owned(), now + emission);
        Ok(Ok(now + emission))
    }

    async fn peek(&self, bucket: &str) -> Result<Option<i64>, String> {
        let tats = self.tats.lock().unwrap_or_else(|e| e.into_inner());
        Ok(tats.get(bucket).copied())
    }
}

/// Bucket state in the database every node shares: exact across nodes,
/// at the cost of one write per limited request.
pub struct StoreBackend(pub Arc<dyn Store>);

#[async_trait]
impl Backend for StoreBackend {
    async fn advance(
        &self,
        bucket: &str,
        now: i64,
        emission: i64,
        tolerance: i64,
    ) -> Result<Result<i64, i64>, String> {
        self.0
            .rate_limit_advance(bucket, now, emission, tolerance)
            .await
            .map_err(|e| e.to_string())
    }

    async fn peek(&self, bucket: &str) -> Result<Option<i64>, String> {
        self.0
            .rate_limit_tat(bucket)
            .await
            .map_err(|e| e.to_string())
    }
}

pub struct RateLimiter {
    backend: Arc<dyn Backend>,
}

impl RateLimiter {
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Self { backend }
    }

    pub fn in_memory() -> Self {
        Self::new(Arc::new(MemoryBackend::default()))
    }

    /// What `check` would find now, without spending anything: the
    /// requests left of `limit` and the seconds until the quota is whole.
    pub async fn peek(
        &self,
        bucket: &str,
        category: Category,
        limit: u32,
        now_us: i64,
    ) -> Result<Decision, String> {
        let limit = limit.clamp(1, WINDOW_US as u32);
        let emission = WINDOW_US / i64::from(limit);
        let key = bucket_key(bucket, category);
        let tat = self.backend.peek(&key).await?.unwrap_or(now_us).max(now_us);
        let remaining = ((WINDOW_US - (tat - now_us)) / emission).clamp(0, i64::from(limit)) as u32;
        Ok(Decision {
            allowed: remaining > 0,
            limit,
            remaining,
            reset: ((tat - now_us).max(0) as u64).div_ceil(1_000_000),
            category,
        })
    }

    /// Counts one request of `category` against `limit` per minute in
    /// `bucket`'s budget.
    pub async fn check(
        &self,
        bucket: &str,
        category: Category,
        limit: u32,
        now_us: i64,
    ) -> Result<Decision, String> {
        let limit = limit.clamp(1, WINDOW_US as u32);
        let emission = WINDOW_US / i64::from(limit);
        let tolerance = WINDOW_US - emission;
        let key = bucket_key(bucket, category);
        let secs = |us: i64| (us.max(0) as u64).div_ceil(1_000_000);
        let decision = match self
            .backend
            .advance(&key, now_us, emission, tolerance)
            .await?
        {
            Ok(tat) => Decision {
                allowed: true,
                limit,
                remaining: ((WINDOW_US - (tat - now_us)) / emission).clamp(0, i64::from(limit))
                    as u32,
                reset: secs(tat - now_us),
                category,
            },
            Err(tat) => Decision {
                allowed: false,
                limit,
                remaining: 0,
                reset: secs(tat - now_us - tolerance),
                category,
            },
        };
        Ok(decision)
    }
}

/// A bucket's key in the backend: `bucket:category`, built without
/// `format!` (every token request builds one).
fn bucket_key(bucket: &str, category: Category) -> String {
    let category = category.as_str();
    let mut key = String::with_capacity(bucket.len() + 1 + category.len());
    key.push_str(bucket);
    key.push(':');
    key.push_str(category);
    key
}

#[cfg(test)]
mod tests;
