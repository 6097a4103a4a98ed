//! JWT access tokens in the RFC 9068 profile.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::clock::UnixTime;
use crate::crypto::signing::{JwtType, SigningKey};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::{Redacted, random_bytes};

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

/// RFC 9068 §2.2 claims.
#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: Audience<'a>,
    exp: UnixTime,
    iat: UnixTime,
    nbf: UnixTime,
    jti: String,
    client_id: &'a str,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    workspace_id: Option<&'a str>,
}

/// RFC 7519 §4.1.3: a single audience is a string, several are an array.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Audience<'a> {
    One(&'a str),
    Many(&'a [String]),
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

/// 128 random bits, base64url.
pub fn new_jti() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

pub fn issue(
    grant: &Grant,
    key: &SigningKey,
    issuer: &str,
    ttl: i64,
    now: UnixTime,
) -> IssuedAccessToken {
    let jti = new_jti();
    let aud = match grant.audience.as_slice() {
        [one] => Audience::One(one),
        many => Audience::Many(many),
    };
    let claims = Claims {
        iss: issuer,
        sub: &grant.subject,
        aud,
        exp: now + ttl,
        iat: now,
        nbf: now,
        jti: jti.clone(),
        client_id: &grant.client_id,
        scope: grant.scope.to_string(),
        workspace_id: grant.workspace_id.as_deref(),
    };
    IssuedAccessToken {
        token: key.sign_jwt(JwtType::AccessToken, &claims),
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
}
