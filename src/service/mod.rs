//! The use cases: what a person, a client or an operator can do, each a
//! function or a small struct method that takes what it needs. The HTTP
//! handlers, the console, the CLI and the tests call these and only these;
//! the rules live in [`crate::domain`] and the queries in
//! [`crate::storage`].

pub mod accounts;
pub mod api_keys;
pub mod clients;
pub mod integrations;
pub mod workspaces;
