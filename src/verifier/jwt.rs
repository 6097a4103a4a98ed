//! JWT access token validation, RFC 9068 §4, with aws-lc-rs directly: one
//! header parse, one cached parsed key, one signature check, one claims parse.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Deserialize;

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

#[derive(Deserialize)]
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

#[derive(Deserialize)]
struct Claims {
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

fn invalid(description: &str) -> Rejection {
    Rejection::invalid_token(description)
}

pub(super) async fn verify(
    v: &Inner,
    rules: &ClaimRules,
    token: &str,
) -> Result<Principal, Rejection> {
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
    check_claims(v, rules, &claims)?;
    principal(claims)
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
