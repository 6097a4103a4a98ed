//! The token side of a running server: redeem a code, rotate a refresh
//! token, mint the tokens of a grant, issue machine tokens, revoke, and the
//! reads that UserInfo, introspection and client authentication need. The
//! rules are in [`crate::domain::grants`]; these carry them out against the
//! store, the keyring and the clock of [`App`].

mod client_auth;
mod device;
mod family;
mod introspect;
mod machine;
mod mint;
mod redeem;
mod refresh;
mod revoke;
mod sign;
mod userinfo;

pub use client_auth::PublicClientError;
pub use device::DevicePollError;
pub use introspect::Introspection;
pub use machine::{ClientCredentialsFailure, TokenExchangeFailure};
pub use mint::{IssuedTokens, MintError, OFFLINE_ACCESS};
pub use redeem::RedeemError;
pub use refresh::RefreshError;
pub use revoke::RevokeError;
pub use sign::SigningFailed;

use crate::app::App;

/// The token use cases, on one node's [`App`].
#[derive(Clone, Copy)]
pub struct Tokens<'a> {
    app: &'a App,
}

impl<'a> Tokens<'a> {
    pub fn new(app: &'a App) -> Self {
        Self { app }
    }
}

// Beside the service rather than in `app.rs`, so that the composition root
// need not change when a token use case does.
impl App {
    /// The token use cases, on this node.
    pub fn tokens(&self) -> Tokens<'_> {
        Tokens::new(self)
    }
}
