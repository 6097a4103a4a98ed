//! API keys: named, typed, scoped keys that developers create and revoke.
//!
//! Format: `<type>_<prefix>.<secret><checksum>`, for example
//! `sk_19656ea.4Fh…Q2kZp9`:
//! - type marker `sk_` (secret), `ck_` (client) or `rk_` (read-only);
//! - a 7-character lowercase hex lookup prefix, shown in listings;
//! - a dot, then 43 base62 characters from the CSPRNG (256 bits);
//! - a 6-character base62 CRC-32 of everything before it, so a typo is
//!   caught without a database lookup.
//!
//! Secret scanners can match `\b[crs]k_[0-9a-f]{7}\.[0-9A-Za-z]{49}\b`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::domain::scope::ScopeSet;
use crate::domain::secret::{PlainSecret, random_base62, random_bytes};

pub const PREFIX_CHARS: usize = 7;
const SECRET_CHARS: usize = 43;
const CHECKSUM_CHARS: usize = 6;
/// The regular expression secret scanners can use.
pub const SCANNER_REGEX: &str = r"\b[crs]k_[0-9a-f]{7}\.[0-9A-Za-z]{49}\b";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyType {
    /// Backends only: the scopes it was given, read and write.
    Secret,
    /// Safe to embed in an app: may only write events.
    Client,
    /// Read scopes only.
    ReadOnly,
}

impl ApiKeyType {
    pub fn marker(self) -> &'static str {
        match self {
            ApiKeyType::Secret => "sk_",
            ApiKeyType::Client => "ck_",
            ApiKeyType::ReadOnly => "rk_",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyType::Secret => "secret",
            ApiKeyType::Client => "client",
            ApiKeyType::ReadOnly => "read_only",
        }
    }

    /// Whether a key of this type may carry `scope`.
    pub fn allows_scope(self, scope: &str) -> bool {
        match self {
            ApiKeyType::Secret => true,
            ApiKeyType::Client => scope == EVENTS_WRITE,
            ApiKeyType::ReadOnly => scope.ends_with(":read"),
        }
    }

    /// The type of a key, or of its prefix, from its marker.
    pub fn of_key(s: &str) -> Option<Self> {
        [ApiKeyType::Secret, ApiKeyType::Client, ApiKeyType::ReadOnly]
            .into_iter()
            .find(|t| s.starts_with(t.marker()))
    }
}

impl FromStr for ApiKeyType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [ApiKeyType::Secret, ApiKeyType::Client, ApiKeyType::ReadOnly]
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown key type {s:?}: use secret, client or read_only"))
    }
}

impl fmt::Display for ApiKeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one scope a `client` key may have.
pub const EVENTS_WRITE: &str = "events:write";

/// A parsed, checksum-valid key. It does not mean the key exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedApiKey<'a> {
    pub key_type: ApiKeyType,
    /// `sk_19656ea`: the type marker and the lookup prefix.
    pub display_prefix: &'a str,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApiKeyFormatError {
    #[error("not an API key")]
    NotAnApiKey,
    #[error("the API key is malformed")]
    Malformed,
    #[error("the API key's checksum does not match (a typo?)")]
    BadChecksum,
}

/// Whether `token` looks like an API key at all (type marker).
pub fn looks_like_api_key(token: &str) -> bool {
    ApiKeyType::of_key(token).is_some()
}

pub fn parse(key: &str) -> Result<ParsedApiKey<'_>, ApiKeyFormatError> {
    let key_type = ApiKeyType::of_key(key).ok_or(ApiKeyFormatError::NotAnApiKey)?;
    let expected = 3 + PREFIX_CHARS + 1 + SECRET_CHARS + CHECKSUM_CHARS;
    if key.len() != expected || !key.is_ascii() {
        return Err(ApiKeyFormatError::Malformed);
    }
    let (display_prefix, rest) = key.split_at(3 + PREFIX_CHARS);
    let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    if !display_prefix.as_bytes()[3..].iter().all(|&c| hex(c))
        || !rest.starts_with('.')
        || !rest.as_bytes()[1..].iter().all(u8::is_ascii_alphanumeric)
    {
        return Err(ApiKeyFormatError::Malformed);
    }
    let (body, checksum) = key.split_at(key.len() - CHECKSUM_CHARS);
    if checksum != encode_checksum(crc32(body.as_bytes())) {
        return Err(ApiKeyFormatError::BadChecksum);
    }
    Ok(ParsedApiKey {
        key_type,
        display_prefix,
    })
}

/// A new key of `key_type`: its plaintext (shown once) and display prefix.
pub fn generate(key_type: ApiKeyType) -> (PlainSecret, String) {
    let prefix: String = random_bytes::<4>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..PREFIX_CHARS]
        .to_owned();
    let display = format!("{}{prefix}", key_type.marker());
    let body = format!("{display}.{}", random_base62(SECRET_CHARS));
    (PlainSecret::new(with_checksum(&body)), display)
}

/// `body` (marker, prefix, dot and secret) followed by its checksum: a key
/// that passes [`parse`], whether or not any such key was issued.
pub fn with_checksum(body: &str) -> String {
    format!("{body}{}", encode_checksum(crc32(body.as_bytes())))
}

fn encode_checksum(mut n: u32) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; CHECKSUM_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ASCII")
}

/// CRC-32 (IEEE 802.3, as zlib computes it).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// What a key's record says about its use right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyStatus {
    Active,
    Deactivated,
    Expired,
    Revoked,
}

/// What a caller asks to do with a workspace's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAccess {
    /// List keys: `keys:read` (or `keys:write`), any key type or a token.
    Read,
    /// Create, change, roll, deactivate, reactivate or revoke a key:
    /// `keys:write`, held by a secret key or a token.
    Write,
}

impl KeyAccess {
    /// The scope the access needs; `keys:write` also serves for reading.
    pub fn scope(self) -> &'static str {
        match self {
            KeyAccess::Read => KEYS_READ,
            KeyAccess::Write => KEYS_WRITE,
        }
    }

    /// Whether `caller`, holding `scopes`, may have this access at all.
    pub fn allowed(self, caller: KeyCaller, scopes: &ScopeSet) -> bool {
        let held =
            scopes.contains(KEYS_WRITE) || (self == KeyAccess::Read && scopes.contains(KEYS_READ));
        // Seed rule: only secret keys (and tokens) create and change keys.
        let kind_may = self == KeyAccess::Read
            || matches!(
                caller,
                KeyCaller::Token | KeyCaller::Key(ApiKeyType::Secret)
            );
        held && kind_may
    }
}

/// The credential that asks for [`KeyAccess`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCaller {
    /// An access token (of the workspace's application or a user's grant).
    Token,
    Key(ApiKeyType),
}

pub const KEYS_READ: &str = "keys:read";
pub const KEYS_WRITE: &str = "keys:write";

/// The one rule for acting on a key: a caller may create, change, roll,
/// deactivate, reactivate or revoke a key only when the caller holds every
/// scope of that key, so no credential manages one stronger than itself.
/// Returns the first scope the caller lacks.
pub fn may_act_on<'k>(caller: &ScopeSet, key: &'k ScopeSet) -> Result<(), &'k str> {
    match key.iter().find(|s| !caller.contains(s)) {
        Some(missing) => Err(missing),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    #[test]
    fn a_caller_acts_only_on_keys_it_outranks() {
        let caller = set("api:read keys:write");
        assert_eq!(may_act_on(&caller, &set("api:read")), Ok(()));
        assert_eq!(may_act_on(&caller, &set("api:read keys:write")), Ok(()));
        assert_eq!(
            may_act_on(&caller, &set("api:read workspace:admin")),
            Err("workspace:admin")
        );
        assert_eq!(may_act_on(&set(""), &set("api:read")), Err("api:read"));
    }

    #[test]
    fn managing_keys_needs_keys_write_and_a_secret_key_or_token() {
        let writer = set("keys:write api:read");
        let reader = set("keys:read api:read");
        let secret = KeyCaller::Key(ApiKeyType::Secret);
        assert!(KeyAccess::Write.allowed(secret, &writer));
        assert!(KeyAccess::Write.allowed(KeyCaller::Token, &writer));
        assert!(!KeyAccess::Write.allowed(secret, &reader));
        assert!(!KeyAccess::Write.allowed(KeyCaller::Token, &reader));
        assert!(!KeyAccess::Write.allowed(KeyCaller::Key(ApiKeyType::ReadOnly), &writer));
        assert!(!KeyAccess::Write.allowed(KeyCaller::Key(ApiKeyType::Client), &writer));
        for kind in [
            KeyCaller::Token,
            secret,
            KeyCaller::Key(ApiKeyType::ReadOnly),
        ] {
            assert!(KeyAccess::Read.allowed(kind, &reader), "{kind:?}");
            assert!(KeyAccess::Read.allowed(kind, &writer), "{kind:?}");
            assert!(!KeyAccess::Read.allowed(kind, &set("api:read")), "{kind:?}");
        }
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn generated_keys_parse_and_match_the_scanner_pattern() {
        for t in [ApiKeyType::Secret, ApiKeyType::Client, ApiKeyType::ReadOnly] {
            let (key, display) = generate(t);
            let parsed = parse(key.expose()).unwrap();
            assert_eq!(parsed.key_type, t);
            assert_eq!(parsed.display_prefix, display);
            assert_eq!(key.expose().len(), 3 + 7 + 1 + 43 + 6);
            assert!(display.starts_with(t.marker()) && display.len() == 10);
        }
    }

    #[test]
    fn a_typo_fails_the_checksum() {
        let (key, _) = generate(ApiKeyType::Secret);
        let mut chars: Vec<char> = key.expose().chars().collect();
        chars[20] = if chars[20] == 'a' { 'b' } else { 'a' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(parse(&typo), Err(ApiKeyFormatError::BadChecksum));
        assert_eq!(parse("sk_short"), Err(ApiKeyFormatError::Malformed));
        assert_eq!(parse("eyJhbGciOi"), Err(ApiKeyFormatError::NotAnApiKey));
    }

    #[test]
    fn types_bound_their_scopes() {
        assert!(ApiKeyType::Secret.allows_scope("api:write"));
        assert!(ApiKeyType::Client.allows_scope("events:write"));
        assert!(!ApiKeyType::Client.allows_scope("api:read"));
        assert!(ApiKeyType::ReadOnly.allows_scope("api:read"));
        assert!(!ApiKeyType::ReadOnly.allows_scope("api:write"));
    }
}
