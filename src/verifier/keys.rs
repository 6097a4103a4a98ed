//! Verification keys: fetched as a JWK Set, parsed once, cached by `kid`,
//! and fetched again when an unknown `kid` appears, at most once per
//! `min_refetch` so a stream of forged kids cannot make us hammer the issuer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Deserialize;

use crate::crypto::signing::Algorithm;

/// Where the JWK Set comes from.
#[async_trait]
pub trait KeySource: Send + Sync + 'static {
    /// The JWK Set document (RFC 7517 §5).
    async fn fetch(&self) -> Result<Vec<u8>, String>;
}

/// A public key ready to verify, pinned to one algorithm.
pub struct VerificationKey {
    pub alg: Algorithm,
    key: ParsedPublicKey,
}

impl VerificationKey {
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<serde_json::Value>,
}

fn b64(v: &Option<String>) -> Option<Vec<u8>> {
    v.as_deref().and_then(|s| B64.decode(s).ok())
}

/// Parses one JWK; keys that are not for signatures, not of a supported
/// algorithm, or malformed are skipped (`None`).
fn parse_jwk(value: serde_json::Value) -> Option<(String, VerificationKey)> {
    let jwk: Jwk = serde_json::from_value(value).ok()?;
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return None;
    }
    let kid = jwk.kid.clone()?;
    let (alg, key) = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("EC", Some("P-256")) => {
            let (x, y) = (b64(&jwk.x)?, b64(&jwk.y)?);
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            let point: Vec<u8> = [&[4u8][..], &x, &y].concat();
            (
                Algorithm::ES256,
                ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).ok()?,
            )
        }
        ("OKP", Some("Ed25519")) => (
            Algorithm::EdDSA,
            ParsedPublicKey::new(&ED25519, b64(&jwk.x)?).ok()?,
        ),
        ("RSA", _) => {
            let components = PublicKeyComponents {
                n: b64(&jwk.n)?,
                e: b64(&jwk.e)?,
            };
            (
                Algorithm::RS256,
                components
                    .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
                    .ok()?,
            )
        }
        _ => return None,
    };
    // A key published for one algorithm is never used with another.
    if jwk.alg.as_deref().is_some_and(|a| a != alg.as_str()) {
        return None;
    }
    Some((kid, VerificationKey { alg, key }))
}

pub fn parse_jwks(bytes: &[u8]) -> Result<HashMap<String, Arc<VerificationKey>>, String> {
    let set: JwkSet =
        serde_json::from_slice(bytes).map_err(|e| format!("JWKS is not a JWK Set: {e}"))?;
    Ok(set
        .keys
        .into_iter()
        .filter_map(parse_jwk)
        .map(|(kid, k)| (kid, Arc::new(k)))
        .collect())
}

pub struct KeyCache {
    source: Arc<dyn KeySource>,
    keys: ArcSwap<HashMap<String, Arc<VerificationKey>>>,
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    min_refetch: Duration,
}

impl KeyCache {
    pub fn new(source: Arc<dyn KeySource>, min_refetch: Duration) -> Self {
        Self {
            source,
            keys: ArcSwap::from_pointee(HashMap::new()),
            last_fetch: tokio::sync::Mutex::new(None),
            min_refetch,
        }
    }

    pub async fn get(&self, kid: &str) -> Option<Arc<VerificationKey>> {
        if let Some(k) = self.keys.load().get(kid) {
            return Some(Arc::clone(k));
        }
        // One fetch at a time; whoever waited may find the key fetched.
        let mut last = self.last_fetch.lock().await;
        if let Some(k) = self.keys.load().get(kid) {
            return Some(Arc::clone(k));
        }
        if last.is_some_and(|t| t.elapsed() < self.min_refetch) {
            return None;
        }
        *last = Some(Instant::now());
        if let Err(e) = self.reload().await {
            tracing::warn!(error = %e, "fetching the JWKS failed");
        }
        self.keys.load().get(kid).cloned()
    }

    /// The key published under `kid` now, without fetching.
    pub fn current(&self, kid: &str) -> Option<Arc<VerificationKey>> {
        self.keys.load().get(kid).cloned()
    }

    /// Replaces the cached keys with a fresh fetch.
    pub async fn reload(&self) -> Result<usize, String> {
        let keys = parse_jwks(&self.source.fetch().await?)?;
        let n = keys.len();
        self.keys.store(Arc::new(keys));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::signing::SigningKey;

    #[test]
    fn parses_every_published_algorithm_and_skips_the_rest() {
        let keys: Vec<_> = Algorithm::ALL
            .iter()
            .map(|a| SigningKey::generate(*a).0)
            .collect();
        let mut jwks: Vec<_> = keys.iter().map(|k| k.public_jwk()).collect();
        jwks.push(serde_json::json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}));
        let mut wrong_alg = keys[0].public_jwk();
        wrong_alg["alg"] = "HS256".into();
        wrong_alg["kid"] = "lying".into();
        jwks.push(wrong_alg);
        let parsed =
            parse_jwks(serde_json::json!({ "keys": jwks }).to_string().as_bytes()).unwrap();
        assert_eq!(parsed.len(), 3);
        for k in &keys {
            assert_eq!(parsed[k.kid()].alg, k.alg());
        }
        assert!(parse_jwks(b"not json").is_err());
    }
}
