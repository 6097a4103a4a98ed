//! Signing keys, sealed under the master key.

use async_trait::async_trait;

use std::fmt;

use crate::clock::UnixTime;
use crate::crypto::signing::Algorithm;
use crate::domain::audit::AuditEntry;

use super::Result;

/// A signing key as stored: the PKCS#8 private key sealed under the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    pub kid: String,
    pub alg: Algorithm,
    pub sealed_private_key: Vec<u8>,
    pub created_at: UnixTime,
    pub retired_at: Option<UnixTime>,
}

impl fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    async fn list_signing_keys(&self) -> Result<Vec<StoredSigningKey>>;

    /// Stores `key`; when `retire_active` is set, the algorithm's active keys
    /// are retired at `key.created_at` in the same transaction.
    async fn insert_signing_key(
        &self,
        key: &StoredSigningKey,
        retire_active: bool,
        audit: &AuditEntry,
    ) -> Result<()>;
}
