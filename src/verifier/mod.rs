//! The verifier: what a Rust resource API adds to check every credential.
//!
//! It accepts `Authorization: Bearer <JWT access token>`, verified offline
//! against the issuer's JWKS (RFC 9068 §4), and, when configured, the legacy
//! `appkey`/`secretkey` headers. Handlers receive a typed [`Principal`]:
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use keyflow::verifier::{Principal, Rejection, Verifier};
//!
//! async fn reports(principal: Principal) -> Result<String, Rejection> {
//!     principal.require_scope("api:read")?;
//!     Ok(format!("reports of {:?}", principal.workspace_id))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::remote("https://auth.example.com", ["https://auth.example.com/v1"])?.build();
//! verifier.spawn_refresh();
//! let app: Router = Router::new().route("/reports", get(reports)).with_state(verifier);
//! # Ok(()) }
//! ```

mod builder;
mod extract;
mod jwt;
pub mod keys;
pub mod legacy;
mod principal;
mod rejection;
pub mod remote;
pub mod remote_credentials;
pub mod revocation;
mod verified;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

use crate::clock::{SharedClock, SystemClock};
use crate::node::rate_limit::{Category, Decision, RateLimiter};
pub use builder::VerifierBuilder;
pub use keys::{KeyCache, KeySource};
pub use legacy::{LegacyAuthenticator, LegacyFailure, LegacyMessages, StoreLegacyAuthenticator};
pub use principal::{
    ApiKeyAuthenticator, CredentialKind, Principal, RateLimitBudget, RefusalReport,
};
pub use rejection::{BearerError, Rejection};
pub use remote_credentials::RemoteCredentials;
pub use revocation::{RevocationDocument, RevocationSource, Revocations};

/// The algorithms a token may be signed with. `none` and HS* never are.
pub const ALLOWED_ALGORITHMS: &[&str] = &["ES256", "RS256", "EdDSA"];

struct Inner {
    issuer: String,
    clock: SharedClock,
    keys: KeyCache,
    revocations: Revocations,
    revocation_poll: Duration,
    legacy: Option<(Arc<dyn LegacyAuthenticator>, Arc<LegacyMessages>)>,
    api_keys: Option<Arc<dyn ApiKeyAuthenticator>>,
    limiter: Option<Arc<RateLimiter>>,
    /// Checks credentials over HTTP; its epoch poll runs with the refresh.
    remote_credentials: Option<Arc<RemoteCredentials>>,
    /// Access tokens whose signature verified, shared by every view.
    verified: verified::VerifiedTokens,
}

/// What a token's claims must satisfy here. Views of one verifier
/// ([`Verifier::for_audiences`], [`Verifier::exact_expiry`]) differ only in
/// these, and share keys, revocations and caches.
#[derive(Debug)]
struct ClaimRules {
    audiences: Vec<String>,
    /// Clock skew tolerated on `nbf` and `iat`.
    leeway: i64,
    /// Clock skew tolerated on `exp`.
    exp_leeway: i64,
}

/// Cheap to clone; share one per service.
#[derive(Clone)]
pub struct Verifier {
    shared: Arc<Inner>,
    rules: Arc<ClaimRules>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.shared.issuer)
            .field("audiences", &self.rules.audiences)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// The same verifier accepting tokens only for `audiences`, for an API
    /// that must not take tokens minted for another resource (RFC 8707 §2,
    /// RFC 9068 §4).
    pub fn for_audiences(&self, audiences: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            rules: Arc::new(ClaimRules {
                audiences: audiences.into_iter().map(Into::into).collect(),
                ..*self.rules
            }),
        }
    }

    /// The same verifier with no leeway on `exp`: for the issuer itself,
    /// whose clock decides when its tokens end (RFC 7662 §2.2).
    pub fn exact_expiry(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            rules: Arc::new(ClaimRules {
                audiences: self.rules.audiences.clone(),
                exp_leeway: 0,
                ..*self.rules
            }),
        }
    }

    /// A verifier for a keyflow (or any RFC 8414 / OIDC) issuer reached over
    /// HTTP: keys through discovery and JWKS, revocations from keyflow's
    /// revocation list.
    pub fn remote(
        issuer: &str,
        audiences: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<VerifierBuilder, String> {
        let http = remote::http_client()?;
        let keys = Arc::new(remote::RemoteJwks::new(http.clone(), issuer));
        let revocations = Arc::new(remote::RemoteRevocations::new(http, issuer));
        Ok(VerifierBuilder::new(issuer, audiences, keys)
            .revocations(revocations, Duration::from_secs(10)))
    }

    /// Polls the revocation list (and refreshes keys every ten minutes),
    /// and the credentials epoch when credentials are checked over HTTP,
    /// until the runtime stops.
    pub fn spawn_refresh(&self) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let epoch = async {
                if let Some(remote) = &this.shared.remote_credentials {
                    remote.poll_forever().await;
                }
            };
            tokio::join!(this.refresh_forever(), epoch);
        })
    }

    async fn refresh_forever(&self) {
        let mut polls: u64 = 0;
        let every = self.shared.revocation_poll.max(Duration::from_millis(100));
        let per_key_refresh = (600 / every.as_secs().max(1)).max(1);
        loop {
            if let Err(e) = self.refresh_revocations().await {
                tracing::warn!(error = %e, "fetching the revocation list failed");
            }
            if polls % per_key_refresh == per_key_refresh - 1 {
                let _ = self.shared.keys.reload().await;
            }
            polls += 1;
            tokio::time::sleep(every).await;
        }
    }

    pub async fn refresh_revocations(&self) -> Result<(), String> {
        self.shared.revocations.reload().await
    }

    pub async fn reload_keys(&self) -> Result<usize, String> {
        self.shared.keys.reload().await
    }

    /// Verifies a JWT access token (RFC 9068 §4).
    pub async fn verify_access_token(&self, token: &str) -> Result<Principal, Rejection> {
        jwt::verify(&self.shared, &self.rules, token).await
    }

    /// Authenticates a request from its headers.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, Rejection> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let token = bearer_token(value.as_bytes())?;
            if crate::domain::api_key::looks_like_api_key(token) {
                return match &self.shared.api_keys {
                    Some(keys) => {
                        let mut p = keys.authenticate(token).await?;
                        p.refusals = Some(RefusalReport(Arc::clone(keys)));
                        Ok(p)
                    }
                    None => Err(Rejection::invalid_token("API keys are not accepted here")),
                };
            }
            return self.verify_access_token(token).await;
        }
        let Some((legacy, messages)) = &self.shared.legacy else {
            return Err(Rejection::missing_bearer());
        };
        let text = |name: &str| headers.get(name).map(|v| v.to_str().map(str::trim));
        let invalid = || {
            Rejection::legacy(
                StatusCode::UNAUTHORIZED,
                messages.invalid_credentials.clone(),
            )
        };
        match (text("appkey"), text("secretkey")) {
            (None, None) => Err(Rejection::legacy(
                StatusCode::PRECONDITION_FAILED,
                messages.missing_credentials.clone(),
            )),
            (Some(Ok(appkey)), secret) if !appkey.is_empty() => {
                let secret = match secret {
                    None => None,
                    Some(Ok(s)) if !s.is_empty() => Some(s),
                    Some(_) => return Err(invalid()),
                };
                match legacy.authenticate(appkey, secret).await {
                    Ok(mut p) => {
                        p.legacy_messages = Some(Arc::clone(messages));
                        Ok(p)
                    }
                    Err(LegacyFailure::Invalid) => Err(invalid()),
                    Err(LegacyFailure::Unavailable(e)) => {
                        tracing::error!(error = %e, "legacy credential check failed");
                        Err(Rejection::legacy(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "Credentials cannot be checked right now; retry shortly",
                        ))
                    }
                }
            }
            _ => Err(invalid()),
        }
    }
}

impl Verifier {
    /// Spends one request of `category` from the principal's budget, if it
    /// has one and a limiter is configured.
    pub async fn check_rate(
        &self,
        p: &Principal,
        category: Category,
    ) -> Result<Option<Decision>, Rejection> {
        let (Some(limiter), Some(budget)) = (&self.shared.limiter, &p.rate_limit) else {
            return Ok(None);
        };
        let decision = limiter
            .check(
                &budget.bucket,
                category,
                budget.limits.get(category),
                self.shared.clock.now_us(),
            )
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "rate limit check failed");
                Rejection::Unavailable
            })?;
        if decision.allowed {
            Ok(Some(decision))
        } else {
            p.report(crate::domain::usage::Outcome::RateLimited);
            Err(Rejection::TooManyRequests(decision))
        }
    }
}

impl Verifier {
    /// The principal's budget in each category right now, without spending
    /// any; empty when it has none or no limiter is configured.
    pub async fn rate_state(&self, p: &Principal) -> Result<Vec<Decision>, String> {
        let (Some(limiter), Some(budget)) = (&self.shared.limiter, &p.rate_limit) else {
            return Ok(Vec::new());
        };
        let now = self.shared.clock.now_us();
        let mut out = Vec::new();
        for c in [Category::Read, Category::Write, Category::Token] {
            out.push(
                limiter
                    .peek(&budget.bucket, c, budget.limits.get(c), now)
                    .await?,
            );
        }
        Ok(out)
    }
}

/// Middleware that authenticates, enforces the credential's rate limit for
/// the request's category (safe methods read, others write) and adds the
/// RateLimit headers to the answer. Handlers still take `Principal`.
pub async fn rate_limited(State(v): State<Verifier>, mut req: Request, next: Next) -> Response {
    let principal = match v.authenticate(req.headers()).await {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let decision = match v
        .check_rate(&principal, Category::of_method(req.method()))
        .await
    {
        Ok(d) => d,
        Err(r) => return r.into_response(),
    };
    req.extensions_mut().insert(principal);
    let mut res = next.run(req).await;
    if let Some(d) = decision {
        d.write_headers(res.headers_mut());
    }
    res
}

/// RFC 6750 §2.1: `Bearer <b64token>`; the scheme is case-insensitive.
fn bearer_token(value: &[u8]) -> Result<&str, Rejection> {
    let value = std::str::from_utf8(value)
        .map_err(|_| Rejection::invalid_request("malformed Authorization header"))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Rejection::missing_bearer());
    }
    let token = token.trim();
    let b64token = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
    if token.is_empty() || !token.chars().all(b64token) {
        return Err(Rejection::invalid_request("malformed Bearer token"));
    }
    Ok(token)
}
