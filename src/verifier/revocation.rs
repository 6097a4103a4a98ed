//! Revocations an offline verifier must honour, refreshed by polling.
//!
//! keyflow serves the list at `GET /oauth/revocations`: revoked `jti`s with
//! their `exp`, and clients whose earlier tokens were all revoked. A
//! verifier that polls every `interval` refuses a revoked token at most
//! `interval` (plus the response's 5 s cache lifetime) after revocation.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;

#[async_trait]
pub trait RevocationSource: Send + Sync + 'static {
    async fn fetch(&self) -> Result<RevocationDocument, String>;
}

/// The wire format of `GET /oauth/revocations`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationDocument {
    pub revoked_tokens: Vec<RevokedToken>,
    pub revoked_clients: Vec<RevokedClient>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedToken {
    pub jti: String,
    pub exp: UnixTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokedClient {
    pub client_id: String,
    /// Tokens of this client issued (`iat`) before this time are revoked.
    pub revoked_before: UnixTime,
}

#[derive(Debug, Default)]
struct Snapshot {
    jtis: HashSet<String>,
    clients: HashMap<String, UnixTime>,
}

pub struct Revocations {
    source: Option<Arc<dyn RevocationSource>>,
    snapshot: ArcSwap<Snapshot>,
}

impl Revocations {
    pub fn new(source: Option<Arc<dyn RevocationSource>>) -> Self {
        Self {
            source,
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
        }
    }

    pub fn is_revoked(&self, jti: &str, client_id: &str, iat: UnixTime) -> bool {
        let s = self.snapshot.load();
        s.jtis.contains(jti) || s.clients.get(client_id).is_some_and(|before| iat < *before)
    }

    pub async fn reload(&self) -> Result<(), String> {
        let Some(source) = &self.source else {
            return Ok(());
        };
        let doc = source.fetch().await?;
        self.snapshot.store(Arc::new(Snapshot {
            jtis: doc.revoked_tokens.into_iter().map(|t| t.jti).collect(),
            clients: doc
                .revoked_clients
                .into_iter()
                .map(|c| (c.client_id, c.revoked_before))
                .collect(),
        }));
        Ok(())
    }
}
