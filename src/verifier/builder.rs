//! Putting a [`Verifier`] together: issuer, audiences, key source, and
//! the optional parts (revocations, API keys, the legacy path, limits).

use super::*;

pub struct VerifierBuilder {
    issuer: String,
    audiences: Vec<String>,
    keys: Arc<dyn KeySource>,
    revocations: Option<Arc<dyn RevocationSource>>,
    leeway: i64,
    min_refetch: Duration,
    revocation_poll: Duration,
    clock: SharedClock,
    legacy: Option<(Arc<dyn LegacyAuthenticator>, Arc<LegacyMessages>)>,
    api_keys: Option<Arc<dyn ApiKeyAuthenticator>>,
    limiter: Option<Arc<RateLimiter>>,
    remote_credentials: Option<Arc<RemoteCredentials>>,
}

impl VerifierBuilder {
    /// Accepts tokens of `issuer` for any of `audiences`, with keys from `keys`.
    pub fn new(
        issuer: &str,
        audiences: impl IntoIterator<Item = impl Into<String>>,
        keys: Arc<dyn KeySource>,
    ) -> Self {
        Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            audiences: audiences.into_iter().map(Into::into).collect(),
            keys,
            revocations: None,
            leeway: 30,
            min_refetch: Duration::from_secs(30),
            revocation_poll: Duration::from_secs(10),
            clock: Arc::new(SystemClock),
            legacy: None,
            api_keys: None,
            limiter: None,
            remote_credentials: None,
        }
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (default 30).
    pub fn leeway(mut self, seconds: i64) -> Self {
        self.leeway = seconds;
        self
    }

    /// The shortest time between two JWKS fetches caused by unknown `kid`s
    /// (default 30 s).
    pub fn min_jwks_refetch(mut self, interval: Duration) -> Self {
        self.min_refetch = interval;
        self
    }

    /// Where revoked tokens are listed, and how often to poll it (default
    /// 10 s): the bound on how late a revocation takes effect here.
    pub fn revocations(mut self, source: Arc<dyn RevocationSource>, poll: Duration) -> Self {
        self.revocations = Some(source);
        self.revocation_poll = poll;
        self
    }

    /// Accepts the legacy appkey headers too.
    pub fn legacy(
        mut self,
        authenticator: Arc<dyn LegacyAuthenticator>,
        messages: LegacyMessages,
    ) -> Self {
        self.legacy = Some((authenticator, Arc::new(messages)));
        self
    }

    /// Accepts API keys as Bearer tokens too.
    pub fn api_keys(mut self, authenticator: Arc<dyn ApiKeyAuthenticator>) -> Self {
        self.api_keys = Some(authenticator);
        self
    }

    /// Checks API keys and the legacy headers over HTTP, as a resource
    /// server registered with keyflow; `spawn_refresh` then also polls the
    /// credentials epoch that keeps its cache honest.
    pub fn remote_credentials(
        mut self,
        remote: Arc<RemoteCredentials>,
        messages: LegacyMessages,
    ) -> Self {
        self.legacy = Some((
            Arc::clone(&remote) as Arc<dyn LegacyAuthenticator>,
            Arc::new(messages),
        ));
        self.api_keys = Some(Arc::clone(&remote) as Arc<dyn ApiKeyAuthenticator>);
        self.remote_credentials = Some(remote);
        self
    }

    /// Enforces credentials' own rate limits with `limiter` (see
    /// [`rate_limited`]).
    pub fn rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    pub fn build(self) -> Verifier {
        Verifier {
            rules: Arc::new(ClaimRules {
                audiences: self.audiences,
                leeway: self.leeway,
                exp_leeway: self.leeway,
            }),
            shared: Arc::new(Inner {
                issuer: self.issuer,
                clock: self.clock,
                keys: KeyCache::new(self.keys, self.min_refetch),
                revocations: Revocations::new(self.revocations),
                revocation_poll: self.revocation_poll,
                legacy: self.legacy,
                api_keys: self.api_keys,
                limiter: self.limiter,
                remote_credentials: self.remote_credentials,
                verified: super::verified::VerifiedTokens::new(),
            }),
        }
    }
}
