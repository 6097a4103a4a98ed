//! keyflow: an OAuth 2.0 / OpenID Connect authorization server and API-key
//! manager. See `docs/architecture.md` for how the modules fit together.

pub mod accounts;
pub mod api_keys;
pub mod app;
pub mod cli;
pub mod clients;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod files;
pub mod http;
pub mod integrations;
pub mod leased_cache;
pub mod login_throttle;
pub mod metrics;
pub mod rate_limit;
pub mod server;
pub mod storage;
pub mod testing;
pub mod usage;
pub mod verifier;
pub mod workspaces;
