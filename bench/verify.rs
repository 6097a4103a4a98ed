//! Access token verification cost, per algorithm (ES256, RS256, EdDSA).
//!
//! For each algorithm it signs one realistic RFC 9068 access token and
//! measures two things:
//! - `raw_signature`: only the signature check, aws-lc-rs's
//!   `ParsedPublicKey::verify_sig` over `header.payload`, with the key parsed
//!   from the public JWK and the signature decoded once, outside the loop;
//! - `verifier`: `Verifier::verify_access_token`, keyflow's whole check
//!   (header, key lookup by `kid`, signature, claims, revocation list).
//!
//! Criterion measures both (one group per algorithm). The async routine runs
//! on a current-thread tokio runtime through Criterion's `async_tokio`
//! support, which enters the runtime once around the whole timing loop, so
//! no per-iteration `block_on` cost is counted.
//!
//! A summary table follows: verifications per second (1e9 / mean ns) and the
//! verifier's overhead over the raw check (target: under 20 %). Its means come
//! from a plain `Instant` loop, not from Criterion: 2,000 warm-up iterations,
//! then 20,000 measured ones in rounds that alternate between the two
//! routines, so background load hits both alike; the median round counts.
//!
//! Run: `cargo bench --bench verify` (add `-- --quick` for a shorter
//! Criterion pass). Without cargo's `--bench` flag (`cargo test --benches`)
//! Criterion runs each routine once and the summary takes a few iterations.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use criterion::Criterion;
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

/// One algorithm's token, ready for both routines.
struct Case {
    alg: Algorithm,
    token: String,
    raw_key: ParsedPublicKey,
    signature: Vec<u8>,
}

impl Case {
    fn new(key: &SigningKey) -> Case {
        let token = key.sign_jwt(JwtType::AccessToken, &claims(key.alg()));
        let (_, signature) = token.rsplit_once('.').expect("a compact JWS");
        Case {
            alg: key.alg(),
            raw_key: parse_public_jwk(&key.public_jwk()),
            signature: B64.decode(signature).expect("a base64url signature"),
            token,
        }
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

    async fn verify_full(&self, verifier: &Verifier) {
        black_box(verifier.verify_access_token(black_box(&self.token)).await)
            .expect("the verifier rejects the token");
    }
}

fn unix_now() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH);
    since_epoch.expect("the clock is after 1970").as_secs() as i64
}

/// The claims of a client-credentials access token, as the verifier requires.
fn claims(alg: Algorithm) -> Value {
    let now = unix_now();
    json!({
        "iss": ISSUER,
        "sub": "app_x",
        "aud": AUDIENCE,
        "exp": now + 3600,
        "iat": now,
        "nbf": now,
        "jti": format!("bench-{}", alg.as_str()),
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
        group.bench_function("verifier", |b| {
            b.to_async(rt).iter(|| case.verify_full(verifier))
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

/// Mean nanoseconds of the raw check and of the verifier for one case,
/// alternating between the two round by round.
fn time_case(rt: &Runtime, verifier: &Verifier, case: &Case, plan: Plan) -> (f64, f64) {
    let input = case.signing_input();
    let raw = |n| mean(n, || case.verify_raw(input));
    let full = |n| {
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..n {
                case.verify_full(verifier).await;
            }
            start.elapsed() / n
        })
    };
    raw(plan.warm_up);
    full(plan.warm_up);
    let (mut raws, mut fulls) = (Vec::new(), Vec::new());
    for _ in 0..plan.rounds {
        raws.push(raw(plan.per_round));
        fulls.push(full(plan.per_round));
    }
    (median_ns(raws), median_ns(fulls))
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
        "{:<6} {:>10} {:>12} {:>10} {:>12} {:>12} {:>9}",
        "alg", "raw ns", "raw verif/s", "full ns", "full verif/s", "overhead ns", "overhead"
    );
    for case in cases {
        let (raw_ns, full_ns) = time_case(rt, verifier, case, plan);
        let overhead = (full_ns - raw_ns) / raw_ns * 100.0;
        println!(
            "{:<6} {:>10.0} {:>12.0} {:>10.0} {:>12.0} {:>12.0} {:>8.1}% {}",
            case.alg.as_str(),
            raw_ns,
            1e9 / raw_ns,
            full_ns,
            1e9 / full_ns,
            full_ns - raw_ns,
            overhead,
            verdict(plan, overhead)
        );
    }
    println!("(target: verifier overhead under {TARGET_OVERHEAD_PERCENT} % of the raw check)");
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
    let cases: Vec<Case> = keys.iter().map(Case::new).collect();

    let mut c = Criterion::default().configure_from_args();
    criterion_groups(&mut c, &rt, &verifier, &cases);
    c.final_summary();

    print_summary(&rt, &verifier, &cases, Plan::from_args());
}
