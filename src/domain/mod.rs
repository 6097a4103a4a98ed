//! The domain: scopes, secrets, workspaces, grants and tokens. No HTTP or
//! SQL types appear here.

pub mod access_token;
pub mod api_key;
pub mod audit;
pub mod grants;
pub mod resource;
pub mod scope;
pub mod secret;
pub mod workspace;
