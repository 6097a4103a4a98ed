//! The default rate limits of API keys, per type; the config file's
//! `[api_key_rate_limits]` replaces them for the types it names.

use serde::Deserialize;

use crate::domain::api_key::ApiKeyType;
use crate::node::rate_limit::Limits;

/// A type the config file leaves out keeps its default; a type it names is
/// given whole (`read`, `write` and `token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiKeyLimits {
    pub secret: Limits,
    pub client: Limits,
    pub read_only: Limits,
}

impl Default for ApiKeyLimits {
    fn default() -> Self {
        Self {
            secret: Limits {
                read: 6000,
                write: 1200,
                token: 120,
            },
            client: Limits {
                read: 600,
                write: 1200,
                token: 120,
            },
            read_only: Limits {
                read: 6000,
                write: 600,
                token: 120,
            },
        }
    }
}

impl ApiKeyLimits {
    pub fn for_type(&self, t: ApiKeyType) -> Limits {
        match t {
            ApiKeyType::Secret => self.secret,
            ApiKeyType::Client => self.client,
            ApiKeyType::ReadOnly => self.read_only,
        }
    }
}
