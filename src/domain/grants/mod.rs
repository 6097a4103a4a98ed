//! One module per grant type. Each decides what a request may get; the
//! services carry the decision out and the HTTP layer turns it into a
//! response.

pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod refresh_token;
pub mod token_exchange;
