//! Access token verification cost, per algorithm (ES256, RS256, EdDSA).
//!
//! For each algorithm it signs realistic RFC 9068 access tokens and
//! measures three things:
//! - `raw_signature`: only the signature check, aws-lc-rs's
//!   `ParsedPublicKey::verify_sig` over `header.payload`, with the key parsed
//!   from the public JWK and the signature decoded once, outside the loop;
//! - `verifier_first`: `Verifier::verify_access_token` on a token it has not
//!   seen, keyflow's whole check (header, key lookup by `kid`, signature,
//!   claims, revocation list), each iteration a freshly signed token;
//! - `verifier_again`: the same call on a token it has verified before,
//!   which skips the signature (the claims and the revocation list are
//!   checked every time; see `src/verifier/verified.rs`).
//!
//! Criterion measures all three (one group per algorithm). The async
//! routines run on a current-thread tokio runtime through Criterion's
//! `async_tokio` support, which enters the runtime once around the whole
//! timing loop, so no per-iteration `block_on` cost is counted.
//!
//! A summary table follows: verifications per second (1e9 / mean ns), the
//! first check's overhead over the raw check (target: under 20 %), and the
//! cost of a token presented again. Its means come from a plain `Instant`
//! loop, not from Criterion: 2,000 warm-up iterations, then 20,000 measured
//! ones in rounds that alternate between the routines, so background load
//! hits them alike; the median round counts. Tokens for first checks are
//! signed before each round, outside the timing.
//!
//! Run: `cargo bench --bench verify` (add `-- --quick` for a shorter
//! Criterion pass). Without cargo's `--bench` flag (`cargo test --benches`)
//! Criterion runs each routine once and the summary takes a few iterations.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use criterion::{BatchSize, Criterion};
use keyflow::crypto::signing::{Algorithm, JwtType, SigningKey};
use keyflow::verifier::{KeySource, Verifier, VerifierBuilder};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

const ISSUER: &str = "https://auth.keyflow.test";
const AUDIENCE: &str = "https://api.keyflow.test";
const TARGET_OVERHEAD_PERCENT: f64 = 20.0;

/// A JWK Set served from memory.
struct StaticJwks(Vec<u8>);

#[async_trait]
impl KeySource for StaticJwks {
    async fn fetch(&self) -> Result<Vec<u8>, String> {
        Ok(self.0.clone())
    }
}

/// One algorithm's token, ready for every routine.
struct Case {
    key: SigningKey,
    alg: Algorithm,
    token: String,
    raw_key: ParsedPublicKey,
    signature: Vec<u8>,
}

impl Case {
    fn new(key: SigningKey) -> Case {
        let token = key.sign_jwt(JwtType::AccessToken, &claims(key.alg(), 0));
        let (_, signature) = token.rsplit_once('.').expect("a compact JWS");
        Case {
            alg: key.alg(),
            raw_key: parse_public_jwk(&key.public_jwk()),
            signature: B64.decode(signature).expect("a base64url signature"),
            token,
            key,
        }
    }

    /// `n` tokens the verifier has not seen (each its own `jti`).
    fn fresh_tokens(&self, n: u32) -> Vec<String> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        (0..n)
            .map(|_| {
                let serial = NEXT.fetch_add(1, Ordering::Relaxed);
                self.key
                    .sign_jwt(JwtType::AccessToken, &claims(self.alg, serial))
            })
            .collect()
    }

    /// `header.payload`: what the signature covers.
    fn signing_input(&self) -> &[u8] {
        let (input, _) = self.token.rsplit_once('.').expect("a compact JWS");
        input.as_bytes()
    }

    fn verify_raw(&self, input: &[u8]) {
        black_box(
            self.raw_key
                .verify_sig(black_box(input), black_box(&self.signature)),
        )
        .expect("the raw signature check fails");
    }

    /// The token verified before: remembered.
    async fn verify_again(&self, verifier: &Verifier) {
        verify(verifier, &self.token).await;
    }
}

async fn verify(verifier: &Verifier, token: &str) {
    black_box(verifier.verify_access_token(black_box(token)).await)
        .expect("the verifier rejects the token");
}

fn unix_now() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH);
    since_epoch.expect("the clock is after 1970").as_secs() as i64
}

/// The claims of a client-credentials access token, as the verifier requires.
fn claims(alg: Algorithm, serial: u64) -> Value {
    let now = unix_now();
    json!({
        "iss": ISSUER,
        "sub": "app_x",
        "aud": AUDIENCE,
        "exp": now + 3600,
        "iat": now,
        "nbf": now,
        "jti": format!("bench-{}-{serial}", alg.as_str()),
        "client_id": "app_x",
        "scope": "api:read api:write",
        "workspace_id": "ws-1",
    })
}

fn jwk_bytes(jwk: &Value, member: &str) -> Vec<u8> {
    let text = jwk[member].as_str().expect("a JWK member");
    B64.decode(text).expect("a base64url JWK member")
}

/// The aws-lc-rs key for a public JWK, built the way a resource server would.
fn parse_public_jwk(jwk: &Value) -> ParsedPublicKey {
    let parsed = match jwk["kty"].as_str() {
        Some("EC") => {
            let point = [&[4u8][..], &jwk_bytes(jwk, "x"), &jwk_bytes(jwk, "y")].concat();
            ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        }
        Some("OKP") => ParsedPublicKey::new(&ED25519, jwk_bytes(jwk, "x")),
        Some("RSA") => PublicKeyComponents {
            n: jwk_bytes(jwk, "n"),
            e: jwk_bytes(jwk, "e"),
        }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256),
        other => panic!("unexpected key type {other:?}"),
    };
    parsed.expect("a valid public key")
}

/// One verifier that knows every key, its JWKS already fetched.
fn verifier(rt: &Runtime, keys: &[SigningKey]) -> Verifier {
    let jwks: Vec<Value> = keys.iter().map(SigningKey::public_jwk).collect();
    let bytes = json!({ "keys": jwks }).to_string().into_bytes();
    let verifier = VerifierBuilder::new(ISSUER, [AUDIENCE], Arc::new(StaticJwks(bytes))).build();
    let loaded = rt
        .block_on(verifier.reload_keys())
        .expect("loading the JWKS");
    assert_eq!(loaded, keys.len(), "every key is in the JWKS");
    verifier
}

fn criterion_groups(c: &mut Criterion, rt: &Runtime, verifier: &Verifier, cases: &[Case]) {
    for case in cases {
        let input = case.signing_input();
        let mut group = c.benchmark_group(case.alg.as_str());
        group.bench_function("raw_signature", |b| b.iter(|| case.verify_raw(input)));
        group.bench_function("verifier_first", |b| {
            b.to_async(rt).iter_batched(
                || case.fresh_tokens(1).remove(0),
                async |token| verify(verifier, &token).await,
                BatchSize::SmallInput,
            )
        });
        group.bench_function("verifier_again", |b| {
            b.to_async(rt).iter(|| case.verify_again(verifier))
        });
        group.finish();
    }
}

/// How long the summary's own timing loop runs.
#[derive(Clone, Copy)]
struct Plan {
    warm_up: u32,
    rounds: u32,
    per_round: u32,
    /// Under `cargo test`: a few iterations, no verdict.
    smoke: bool,
}

impl Plan {
    /// Cargo passes `--bench` under `cargo bench` only.
    fn from_args() -> Plan {
        let smoke = !std::env::args().any(|a| a == "--bench");
        Plan {
            warm_up: if smoke { 2 } else { 2_000 },
            rounds: 5,
            per_round: if smoke { 4 } else { 4_000 },
            smoke,
        }
    }
}

/// Mean time of one call of `routine` over `iterations` calls.
fn mean(iterations: u32, mut routine: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        routine();
    }
    start.elapsed() / iterations
}

/// Mean nanoseconds of the raw check, of the verifier's first check and of
/// a check again for one case, alternating between them round by round.
fn time_case(rt: &Runtime, verifier: &Verifier, case: &Case, plan: Plan) -> [f64; 3] {
    let input = case.signing_input();
    let raw = |n| mean(n, || case.verify_raw(input));
    let first = |n| {
        let tokens = case.fresh_tokens(n);
        rt.block_on(async {
            let start = Instant::now();
            for token in &tokens {
                verify(verifier, token).await;
            }
            start.elapsed() / n
        })
    };
    let again = |n| {
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..n {
                case.verify_again(verifier).await;
            }
            start.elapsed() / n
        })
    };
    raw(plan.warm_up);
    first(plan.warm_up);
    again(plan.warm_up);
    let (mut raws, mut firsts, mut agains) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..plan.rounds {
        raws.push(raw(plan.per_round));
        firsts.push(first(plan.per_round));
        agains.push(again(plan.per_round));
    }
    [median_ns(raws), median_ns(firsts), median_ns(agains)]
}

fn median_ns(mut rounds: Vec<Duration>) -> f64 {
    rounds.sort();
    rounds[rounds.len() / 2].as_nanos() as f64
}

fn verdict(plan: Plan, overhead_percent: f64) -> &'static str {
    match (plan.smoke, overhead_percent < TARGET_OVERHEAD_PERCENT) {
        (true, _) => "",
        (false, true) => "ok",
        (false, false) => "OVER TARGET",
    }
}

fn print_summary(rt: &Runtime, verifier: &Verifier, cases: &[Case], plan: Plan) {
    println!();
    if plan.smoke {
        println!("Smoke pass (no --bench flag): the numbers below mean nothing.");
    }
    println!(
        "Summary: {} warm-up, then {} iterations each in {} alternating rounds; median round.",
        plan.warm_up,
        plan.rounds * plan.per_round,
        plan.rounds
    );
    println!(
        "{:<6} {:>9} {:>11} {:>9} {:>11} {:>9} {:>9} {:>11}",
        "alg", "raw ns", "raw /s", "first ns", "first /s", "overhead", "again ns", "again /s"
    );
    for case in cases {
        let [raw_ns, first_ns, again_ns] = time_case(rt, verifier, case, plan);
        let overhead = (first_ns - raw_ns) / raw_ns * 100.0;
        println!(
            "{:<6} {:>9.0} {:>11.0} {:>9.0} {:>11.0} {:>8.1}% {:>9.0} {:>11.0} {}",
            case.alg.as_str(),
            raw_ns,
            1e9 / raw_ns,
            first_ns,
            1e9 / first_ns,
            overhead,
            again_ns,
            1e9 / again_ns,
            verdict(plan, overhead)
        );
    }
    println!(
        "(target: the first check's overhead under {TARGET_OVERHEAD_PERCENT} % of the raw check; \
         a token presented again skips the signature)"
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let keys: Vec<SigningKey> = Algorithm::ALL
        .into_iter()
        .map(|alg| SigningKey::generate(alg).0)
        .collect();
    let verifier = verifier(&rt, &keys);
    let cases: Vec<Case> = keys.into_iter().map(Case::new).collect();

    let mut c = Criterion::default().configure_from_args();
    criterion_groups(&mut c, &rt, &verifier, &cases);
    c.final_summary();

    print_summary(&rt, &verifier, &cases, Plan::from_args());
}
