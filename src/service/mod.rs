//! The use cases: what a person, a client or an operator can do, each a
//! function or a small struct method that takes what it needs. The HTTP
//! handlers, the console, the CLI and the tests call these and only these;
//! the rules live in [`crate::domain`] and the queries in
//! [`crate::storage`]. A use case that only a running server has (signing
//! in, redeeming a code) takes the composition root, [`crate::app::App`];
//! one the CLI shares takes the store and the clock it needs.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod authorization;
pub mod clients;
pub mod device;
pub mod directory;
pub mod health;
pub mod integrations;
pub mod members;
pub mod notify;
pub mod passwords;
pub mod sessions;
pub mod signup;
pub mod tokens;
pub mod usage;
pub mod workspaces;

use crate::storage::StorageError;

/// A storage failure inside a use case, with the operation that failed.
/// Each endpoint family logs it once, where it becomes a response, and
/// never shows it to the client.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed: {source}")]
pub struct StoreFailure {
    pub operation: &'static str,
    #[source]
    pub source: StorageError,
}

impl StoreFailure {
    pub fn new(operation: &'static str, source: StorageError) -> Self {
        Self { operation, source }
    }

    /// Logs the failure once, with its operation; call it where the failure
    /// becomes a response.
    pub fn log(&self) {
        tracing::error!(operation = self.operation, error = %self.source, "storage failed");
    }
}

/// Names the operation a storage call belongs to:
/// `store.epochs().await.during("read epochs")?`.
pub trait During<T> {
    fn during(self, operation: &'static str) -> Result<T, StoreFailure>;
}

impl<T> During<T> for Result<T, StorageError> {
    fn during(self, operation: &'static str) -> Result<T, StoreFailure> {
        self.map_err(|source| StoreFailure::new(operation, source))
    }
}
