//! keyflow: an OAuth 2.0 / OpenID Connect authorization server and API-key
//! manager. See `docs/architecture.md` for how the modules fit together.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod files;
pub mod http;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod node;
pub mod server;
pub mod service;
pub mod storage;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod verifier;
