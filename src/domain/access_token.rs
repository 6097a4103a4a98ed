//! JWT access tokens in the RFC 9068 profile.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::clock::UnixTime;
use crate::crypto::signing::{JwtType, SigningKey};
use crate::domain::json::JsonObject;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::Redacted;

/// The claim that names the workspace a token acts for.
pub const WORKSPACE_CLAIM: &str = "workspace_id";

/// What a grant decided: who the token is for and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// RFC 9068 §2.2: the resource owner, or the client itself for
    /// client_credentials.
    pub subject: String,
    pub client_id: String,
    pub workspace_id: Option<String>,
    pub scope: ScopeSet,
    pub audience: Vec<String>,
}

pub struct IssuedAccessToken {
    pub token: String,
    pub jti: String,
    pub expires_in: i64,
}

impl std::fmt::Debug for IssuedAccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedAccessToken")
            .field("token", &Redacted)
            .field("jti", &self.jti)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// 128 random bits, base64url. A `jti` must be unique, not secret (RFC
/// 7519 §4.1.7), so it comes from the thread's ChaCha generator (seeded
/// from the OS) rather than aws-lc's DRBG, which rekeys AES on every call.
pub fn new_jti() -> String {
    let mut bits = [0u8; 16];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut bits);
    URL_SAFE_NO_PAD.encode(bits)
}

/// An RFC 9068 access token for `grant`, valid `ttl` seconds from `now`.
pub fn issue(
    grant: &Grant,
    key: &SigningKey,
    issuer: &str,
    ttl: i64,
    now: UnixTime,
) -> IssuedAccessToken {
    let jti = new_jti();
    // RFC 9068 §2.2; written by hand, as every client_credentials token
    // signs these (about 300 bytes: the buffer never regrows).
    let mut claims = JsonObject::with_capacity(512);
    claims.string("iss", issuer);
    claims.string("sub", &grant.subject);
    // RFC 7519 §4.1.3: a single audience is a string, several an array.
    match grant.audience.as_slice() {
        [one] => claims.string("aud", one),
        many => claims.strings("aud", many),
    }
    claims.number("exp", now + ttl);
    claims.number("iat", now);
    claims.number("nbf", now);
    claims.string("jti", &jti);
    claims.string("client_id", &grant.client_id);
    claims.string("scope", &grant.scope.to_string());
    if let Some(workspace) = &grant.workspace_id {
        claims.string(WORKSPACE_CLAIM, workspace);
    }
    IssuedAccessToken {
        token: key.sign_payload(JwtType::AccessToken, &claims.finish()),
        jti,
        expires_in: ttl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::signing::Algorithm;

    fn payload(jwt: &str) -> serde_json::Value {
        let part = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn carries_rfc9068_claims_and_workspace() {
        let (key, _) = SigningKey::generate(Algorithm::ES256);
        let grant = Grant {
            subject: "app_1".into(),
            client_id: "app_1".into(),
            workspace_id: Some("ws".into()),
            scope: ScopeSet::parse("api:read").unwrap(),
            audience: vec!["https://api".into()],
        };
        let t = issue(&grant, &key, "https://as", 3600, 1000);
        let c = payload(&t.token);
        assert_eq!(c["iss"], "https://as");
        assert_eq!(c["aud"], "https://api");
        assert_eq!(c["exp"], 4600);
        assert_eq!(c["iat"], 1000);
        assert_eq!(c["client_id"], "app_1");
        assert_eq!(c["scope"], "api:read");
        assert_eq!(c[WORKSPACE_CLAIM], "ws");
        assert_eq!(c["jti"], t.jti);
        let two = Grant {
            audience: vec!["https://a".into(), "https://b".into()],
            ..grant
        };
        assert_eq!(
            payload(&issue(&two, &key, "x", 60, 0).token)["aud"],
            serde_json::json!(["https://a", "https://b"])
        );
    }

    #[test]
    fn claims_are_exactly_rfc9068s_and_any_text_stays_valid_json() {
        let (key, _) = SigningKey::generate(Algorithm::ES256);
        let grant = Grant {
            subject: "user \"quoted\" \\ é\n".into(),
            client_id: "cli".into(),
            workspace_id: None,
            scope: ScopeSet::parse("openid").unwrap(),
            audience: vec![],
        };
        let first = issue(&grant, &key, "https://as/\u{1}", 60, 7);
        let c = payload(&first.token);
        let mut names: Vec<_> = c.as_object().unwrap().keys().cloned().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "aud",
                "client_id",
                "exp",
                "iat",
                "iss",
                "jti",
                "nbf",
                "scope",
                "sub"
            ]
        );
        assert_eq!(c["sub"], grant.subject);
        assert_eq!(c["iss"], "https://as/\u{1}");
        assert_eq!(c["nbf"], 7);
        assert_eq!(c["aud"], serde_json::json!([]));
        // 128 bits: 22 base64url characters, and a new value every time.
        assert_eq!(first.jti.len(), 22);
        assert_ne!(issue(&grant, &key, "x", 60, 7).jti, first.jti);
    }
}
