//! JWT access token validation, RFC 9068 §4, with aws-lc-rs directly: one
//! header parse, one cached parsed key, one signature check, one claims parse;
//! a token seen before skips all of that but the claims and revocation
//! checks (`verified.rs`).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Deserialize;

use super::verified::Verified;
use super::{ALLOWED_ALGORITHMS, ClaimRules, CredentialKind, Inner, Principal, Rejection};
use crate::clock::UnixTime;
use crate::domain::scope::ScopeSet;

#[derive(Deserialize)]
struct Header<'a> {
    alg: &'a str,
    typ: Option<&'a str>,
    kid: Option<&'a str>,
    /// RFC 7515 §4.1.11: no extension is understood, so any is refused.
    crit: Option<serde::de::IgnoredAny>,
}

#[derive(Clone, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains_any(&self, accepted: &[String]) -> bool {
        match self {
            Audience::One(a) => accepted.contains(a),
            Audience::Many(list) => list.iter().any(|a| accepted.contains(a)),
        }
    }
}

#[derive(Clone, Deserialize)]
pub(super) struct Claims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: UnixTime,
    iat: UnixTime,
    nbf: Option<UnixTime>,
    jti: String,
    client_id: String,
    scope: Option<String>,
    workspace_id: Option<String>,
}

impl Claims {
    pub(super) fn exp(&self) -> UnixTime {
        self.exp
    }
}

fn invalid(description: &str) -> Rejection {
    Rejection::invalid_token(description)
}

pub(super) async fn verify(
    v: &Inner,
    rules: &ClaimRules,
    token: &str,
) -> Result<Principal, Rejection> {
    let digest = v.verified.digest(token);
    if let Some(hit) = v.verified.get(&digest)
        && v.keys
            .current(&hit.kid)
            .is_some_and(|k| Arc::ptr_eq(&k, &hit.key))
    {
        // The signature was checked with the key still published under
        // its kid; the claims are checked again, now.
        check_claims(v, rules, &hit.claims)?;
        return principal(hit.claims.clone());
    }
    let verified = check_signature(v, token).await?;
    check_claims(v, rules, &verified.claims)?;
    let accepted = principal(verified.claims.clone())?;
    // Only a token accepted in full is remembered.
    v.verified.insert(digest, verified, v.clock.now());
    Ok(accepted)
}

/// The header rules, the key, the signature, and the claims' shape: all
/// that a token's signature vouches for, checked once per token.
async fn check_signature(v: &Inner, token: &str) -> Result<Verified, Rejection> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("the token is not a JWS in compact form"));
    };
    let header_bytes = B64
        .decode(h)
        .map_err(|_| invalid("the token header is not base64url"))?;
    let header: Header = serde_json::from_slice(&header_bytes)
        .map_err(|_| invalid("the token header is malformed"))?;
    // RFC 9068 §4: the typ header must say this is an access token.
    if !header.typ.is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    }) {
        return Err(invalid("the token is not an access token (typ at+jwt)"));
    }
    if header.crit.is_some() {
        return Err(invalid("the token has critical header extensions"));
    }
    if !ALLOWED_ALGORITHMS.contains(&header.alg) {
        return Err(invalid("the token's algorithm is not accepted"));
    }
    let kid = header
        .kid
        .ok_or_else(|| invalid("the token names no key (kid)"))?;
    let key = v
        .keys
        .get(kid)
        .await
        .ok_or_else(|| invalid("the token's signing key is unknown"))?;
    // The key decides the algorithm; the token cannot choose another.
    if key.alg.as_str() != header.alg {
        return Err(invalid("the token's algorithm does not match its key"));
    }
    let signature = B64
        .decode(s)
        .map_err(|_| invalid("the token signature is not base64url"))?;
    let signed = &token[..h.len() + 1 + p.len()];
    if !key.verify(signed.as_bytes(), &signature) {
        return Err(invalid("the token signature is invalid"));
    }
    let payload = B64
        .decode(p)
        .map_err(|_| invalid("the token payload is not base64url"))?;
    let claims: Claims =
        serde_json::from_slice(&payload).map_err(|_| invalid("the token claims are malformed"))?;
    Ok(Verified {
        key,
        kid: kid.to_owned(),
        claims,
    })
}

/// Whom a verified access token speaks for: the user, when one authorized
/// it, else the client itself.
fn principal(claims: Claims) -> Result<Principal, Rejection> {
    let scopes = ScopeSet::parse(claims.scope.as_deref().unwrap_or(""))
        .map_err(|_| invalid("the token's scope is malformed"))?;
    Ok(Principal {
        user_id: (claims.sub != claims.client_id).then(|| claims.sub.clone()),
        subject: claims.sub,
        client_id: claims.client_id,
        workspace_id: claims.workspace_id,
        scopes,
        kind: CredentialKind::AccessToken,
        jti: Some(claims.jti),
        expires_at: Some(claims.exp),
        issued_at: Some(claims.iat),
        legacy_messages: None,
        refusals: None,
        rate_limit: None,
    })
}

fn check_claims(v: &Inner, rules: &ClaimRules, c: &Claims) -> Result<(), Rejection> {
    let now = v.clock.now();
    if c.iss != v.issuer {
        return Err(invalid("the token was issued by another issuer"));
    }
    if !c.aud.contains_any(&rules.audiences) {
        return Err(invalid("the token is not meant for this resource (aud)"));
    }
    if now >= c.exp + rules.exp_leeway {
        return Err(invalid("the token has expired"));
    }
    if c.nbf.is_some_and(|nbf| now + rules.leeway < nbf) || now + rules.leeway < c.iat {
        return Err(invalid("the token is not valid yet"));
    }
    if v.revocations.is_revoked(&c.jti, &c.client_id, c.iat) {
        return Err(invalid("the token has been revoked"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! A token presented again skips its signature check and nothing else.

    use std::sync::Mutex;
    use std::time::Duration;

    use async_trait::async_trait;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use serde_json::json;

    use super::super::revocation::{RevocationDocument, RevocationSource, RevokedToken};
    use super::super::{KeySource, Verifier, VerifierBuilder};
    use super::{Arc, Principal};
    use crate::clock::{Clock, MockClock};
    use crate::crypto::signing::{Algorithm, JwtType, SigningKey};

    const ISSUER: &str = "https://auth.example.com";
    const AUDIENCE: &str = "https://auth.example.com/v1";

    /// A JWK Set and a revocation list the test changes at will.
    #[derive(Default)]
    struct Published {
        jwks: Mutex<serde_json::Value>,
        revoked: Mutex<RevocationDocument>,
    }

    #[async_trait]
    impl KeySource for Published {
        async fn fetch(&self) -> Result<Vec<u8>, String> {
            Ok(self.jwks.lock().unwrap().to_string().into_bytes())
        }
    }

    #[async_trait]
    impl RevocationSource for Published {
        async fn fetch(&self) -> Result<RevocationDocument, String> {
            Ok(self.revoked.lock().unwrap().clone())
        }
    }

    struct Fixture {
        key: SigningKey,
        published: Arc<Published>,
        clock: MockClock,
        verifier: Verifier,
    }

    /// A verifier with the key's JWKS loaded.
    async fn fixture() -> Fixture {
        let (key, _) = SigningKey::generate(Algorithm::ES256);
        let published = Arc::new(Published::default());
        *published.jwks.lock().unwrap() = json!({ "keys": [key.public_jwk()] });
        let clock = MockClock::new(1_800_000_000);
        let verifier = VerifierBuilder::new(ISSUER, [AUDIENCE], published.clone())
            .revocations(published.clone(), Duration::from_secs(10))
            .clock(Arc::new(clock.clone()))
            .leeway(0)
            .build();
        verifier.reload_keys().await.unwrap();
        Fixture {
            key,
            published,
            clock,
            verifier,
        }
    }

    impl Fixture {
        fn token(&self, jti: &str) -> String {
            let now = self.clock.now();
            self.key.sign_jwt(
                JwtType::AccessToken,
                &json!({
                    "iss": ISSUER, "sub": "app_1", "aud": AUDIENCE, "client_id": "app_1",
                    "exp": now + 600, "iat": now, "jti": jti, "scope": "api:read",
                    "workspace_id": "ws_1",
                }),
            )
        }

        fn remembered(&self) -> usize {
            self.verifier.shared.verified.len()
        }

        async fn verify(&self, token: &str) -> Result<Principal, String> {
            self.verifier
                .verify_access_token(token)
                .await
                .map_err(|r| format!("{r:?}"))
        }
    }

    #[tokio::test]
    async fn a_token_verified_once_is_remembered_and_answers_the_same() {
        let f = fixture().await;
        let token = f.token("jti-1");
        let first = f.verify(&token).await.unwrap();
        assert_eq!(f.remembered(), 1);
        let again = f.verify(&token).await.unwrap();
        assert_eq!(f.remembered(), 1);
        assert_eq!(again.jti, first.jti);
        assert_eq!(again.subject, "app_1");
        assert_eq!(again.workspace_id.as_deref(), Some("ws_1"));
        assert!(again.has_scope("api:read"));
    }

    #[tokio::test]
    async fn a_remembered_token_still_expires_and_is_still_revoked() {
        let f = fixture().await;
        let token = f.token("jti-2");
        f.verify(&token).await.unwrap();
        f.published
            .revoked
            .lock()
            .unwrap()
            .revoked_tokens
            .push(RevokedToken {
                jti: "jti-2".into(),
                exp: f.clock.now() + 600,
            });
        f.verifier.refresh_revocations().await.unwrap();
        let refused = f.verify(&token).await.unwrap_err();
        assert!(refused.contains("revoked"), "{refused}");

        let other = f.token("jti-3");
        f.verify(&other).await.unwrap();
        f.clock.advance(600);
        let refused = f.verify(&other).await.unwrap_err();
        assert!(refused.contains("expired"), "{refused}");
    }

    #[tokio::test]
    async fn a_remembered_token_needs_its_key_still_published() {
        let f = fixture().await;
        let token = f.token("jti-4");
        f.verify(&token).await.unwrap();
        let (replacement, _) = SigningKey::generate(Algorithm::ES256);
        *f.published.jwks.lock().unwrap() = json!({ "keys": [replacement.public_jwk()] });
        f.verifier.reload_keys().await.unwrap();
        let refused = f.verify(&token).await.unwrap_err();
        assert!(refused.contains("signing key is unknown"), "{refused}");
    }

    #[tokio::test]
    async fn another_payload_under_a_remembered_signature_is_checked_in_full() {
        let f = fixture().await;
        let token = f.token("jti-5");
        f.verify(&token).await.unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
        claims["scope"] = json!("api:read api:write");
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(claims.to_string()),
            parts[2]
        );
        let refused = f.verify(&forged).await.unwrap_err();
        assert!(refused.contains("signature is invalid"), "{refused}");
        assert_eq!(f.remembered(), 1);
    }

    #[tokio::test]
    async fn each_view_checks_a_remembered_token_against_its_own_audiences() {
        let f = fixture().await;
        let token = f.token("jti-6");
        f.verify(&token).await.unwrap();
        let elsewhere = f.verifier.for_audiences(["https://reports.example.com"]);
        let refused = elsewhere.verify_access_token(&token).await.unwrap_err();
        let refused = format!("{refused:?}");
        assert!(refused.contains("not meant for this resource"), "{refused}");
    }
}
