//! A device authorization (RFC 8628) as keyflow stores it: the device code
//! the client polls with, the user code the person types, and the stages
//! between them. Both codes are stored only as keyed hashes.

use std::fmt;

use crate::clock::UnixTime;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::{Redacted, SecretHash};

/// RFC 8628 §6.1: consonants only, upper case, so that a code reads
/// unambiguously, spells no word, and is typed the same in either case.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// 20^8 ≈ 2^34.6 codes: guessing is stopped by the code's short life and
/// the throttle on wrong codes (RFC 8628 §5.1), not by length.
pub const USER_CODE_LEN: usize = 8;
/// RFC 8628 §3.2 `expires_in` unless configured otherwise.
pub const DEFAULT_EXPIRES_IN: i64 = 600;
/// RFC 8628 §3.2 `interval`: the client waits this long between polls.
pub const DEFAULT_INTERVAL: i64 = 5;
/// RFC 8628 §3.5: each `slow_down` adds 5 seconds to the interval.
pub const SLOW_DOWN_STEP: i64 = 5;

/// A user code in its canonical form: eight letters of
/// [`USER_CODE_ALPHABET`], without the dash it is shown with.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    /// A new code from the system CSPRNG; each letter uniform (rejection
    /// sampling: bytes at or above 240 are redrawn).
    pub fn generate() -> Self {
        let mut code = String::with_capacity(USER_CODE_LEN);
        while code.len() < USER_CODE_LEN {
            for b in crate::domain::secret::random_bytes::<16>() {
                if b < 240 && code.len() < USER_CODE_LEN {
                    code.push(USER_CODE_ALPHABET[usize::from(b % 20)] as char);
                }
            }
        }
        Self(code)
    }

    /// What a person typed: any case, with or without the dash, spaces
    /// around or inside (RFC 8628 §6.1). `None` if it cannot be a code.
    pub fn parse(typed: &str) -> Option<Self> {
        let code: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid =
            code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
        valid.then_some(Self(code))
    }

    /// The canonical form, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `WDJB-MJHT`, as people read and type it (RFC 8628 §6.1).
    pub fn display(&self) -> String {
        let (a, b) = self.0.split_at(USER_CODE_LEN / 2);
        format!("{a}-{b}")
    }
}

impl fmt::Debug for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UserCode").field(&Redacted).finish()
    }
}

/// The stages of a device authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceCodeState {
    /// Waiting for the person (RFC 8628 §3.5 `authorization_pending`).
    Pending,
    /// The person allowed it; the next poll gets the tokens.
    Allowed,
    /// The person denied it (`access_denied`).
    Denied,
    /// Its tokens were issued; the device code is spent.
    Redeemed,
}

impl DeviceCodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceCodeState::Pending => "pending",
            DeviceCodeState::Allowed => "allowed",
            DeviceCodeState::Denied => "denied",
            DeviceCodeState::Redeemed => "redeemed",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(DeviceCodeState::Pending),
            "allowed" => Ok(DeviceCodeState::Allowed),
            "denied" => Ok(DeviceCodeState::Denied),
            "redeemed" => Ok(DeviceCodeState::Redeemed),
            other => Err(format!("unknown device code state {other:?}")),
        }
    }
}

/// Who allowed a device authorization, where, and what they granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceApproval {
    pub user_id: String,
    pub workspace_id: String,
    /// What the person's role let them grant of the request.
    pub scope: ScopeSet,
    pub auth_time: UnixTime,
}

/// A device authorization and everything it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCodeRecord {
    pub device_code_hash: SecretHash,
    pub user_code_hash: SecretHash,
    /// Shared by the tokens issued from it and their refresh successors, as
    /// for an authorization code.
    pub family_id: String,
    pub client_id: String,
    /// What the client asked for.
    pub scope: ScopeSet,
    /// RFC 8707 resource indicators of the device authorization request.
    pub resources: Vec<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    /// Seconds the client must wait between polls; grows on `slow_down`.
    pub interval: i64,
    pub last_polled_at: Option<UnixTime>,
    pub state: DeviceCodeState,
    /// Set once the person allowed it.
    pub approval: Option<DeviceApproval>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_use_the_alphabet_and_differ() {
        let codes: Vec<UserCode> = (0..200).map(|_| UserCode::generate()).collect();
        for c in &codes {
            assert_eq!(c.expose().len(), USER_CODE_LEN);
            assert!(
                c.expose().bytes().all(|b| USER_CODE_ALPHABET.contains(&b)),
                "{}",
                c.expose()
            );
        }
        let mut distinct: Vec<&str> = codes.iter().map(UserCode::expose).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), codes.len());
        // Every letter turns up: the draw covers the whole alphabet.
        let used: std::collections::HashSet<u8> =
            codes.iter().flat_map(|c| c.expose().bytes()).collect();
        assert_eq!(used.len(), USER_CODE_ALPHABET.len());
    }

    #[test]
    fn typed_codes_are_read_in_any_case_with_or_without_the_dash() {
        let want = UserCode::parse("WDJBMJHT").unwrap();
        assert_eq!(want.display(), "WDJB-MJHT");
        for typed in [
            "wdjb-mjht",
            "WDJB-MJHT",
            " wdjbmjht ",
            "WDJB MJHT",
            "wDjB-mJhT",
        ] {
            assert_eq!(UserCode::parse(typed), Some(want.clone()), "{typed}");
        }
    }

    #[test]
    fn what_cannot_be_a_code_is_refused() {
        for typed in [
            "",
            "WDJB-MJH",
            "WDJB-MJHTX",
            "WDJB-MJHA", // a vowel
            "WDJB-MJH1", // a digit
            "ЖDJB-MJHT", // not ASCII
            "WDJB_MJHT",
        ] {
            assert_eq!(UserCode::parse(typed), None, "{typed}");
        }
    }

    #[test]
    fn a_user_code_is_never_printed() {
        let c = UserCode::parse("WDJBMJHT").unwrap();
        assert!(!format!("{c:?}").contains("WDJB"));
    }

    #[test]
    fn states_round_trip() {
        for s in [
            DeviceCodeState::Pending,
            DeviceCodeState::Allowed,
            DeviceCodeState::Denied,
            DeviceCodeState::Redeemed,
        ] {
            assert_eq!(DeviceCodeState::parse(s.as_str()), Ok(s));
        }
        assert!(DeviceCodeState::parse("exchanged").is_err());
    }
}
