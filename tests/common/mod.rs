//! Shared helpers for the integration tests: real servers on ephemeral
//! ports, real HTTP, and an independent JWT library to check tokens.
#![allow(dead_code, reason = "each test crate uses a different subset")]

pub mod a11y;
pub mod binary;
pub mod browser;
pub mod chromium;
pub mod cli_session;
pub mod connected;
pub mod console;
pub mod keys;
pub mod people;
pub mod smtp;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, TokenData, Validation, decode, decode_header};
use keyflow::domain::audit::AuditContext;
use keyflow::service::workspaces::CreatedWorkspace;
use keyflow::testing::TestServer;
use serde_json::Value;

pub const MASTER: [u8; 32] = [42; 32];

pub async fn workspace(node: &TestServer, name: &str) -> CreatedWorkspace {
    node.app
        .workspaces()
        .create(name, node.app.clock.now(), &AuditContext::system())
        .await
        .expect("create workspace")
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

/// The status, headers and JSON body of a token endpoint call.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

pub async fn post_form(node: &TestServer, authorization: Option<&str>, body: &str) -> Answer {
    let mut req = http()
        .post(node.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    answer(req.send().await.expect("request")).await
}

pub async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("body");
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("body is not JSON: {:?}", String::from_utf8_lossy(&bytes)));
    Answer {
        status,
        headers,
        json,
    }
}

/// A client_credentials token for `ws`, asserting success.
pub async fn token(node: &TestServer, ws: &CreatedWorkspace, scope: &str) -> String {
    let a = post_form(
        node,
        Some(&basic(&ws.application_key, ws.secret_key.expose())),
        &format!("grant_type=client_credentials&scope={scope}"),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.json);
    a.json["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

pub async fn get_json(url: impl reqwest::IntoUrl) -> Value {
    http()
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON body")
}

/// The node's `/metrics` text.
pub async fn metrics(node: &TestServer) -> String {
    http()
        .get(node.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text")
}

pub async fn jwks(node: &TestServer) -> JwkSet {
    http()
        .get(node.url("/oauth/jwks"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("jwks json")
}

/// Verifies `token` with jsonwebtoken against `set`: the key is chosen by
/// `kid` and the algorithm is pinned to the key's own `alg`.
pub fn verify(
    token: &str,
    set: &JwkSet,
    issuer: &str,
    audience: &str,
) -> Result<TokenData<Value>, String> {
    let header = decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = set.find(&kid).ok_or("kid not in JWKS")?;
    let alg = jwk
        .common
        .key_algorithm
        .ok_or("JWK has no alg")?
        .to_string()
        .parse()
        .map_err(|e: jsonwebtoken::errors::Error| e.to_string())?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut v = Validation::new(alg);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    decode::<Value>(token, &key, &v).map_err(|e| e.to_string())
}
