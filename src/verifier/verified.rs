//! Access tokens whose signature this process has already checked.
//!
//! A client presents one access token for many requests (until it expires,
//! an hour by default), and the signature check is nearly all a token's
//! verification costs: one P-256 verification is about 70 µs here. So a
//! token whose signature verified is remembered, under a keyed digest of the
//! whole token (the token itself is never kept), with its claims and the key
//! that verified it. Presented again, it skips the base64, JSON and
//! signature work, and nothing else: every presentation still checks the
//! claims against the verifier's rules (issuer, audience, `exp`, `nbf`,
//! `iat`) at the current time, and the revocation list (RFC 7009 as the
//! list keyflow publishes reflects it). An entry counts only while the key
//! that verified it is still the one published under its `kid`: a key
//! removed from the JWK Set (or any reload of the set) sends the token back
//! through the full check.
//!
//! The digest covers every byte of the token, so a token with any byte
//! changed (another payload under a valid signature, for instance) is a
//! different entry and is checked in full.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;

use super::jwt::Claims;
use super::keys::VerificationKey;
use crate::clock::UnixTime;

/// Entries kept at most; past it, expired entries go, then all of them.
const MAX_ENTRIES: usize = 65_536;

type Digest = [u8; 32];

/// What a verified signature vouches for.
pub(super) struct Verified {
    /// The key that verified the signature.
    pub key: Arc<VerificationKey>,
    pub kid: String,
    pub claims: Claims,
}

pub(super) struct VerifiedTokens {
    digest_key: hmac::Key,
    entries: RwLock<HashMap<Digest, Arc<Verified>>>,
}

impl VerifiedTokens {
    pub fn new() -> Self {
        Self {
            // A per-process key: digests mean nothing outside this process.
            digest_key: hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new())
                .expect("the system CSPRNG is available"),
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub fn digest(&self, token: &str) -> Digest {
        let tag = hmac::sign(&self.digest_key, token.as_bytes());
        let mut out = [0; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    pub fn get(&self, digest: &Digest) -> Option<Arc<Verified>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.get(digest).cloned()
    }

    pub fn insert(&self, digest: Digest, verified: Verified, now: UnixTime) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, v| v.claims.exp() > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(digest, Arc::new(verified));
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}
