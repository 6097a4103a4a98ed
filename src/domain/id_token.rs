//! ID tokens (OIDC Core §2), signed with the algorithm the client
//! registered (RS256 unless it chose another).

use aws_lc_rs::digest::{SHA256, SHA512, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::clock::UnixTime;
use crate::crypto::signing::{Algorithm, JwtType, SigningKey};
use crate::domain::scope::ScopeSet;

/// Who signed in, as far as the granted scopes let the client know.
#[derive(Debug, Clone)]
pub struct IdentityClaims<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    pub name: Option<&'a str>,
}

/// OIDC Core §5.4: the claims each scope releases.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct StandardClaims<'a> {
    pub sub: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
}

impl<'a> StandardClaims<'a> {
    pub fn released(who: &IdentityClaims<'a>, scope: &ScopeSet) -> Self {
        Self {
            sub: who.user_id,
            email: scope.contains("email").then_some(who.email),
            name: if scope.contains("profile") {
                who.name
            } else {
                None
            },
        }
    }
}

#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    exp: UnixTime,
    iat: UnixTime,
    auth_time: UnixTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    at_hash: String,
    #[serde(flatten)]
    standard: StandardClaims<'a>,
}

/// What one ID token says.
#[derive(Debug)]
pub struct IdTokenInput<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub who: IdentityClaims<'a>,
    pub scope: &'a ScopeSet,
    pub auth_time: UnixTime,
    pub nonce: Option<&'a str>,
    pub access_token: &'a str,
    pub now: UnixTime,
    pub ttl: i64,
}

pub fn issue(input: &IdTokenInput<'_>, key: &SigningKey) -> String {
    let claims = Claims {
        iss: input.issuer,
        aud: input.client_id,
        exp: input.now + input.ttl,
        iat: input.now,
        auth_time: input.auth_time,
        nonce: input.nonce,
        at_hash: at_hash(key.alg(), input.access_token),
        standard: StandardClaims::released(&input.who, input.scope),
    };
    key.sign_jwt(JwtType::Jwt, &claims)
}

/// OIDC Core §3.1.3.6: the left half of the hash of the access token, with
/// the hash of the signing algorithm (SHA-512 for Ed25519, as the OpenID
/// Foundation's EdDSA profile and the `openidconnect` crate use).
pub fn at_hash(alg: Algorithm, access_token: &str) -> String {
    let d = match alg {
        Algorithm::ES256 | Algorithm::RS256 => digest(&SHA256, access_token.as_bytes()),
        Algorithm::EdDSA => digest(&SHA512, access_token.as_bytes()),
    };
    let bytes = d.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(jwt: &str) -> serde_json::Value {
        let part = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OIDC Core Appendix A.3/A.4's access token and its at_hash.
        assert_eq!(
            at_hash(
                Algorithm::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn claims_follow_the_granted_scopes() {
        let (key, _) = SigningKey::generate(Algorithm::ES256);
        let scope = ScopeSet::parse("openid email").unwrap();
        let input = IdTokenInput {
            issuer: "https://as",
            client_id: "cli",
            who: IdentityClaims {
                user_id: "u1",
                email: "ann@example.com",
                name: Some("Ann"),
            },
            scope: &scope,
            auth_time: 90,
            nonce: Some("n-0S6"),
            access_token: "at",
            now: 100,
            ttl: 600,
        };
        let c = payload(&issue(&input, &key));
        assert_eq!(c["iss"], "https://as");
        assert_eq!(c["aud"], "cli");
        assert_eq!(c["sub"], "u1");
        assert_eq!(c["exp"], 700);
        assert_eq!(c["auth_time"], 90);
        assert_eq!(c["nonce"], "n-0S6");
        assert_eq!(c["email"], "ann@example.com");
        assert!(c.get("name").is_none(), "no profile scope, no name");
        assert_eq!(c["at_hash"], at_hash(Algorithm::ES256, "at"));
    }
}
