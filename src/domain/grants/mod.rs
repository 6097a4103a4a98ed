//! One module per grant type. Each decides what a request may get; the HTTP
//! layer turns the decision into a response.

pub mod client_credentials;
pub mod token_exchange;
