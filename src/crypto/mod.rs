//! Key material: the master key, parsed signing keys and the keyring.

pub mod key_check;
pub mod keyring;
pub mod master_key;
pub mod signing;
