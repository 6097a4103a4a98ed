//! Parsed signing keys. A key is parsed once, when the keyring loads it, so the
//! hot path signs with a ready key pair (jsonwebtoken's `EncodingKey` would
//! re-parse an RSA key on every signature).

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

/// JWS algorithms keyflow signs with (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    ES256,
    RS256,
    EdDSA,
}

impl Algorithm {
    pub const ALL: [Algorithm; 3] = [Algorithm::ES256, Algorithm::RS256, Algorithm::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::ES256 => "ES256",
            Algorithm::RS256 => "RS256",
            Algorithm::EdDSA => "EdDSA",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unsupported signing algorithm {s:?}: use ES256, RS256 or EdDSA")
            })
    }
}

/// The `typ` header of a JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtType {
    /// RFC 9068 §2.1: access tokens are typed `at+jwt`.
    AccessToken,
    /// ID tokens and other plain JWTs.
    Jwt,
}

enum Pair {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed(Ed25519KeyPair),
}

#[derive(Debug, thiserror::Error)]
#[error("stored {alg} key cannot be parsed: {reason}")]
pub struct KeyParseError {
    alg: Algorithm,
    reason: String,
}

pub struct SigningKey {
    kid: String,
    alg: Algorithm,
    pair: Pair,
    public_jwk: serde_json::Value,
    header_at_jwt: String,
    header_jwt: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new key pair and its PKCS#8 encoding (to be sealed and stored).
    pub fn generate(alg: Algorithm) -> (Self, Zeroizing<Vec<u8>>) {
        let rng = SystemRandom::new();
        let pkcs8 = Zeroizing::new(match alg {
            Algorithm::ES256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .expect("P-256 key generation")
                    .as_ref()
                    .to_vec()
            }
            Algorithm::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|k| k.as_der())
                .expect("RSA key generation")
                .as_ref()
                .to_vec(),
            Algorithm::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng)
                .expect("Ed25519 key generation")
                .as_ref()
                .to_vec(),
        });
        let key = Self::from_pkcs8(alg, &pkcs8).expect("a freshly generated key parses");
        (key, pkcs8)
    }

    pub fn from_pkcs8(alg: Algorithm, der: &[u8]) -> Result<Self, KeyParseError> {
        let err = |e: &dyn fmt::Display| KeyParseError {
            alg,
            reason: e.to_string(),
        };
        let pair = match alg {
            Algorithm::ES256 => Pair::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|e| err(&e))?,
            ),
            Algorithm::RS256 => Pair::Rsa(RsaKeyPair::from_pkcs8(der).map_err(|e| err(&e))?),
            Algorithm::EdDSA => Pair::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(|e| err(&e))?),
        };
        let public_jwk = public_jwk_members(&pair);
        let kid = thumbprint(&public_jwk);
        let header = |typ: &str| {
            B64.encode(
                serde_json::to_vec(&json!({"alg": alg.as_str(), "typ": typ, "kid": kid}))
                    .expect("header serializes"),
            )
        };
        Ok(Self {
            header_at_jwt: header("at+jwt"),
            header_jwt: header("JWT"),
            kid,
            alg,
            pair,
            public_jwk,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The public JWK (RFC 7517 §4) with `kid`, `alg` and `use: sig`.
    pub fn public_jwk(&self) -> serde_json::Value {
        let mut jwk = self.public_jwk.clone();
        let m = jwk.as_object_mut().expect("JWK is an object");
        m.insert("kid".into(), self.kid.clone().into());
        m.insert("alg".into(), self.alg.as_str().into());
        m.insert("use".into(), "sig".into());
        jwk
    }

    /// A compact JWS (RFC 7515 §7.1) over `claims`.
    pub fn sign_jwt(&self, typ: JwtType, claims: &impl Serialize) -> String {
        // Claims of an ID token fit in 512 bytes: no regrowing.
        let mut payload = Vec::with_capacity(512);
        serde_json::to_writer(&mut payload, claims).expect("claims serialize");
        self.sign_payload(typ, &payload)
    }

    /// A compact JWS over claims already serialized as a JSON object.
    pub fn sign_payload(&self, typ: JwtType, payload: &[u8]) -> String {
        let header = match typ {
            JwtType::AccessToken => &self.header_at_jwt,
            JwtType::Jwt => &self.header_jwt,
        };
        let mut jwt = String::with_capacity(header.len() + payload.len() * 4 / 3 + 400);
        jwt.push_str(header);
        jwt.push('.');
        B64.encode_string(payload, &mut jwt);
        let sig = self.sign(jwt.as_bytes());
        jwt.push('.');
        B64.encode_string(&sig, &mut jwt);
        jwt
    }

    /// Out of line, so that a profile shows the signature apart from the
    /// work around it.
    #[inline(never)]
    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match &self.pair {
            Pair::Ec(k) => k
                .sign(&SystemRandom::new(), msg)
                .expect("ECDSA signing")
                .as_ref()
                .to_vec(),
            Pair::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut sig)
                    .expect("RSA signing");
                sig
            }
            Pair::Ed(k) => k.sign(msg).as_ref().to_vec(),
        }
    }
}

/// The required public members only, in the order RFC 7638 §3.2 hashes them.
fn public_jwk_members(pair: &Pair) -> serde_json::Value {
    match pair {
        Pair::Ec(k) => {
            // Uncompressed SEC1 point: 0x04 || x || y.
            let point = k.public_key().as_ref();
            json!({"crv": "P-256", "kty": "EC", "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65])})
        }
        Pair::Rsa(k) => {
            let p = k.public_key();
            json!({
                "e": B64.encode(p.exponent().big_endian_without_leading_zero()),
                "kty": "RSA",
                "n": B64.encode(p.modulus().big_endian_without_leading_zero()),
            })
        }
        // Built from the raw public key: `Jwk::from_encoding_key` rejects
        // PKCS#8 v2 Ed25519 keys.
        Pair::Ed(k) => {
            json!({"crv": "Ed25519", "kty": "OKP", "x": B64.encode(k.public_key().as_ref())})
        }
    }
}

/// RFC 7638 JWK thumbprint: SHA-256 over the required members, keys sorted,
/// no whitespace. serde_json's map is ordered, so `to_vec` is canonical.
fn thumbprint(members: &serde_json::Value) -> String {
    let canonical = serde_json::to_vec(members).expect("JWK serializes");
    B64.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        &canonical,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 §3.1.
        let jwk = json!({
            "e": "AQAB",
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        });
        assert_eq!(
            thumbprint(&jwk),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn every_algorithm_generates_reloads_and_signs() {
        for alg in Algorithm::ALL {
            let (key, der) = SigningKey::generate(alg);
            let again = SigningKey::from_pkcs8(alg, &der).unwrap();
            assert_eq!(key.kid(), again.kid());
            let jwt = key.sign_jwt(JwtType::AccessToken, &json!({"sub": "x"}));
            assert_eq!(jwt.split('.').count(), 3);
            let jwk = key.public_jwk();
            assert_eq!(jwk["alg"], alg.as_str());
            assert_eq!(jwk["use"], "sig");
            assert_eq!(jwk["kid"], key.kid());
        }
    }

    #[test]
    fn algorithm_names_parse() {
        assert_eq!("es256".parse::<Algorithm>().unwrap(), Algorithm::ES256);
        assert_eq!("EdDSA".parse::<Algorithm>().unwrap(), Algorithm::EdDSA);
        assert!("HS256".parse::<Algorithm>().is_err());
        assert!("none".parse::<Algorithm>().is_err());
    }

    #[test]
    fn wrong_algorithm_for_der_is_an_error() {
        let (_, der) = SigningKey::generate(Algorithm::EdDSA);
        assert!(SigningKey::from_pkcs8(Algorithm::ES256, &der).is_err());
    }
}
