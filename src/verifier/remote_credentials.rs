//! API keys and the legacy `appkey` headers checked over HTTP, by a
//! resource API that holds only a resource server's credentials: neither
//! keyflow's database nor its master key.
//!
//! Answers come from keyflow's introspection endpoint (RFC 7662, with
//! keyflow's `secretkey` and `appkey` hints for the legacy headers) and are
//! cached under the same lease rule as keyflow's own nodes
//! (`node::leased_cache`): the resource API polls the credentials epoch
//! every `POLL_INTERVAL`, flushes its cache when the epoch moved, and
//! trusts a cached answer only until `LEASE` after the start of the last
//! poll that confirmed it. A regenerate waits `LEASE + POLL_INTERVAL`
//! before it answers, so by then no resource API trusts an answer that
//! predates it either. With the lease lapsed every check asks keyflow, and
//! a resource API that cannot reach keyflow fails closed (503).
//!
//! An answer is cached only if it is at least as fresh as the epoch the
//! cache is at: the answering node labels it with the epoch its own caches
//! reflected ([`EPOCH_HEADER`]), and a label that differs from ours (or
//! none) means "use it once, do not keep it" (for at most one of the
//! node's poll intervals after a change). Wrong credentials are cached
//! too, briefly, so that a flood of one wrong secret is not a flood of
//! calls to keyflow. The cache holds keyed digests, never the secrets.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_lc_rs::hmac;
use axum::http::HeaderValue;
use introspect::Answer;

use super::legacy::{LegacyAuthenticator, LegacyFailure};
use super::remote::{APPKEY_HINT, CREDENTIALS_EPOCH_PATH, INTROSPECTION_PATH, SECRETKEY_HINT};
use super::{ApiKeyAuthenticator, CredentialKind, Principal, Rejection};
use crate::clock::{SharedClock, SystemClock};
use crate::node::leased_cache::Lease;

mod introspect;
mod poll;

/// How long keyflow's "no" is remembered by default.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(2);
/// How long one check may take before the resource API answers 503.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// Beyond this many entries a map starts over.
const MAX_POSITIVE: usize = 100_000;
const MAX_NEGATIVE: usize = 10_000;

type Digest = [u8; 32];

#[derive(Default)]
struct Cache {
    /// The credentials epoch of the last poll; `None` before the first.
    epoch: Option<i64>,
    etag: Option<HeaderValue>,
    /// Bumped by every flush, so an answer that raced one is not kept.
    generation: u64,
    positive: HashMap<Digest, Arc<Principal>>,
    negative: HashMap<Digest, Instant>,
}

/// Checks credentials against a keyflow issuer as a registered resource
/// server. Share one per process; [`Self::spawn_poll`] (or the verifier's
/// `spawn_refresh`) keeps its lease.
pub struct RemoteCredentials {
    http: reqwest::Client,
    introspection_url: String,
    epoch_url: String,
    authorization: HeaderValue,
    /// Keys the cache's digests; random per process.
    digest_key: hmac::Key,
    negative_ttl: Duration,
    check_timeout: Duration,
    clock: SharedClock,
    lease: Lease,
    cache: RwLock<Cache>,
    remote_checks: AtomicU64,
    failing: AtomicBool,
}

impl std::fmt::Debug for RemoteCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteCredentials")
            .field("introspection_url", &self.introspection_url)
            .finish_non_exhaustive()
    }
}

/// Where a check stood when it began: its answer is kept only if nothing
/// moved meanwhile.
#[derive(Clone, Copy)]
struct Start {
    generation: u64,
    epoch: Option<i64>,
    leased: bool,
}

impl RemoteCredentials {
    /// A resource server `client_id` with `client_secret` (from `keyflow
    /// resource-server create`) of the keyflow at `issuer`.
    pub fn new(issuer: &str, client_id: &str, client_secret: &str) -> Result<Self, String> {
        let http = super::remote::http_client()?;
        Ok(Self::with_http(http, issuer, client_id, client_secret))
    }

    pub fn with_http(
        http: reqwest::Client,
        issuer: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Self {
        use base64::Engine;
        // RFC 6749 §2.3.1: each half form-urlencoded, then Basic.
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let pair = format!("{}:{}", encode(client_id), encode(client_secret));
        let basic = base64::engine::general_purpose::STANDARD.encode(pair);
        let mut authorization =
            HeaderValue::try_from(format!("Basic {basic}")).expect("base64 is a header value");
        authorization.set_sensitive(true);
        let issuer = issuer.trim_end_matches('/');
        let rng = aws_lc_rs::rand::SystemRandom::new();
        Self {
            http,
            introspection_url: format!("{issuer}{INTROSPECTION_PATH}"),
            epoch_url: format!("{issuer}{CREDENTIALS_EPOCH_PATH}"),
            authorization,
            digest_key: hmac::Key::generate(hmac::HMAC_SHA256, &rng)
                .expect("the system CSPRNG works"),
            negative_ttl: NEGATIVE_TTL,
            check_timeout: CHECK_TIMEOUT,
            clock: Arc::new(SystemClock),
            lease: Lease::default(),
            cache: RwLock::new(Cache::default()),
            remote_checks: AtomicU64::new(0),
            failing: AtomicBool::new(false),
        }
    }

    /// How long a "no" from keyflow is remembered (default 2 s).
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative_ttl = ttl;
        self
    }

    /// How long one check may wait for keyflow (default 2 s): with the
    /// lease lapsed, the bound on how late a 503 comes.
    pub fn check_timeout(mut self, timeout: Duration) -> Self {
        self.check_timeout = timeout;
        self
    }

    /// The clock that ends grace periods and expiring keys (default: the
    /// system's, which should be in sync with keyflow's).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// How many checks have gone to keyflow so far.
    pub fn remote_checks(&self) -> u64 {
        self.remote_checks.load(Ordering::Relaxed)
    }

    /// Whether cached answers may be trusted now.
    pub fn lease_valid(&self) -> bool {
        self.lease.is_valid()
    }

    fn read(&self) -> RwLockReadGuard<'_, Cache> {
        self.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Cache> {
        self.cache.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl RemoteCredentials {
    fn digest(&self, parts: &[&str]) -> Digest {
        let mut ctx = hmac::Context::with_key(&self.digest_key);
        for p in parts {
            ctx.update(&(p.len() as u64).to_be_bytes());
            ctx.update(p.as_bytes());
        }
        let tag = ctx.sign();
        let mut out = [0; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// The cached answer for `digest`: `Some(Some(_))` known good under the
    /// lease and not expired, `Some(None)` a recent "no", `None` unknown.
    fn cached(&self, digest: &Digest) -> Option<Option<Principal>> {
        let leased = self.lease.is_valid();
        let cache = self.read();
        if leased && let Some(p) = cache.positive.get(digest) {
            let now = self.clock.now();
            if p.expires_at.is_none_or(|e| now < e) {
                return Some(Some(Principal::clone(p)));
            }
        }
        match cache.negative.get(digest) {
            Some(until) if Instant::now() < *until => Some(None),
            _ => None,
        }
    }

    fn start(&self) -> Start {
        let leased = self.lease.is_valid();
        let cache = self.read();
        Start {
            generation: cache.generation,
            epoch: cache.epoch,
            leased,
        }
    }

    /// Keeps keyflow's answer if nothing moved since the check began and the
    /// answering node was at least at our epoch; a "yes" also needs the
    /// lease to have held. A "no" from a node still behind us could be the
    /// one a change has just turned into a "yes" (a workspace allowing the
    /// key alone), so it is not kept either.
    fn remember(&self, digest: Digest, start: Start, answer: &Answer) {
        if start.epoch.is_none() || answer.epoch != start.epoch {
            return;
        }
        let mut cache = self.write();
        if cache.generation != start.generation {
            return;
        }
        match &answer.principal {
            Some(p) if start.leased => {
                if cache.positive.len() >= MAX_POSITIVE {
                    cache.positive.clear();
                }
                cache.negative.remove(&digest);
                cache.positive.insert(digest, Arc::new(p.clone()));
            }
            Some(_) => {}
            None => {
                if cache.negative.len() >= MAX_NEGATIVE {
                    cache.negative.clear();
                }
                let until = Instant::now() + self.negative_ttl;
                cache.negative.insert(digest, until);
            }
        }
    }

    /// The cache, then keyflow.
    async fn check(&self, digest: Digest, form: &[(&str, &str)]) -> Result<Answer, String> {
        if let Some(principal) = self.cached(&digest) {
            return Ok(Answer {
                principal,
                epoch: None,
            });
        }
        let start = self.start();
        let answer = self.introspect(form).await?;
        self.remember(digest, start, &answer);
        Ok(answer)
    }
}

#[async_trait]
impl LegacyAuthenticator for RemoteCredentials {
    async fn authenticate(
        &self,
        appkey: &str,
        secretkey: Option<&str>,
    ) -> Result<Principal, LegacyFailure> {
        let (digest, form, kind) = match secretkey {
            Some(secret) => (
                self.digest(&["secretkey", appkey, secret]),
                vec![
                    ("token", secret),
                    ("token_type_hint", SECRETKEY_HINT),
                    ("appkey", appkey),
                ],
                CredentialKind::AppKeyAndSecret,
            ),
            None => (
                self.digest(&["appkey", appkey]),
                vec![("token", appkey), ("token_type_hint", APPKEY_HINT)],
                CredentialKind::AppKeyOnly,
            ),
        };
        let answer = self
            .check(digest, &form)
            .await
            .map_err(LegacyFailure::Unavailable)?;
        answer
            .principal
            .filter(|p| p.kind == kind)
            .ok_or(LegacyFailure::Invalid)
    }
}

#[async_trait]
impl ApiKeyAuthenticator for RemoteCredentials {
    async fn authenticate(&self, key: &str) -> Result<Principal, Rejection> {
        let digest = self.digest(&["api_key", key]);
        let answer = self.check(digest, &[("token", key)]).await.map_err(|e| {
            tracing::error!(error = %e, "API key check failed");
            Rejection::Unavailable
        })?;
        answer
            .principal
            .filter(|p| p.kind == CredentialKind::ApiKey)
            .ok_or_else(|| {
                Rejection::invalid_token("the API key is unknown, expired, deactivated or revoked")
            })
    }
}
