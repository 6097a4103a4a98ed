//! The keyring: every signing key a node knows, parsed once, and the JWKS
//! built from them. Keys live in the database sealed under the master key,
//! so every node that shares the database signs and publishes the same keys.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::clock::UnixTime;
use crate::crypto::master_key::MasterKey;
use crate::crypto::signing::{Algorithm, SigningKey};
use crate::domain::audit::{AuditContext, AuditEvent};
use crate::storage::{StorageError, Store, StoredSigningKey};

/// How a stored key is used right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Signs new tokens and is published.
    Active,
    /// No longer signs, still published until tokens it signed have expired.
    Retired { published_until: UnixTime },
    /// Neither signs nor is published.
    Expired,
}

impl KeyState {
    pub fn of(key: &StoredSigningKey, now: UnixTime, publish_window: i64) -> Self {
        match key.retired_at {
            None => KeyState::Active,
            Some(r) if now < r + publish_window => KeyState::Retired {
                published_until: r + publish_window,
            },
            Some(_) => KeyState::Expired,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Retired { .. } => "retired",
            KeyState::Expired => "expired",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("signing key {kid}: {reason}")]
    Unusable { kid: String, reason: String },
    #[error("no active {0} signing key")]
    Missing(Algorithm),
}

#[derive(Debug, Default)]
pub struct Keyring {
    by_kid: HashMap<String, Arc<SigningKey>>,
    active: BTreeMap<Algorithm, Arc<SigningKey>>,
    jwks: Vec<u8>,
}

impl Keyring {
    /// Builds the keyring from stored keys, reusing keys already parsed in
    /// `previous` so that a reload decrypts only what is new.
    pub fn build(
        stored: &[StoredSigningKey],
        master: &MasterKey,
        previous: Option<&Keyring>,
        now: UnixTime,
        publish_window: i64,
    ) -> Result<Self, KeyringError> {
        let mut ring = Keyring::default();
        let mut published = Vec::new();
        // Stored keys come oldest first, so the newest active key of an
        // algorithm wins if two nodes ever created one at the same time.
        for s in stored {
            let state = KeyState::of(s, now, publish_window);
            if state == KeyState::Expired {
                continue;
            }
            let key = match previous.and_then(|p| p.by_kid.get(&s.kid)) {
                Some(k) => Arc::clone(k),
                None => Arc::new(open(s, master)?),
            };
            if state == KeyState::Active {
                ring.active.insert(s.alg, Arc::clone(&key));
            }
            published.push(key.public_jwk());
            ring.by_kid.insert(s.kid.clone(), key);
        }
        ring.jwks =
            serde_json::to_vec(&serde_json::json!({ "keys": published })).expect("JWKS serializes");
        Ok(ring)
    }

    pub fn active(&self, alg: Algorithm) -> Result<&Arc<SigningKey>, KeyringError> {
        self.active.get(&alg).ok_or(KeyringError::Missing(alg))
    }

    /// The JWK Set document (RFC 7517 §5), serialized once per reload.
    pub fn jwks_json(&self) -> &[u8] {
        &self.jwks
    }
}

fn open(s: &StoredSigningKey, master: &MasterKey) -> Result<SigningKey, KeyringError> {
    let unusable = |reason: String| KeyringError::Unusable {
        kid: s.kid.clone(),
        reason,
    };
    let der = master
        .open(s.kid.as_bytes(), &s.sealed_private_key)
        .map_err(|e| unusable(e.to_string()))?;
    let key = SigningKey::from_pkcs8(s.alg, &der).map_err(|e| unusable(e.to_string()))?;
    if key.kid() != s.kid {
        return Err(unusable("kid does not match the key's thumbprint".into()));
    }
    Ok(key)
}

/// Generates and stores a key for `alg`; with `retire_active`, the
/// algorithm's current keys are retired in the same transaction.
pub async fn create_key(
    store: &dyn Store,
    master: &MasterKey,
    alg: Algorithm,
    now: UnixTime,
    retire_active: bool,
    ctx: &AuditContext,
) -> Result<StoredSigningKey, KeyringError> {
    let (key, der) = SigningKey::generate(alg);
    let stored = StoredSigningKey {
        kid: key.kid().to_owned(),
        alg,
        sealed_private_key: master.seal(key.kid().as_bytes(), &der),
        created_at: now,
        retired_at: None,
    };
    let audit = ctx
        .entry(AuditEvent::SigningKeyRotated, now)
        .details(serde_json::json!({"kid": stored.kid, "alg": alg.as_str(), "retiredPrevious": retire_active}));
    store
        .insert_signing_key(&stored, retire_active, &audit)
        .await?;
    Ok(stored)
}

/// Makes sure every algorithm has an active key, creating what is missing.
/// Returns the algorithms for which a key was created.
pub async fn ensure_keys(
    store: &dyn Store,
    master: &MasterKey,
    now: UnixTime,
) -> Result<Vec<Algorithm>, KeyringError> {
    let stored = store.list_signing_keys().await?;
    let mut created = Vec::new();
    for alg in Algorithm::ALL {
        if !stored
            .iter()
            .any(|k| k.alg == alg && k.retired_at.is_none())
        {
            create_key(store, master, alg, now, false, &AuditContext::system()).await?;
            created.push(alg);
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(
        alg: Algorithm,
        master: &MasterKey,
        created: i64,
        retired: Option<i64>,
    ) -> StoredSigningKey {
        let (key, der) = SigningKey::generate(alg);
        StoredSigningKey {
            kid: key.kid().into(),
            alg,
            sealed_private_key: master.seal(key.kid().as_bytes(), &der),
            created_at: created,
            retired_at: retired,
        }
    }

    #[test]
    fn publishes_active_and_recently_retired_keys_only() {
        let m = MasterKey::from_bytes([3; 32]);
        let old = stored(Algorithm::ES256, &m, 0, Some(100));
        let ancient = stored(Algorithm::ES256, &m, 0, Some(10));
        let current = stored(Algorithm::ES256, &m, 100, None);
        let ring = Keyring::build(
            &[ancient.clone(), old.clone(), current.clone()],
            &m,
            None,
            150,
            60,
        )
        .unwrap();
        assert_eq!(ring.active(Algorithm::ES256).unwrap().kid(), current.kid);
        let jwks: serde_json::Value = serde_json::from_slice(ring.jwks_json()).unwrap();
        let kids: Vec<_> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, vec![old.kid.as_str(), current.kid.as_str()]);
        assert!(matches!(
            ring.active(Algorithm::RS256),
            Err(KeyringError::Missing(_))
        ));
        assert_eq!(
            KeyState::of(&old, 150, 60),
            KeyState::Retired {
                published_until: 160
            }
        );
        assert_eq!(KeyState::of(&ancient, 150, 60), KeyState::Expired);
    }

    #[test]
    fn a_key_sealed_under_another_master_key_is_reported() {
        let s = stored(Algorithm::EdDSA, &MasterKey::from_bytes([1; 32]), 0, None);
        let err = Keyring::build(&[s], &MasterKey::from_bytes([2; 32]), None, 0, 60).unwrap_err();
        assert!(err.to_string().contains("master key"), "{err}");
    }
}
