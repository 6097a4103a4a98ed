//! Keys and revocations fetched from the issuer over HTTP(S).

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::keys::KeySource;
use super::revocation::{RevocationDocument, RevocationSource};

/// The path of keyflow's revocation list, relative to the issuer.
pub const REVOCATIONS_PATH: &str = "/oauth/revocations";
/// The path of keyflow's credentials epoch, relative to the issuer.
pub const CREDENTIALS_EPOCH_PATH: &str = "/oauth/credentials-epoch";
/// The path of keyflow's introspection endpoint, relative to the issuer.
pub const INTROSPECTION_PATH: &str = "/oauth/introspect";
/// keyflow's `token_type_hint` for a legacy secret key: `token` is the
/// secret key, `appkey` the application key.
pub const SECRETKEY_HINT: &str = "secretkey";
/// keyflow's `token_type_hint` for a legacy application key presented
/// alone: `token` is the application key.
pub const APPKEY_HINT: &str = "appkey";
/// On introspection answers to resource servers: the credentials epoch the
/// answering node's caches reflected when it started the answer.
pub const EPOCH_HEADER: &str = "keyflow-credentials-epoch";

/// An HTTP client with the system's trust roots and short timeouts.
pub fn http_client() -> Result<reqwest::Client, String> {
    // reqwest is built without a default TLS provider: use aws-lc-rs, as
    // the rest of keyflow does. A provider installed earlier is fine too.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("building the HTTP client: {e}"))
}

async fn get_bytes(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let res = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !res.status().is_success() {
        return Err(format!("GET {url}: HTTP {}", res.status()));
    }
    Ok(res
        .bytes()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?
        .to_vec())
}

/// JWKS through OIDC Discovery: `{issuer}/.well-known/openid-configuration`
/// names `jwks_uri`, and must name the same issuer (OIDC Discovery §4.3).
pub struct RemoteJwks {
    http: reqwest::Client,
    issuer: String,
    jwks_uri: tokio::sync::OnceCell<String>,
}

impl RemoteJwks {
    pub fn new(http: reqwest::Client, issuer: &str) -> Self {
        Self {
            http,
            issuer: issuer.trim_end_matches('/').to_owned(),
            jwks_uri: tokio::sync::OnceCell::new(),
        }
    }

    async fn discover(&self) -> Result<String, String> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let doc: Discovery = serde_json::from_slice(&get_bytes(&self.http, &url).await?)
            .map_err(|e| format!("{url}: not a discovery document: {e}"))?;
        if doc.issuer.trim_end_matches('/') != self.issuer {
            return Err(format!(
                "{url} names issuer {:?}, expected {:?}",
                doc.issuer, self.issuer
            ));
        }
        Ok(doc.jwks_uri)
    }
}

#[async_trait]
impl KeySource for RemoteJwks {
    async fn fetch(&self) -> Result<Vec<u8>, String> {
        let uri = self.jwks_uri.get_or_try_init(|| self.discover()).await?;
        get_bytes(&self.http, uri).await
    }
}

pub struct RemoteRevocations {
    http: reqwest::Client,
    url: String,
}

impl RemoteRevocations {
    pub fn new(http: reqwest::Client, issuer: &str) -> Self {
        Self {
            http,
            url: format!("{}{REVOCATIONS_PATH}", issuer.trim_end_matches('/')),
        }
    }
}

#[async_trait]
impl RevocationSource for RemoteRevocations {
    async fn fetch(&self) -> Result<RevocationDocument, String> {
        serde_json::from_slice(&get_bytes(&self.http, &self.url).await?)
            .map_err(|e| format!("{}: not a revocation list: {e}", self.url))
    }
}
