//! Secrets as types: generated from the CSPRNG, shown once, stored only as a
//! keyed hash, compared in constant time, and never printed by `Debug`.

use std::fmt;

use aws_lc_rs::{hmac, rand::SecureRandom};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` characters drawn uniformly from [0-9A-Za-z] with the system CSPRNG.
/// Rejection sampling keeps every character uniform: bytes >= 248 are redrawn.
pub fn random_base62(len: usize) -> String {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rng.fill(&mut buf).expect("system CSPRNG failed");
        for &b in buf.iter().filter(|&&b| b < 248) {
            if out.len() == len {
                break;
            }
            out.push(BASE62[(b % 62) as usize] as char);
        }
    }
    out
}

/// `n` random bytes from the system CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut buf)
        .expect("system CSPRNG failed");
    buf
}

/// A plaintext secret. It exists between generation and the one response that
/// shows it, or between parsing a request and hashing it.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainSecret(Zeroizing<String>);

impl PlainSecret {
    /// 43 base62 characters carry 43 × log2(62) ≈ 256.03 bits.
    pub const RANDOM_CHARS: usize = 43;

    /// A new secret: `prefix` followed by 256 bits from the CSPRNG.
    pub fn generate(prefix: &str) -> Self {
        Self(Zeroizing::new(format!(
            "{prefix}{}",
            random_base62(Self::RANDOM_CHARS)
        )))
    }

    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The plaintext, for the single place that must show or hash it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Stands in for a secret in hand-written `Debug` output.
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Debug for PlainSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainSecret(<redacted>)")
    }
}

/// HMAC-SHA-256 of a secret under the server's pepper. Secrets are 256-bit
/// random strings, so a slow KDF would add cost without adding strength.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretHash(pub [u8; 32]);

impl SecretHash {
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// Constant-time comparison.
    pub fn matches(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(<redacted>)")
    }
}

/// Computes [`SecretHash`]es with the pepper derived from the master key.
#[derive(Clone)]
pub struct SecretHasher {
    key: hmac::Key,
}

impl SecretHasher {
    pub fn new(key: hmac::Key) -> Self {
        Self { key }
    }

    pub fn hash(&self, secret: &PlainSecret) -> SecretHash {
        self.hash_str(secret.expose())
    }

    pub fn hash_str(&self, secret: &str) -> SecretHash {
        let tag = hmac::sign(&self.key, secret.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        SecretHash(out)
    }
}

impl fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHasher(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_has_requested_length_and_alphabet() {
        let s = random_base62(500);
        assert_eq!(s.len(), 500);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(random_base62(43), random_base62(43));
    }

    #[test]
    fn generated_secret_carries_prefix_and_256_bits() {
        let s = PlainSecret::generate("sec_");
        assert!(s.expose().starts_with("sec_"));
        assert_eq!(s.expose().len(), 4 + 43);
        assert!((43.0 * 62f64.log2()) >= 256.0);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = PlainSecret::new("sec_topsecret".into());
        assert!(!format!("{s:?}").contains("topsecret"));
        let hasher = SecretHasher::new(hmac::Key::new(hmac::HMAC_SHA256, b"pepper"));
        let h = hasher.hash(&s);
        assert_eq!(format!("{h:?}"), "SecretHash(<redacted>)");
    }

    #[test]
    fn hash_depends_on_pepper_and_matches_itself() {
        let a = SecretHasher::new(hmac::Key::new(hmac::HMAC_SHA256, b"one"));
        let b = SecretHasher::new(hmac::Key::new(hmac::HMAC_SHA256, b"two"));
        let s = PlainSecret::new("sec_x".into());
        assert!(a.hash(&s).matches(&a.hash_str("sec_x")));
        assert!(!a.hash(&s).matches(&b.hash(&s)));
    }
}
