//! Clients as keyflow knows them: a workspace's application token, a
//! resource server, or a third-party integration with its OAuth settings.

use crate::clock::UnixTime;
use crate::crypto::signing::Algorithm;
use crate::domain::scope::ScopeSet;

/// The kinds of OAuth client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// A workspace's application token: a confidential client that uses
    /// client_credentials on the workspace's behalf.
    Application,
    /// A resource server: authenticates to introspect tokens, holds no
    /// grant of its own.
    ResourceServer,
    /// A third-party integration registered by the operator: uses the
    /// authorization code grant on behalf of users .
    ThirdParty,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Application => "application",
            ClientKind::ResourceServer => "resource_server",
            ClientKind::ThirdParty => "third_party",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "application" => Ok(ClientKind::Application),
            "resource_server" => Ok(ClientKind::ResourceServer),
            "third_party" => Ok(ClientKind::ThirdParty),
            other => Err(format!("unknown client kind {other:?}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub client_id: String,
    pub workspace_id: Option<String>,
    pub kind: ClientKind,
    pub name: String,
    pub secret_rotated_at: Option<UnixTime>,
    pub tokens_issued: i64,
    pub last_used_at: Option<UnixTime>,
    pub created_at: UnixTime,
    /// Every token issued to this client before this time is revoked.
    pub tokens_revoked_before: Option<UnixTime>,
}

/// What the operator registered for a third-party client, beside its
/// `clients` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClientRecord {
    pub client_id: String,
    /// Public clients (RFC 6749 §2.1) have no secret and authenticate with
    /// `none`.
    pub public: bool,
    /// Matched exactly (RFC 9700 §4.1.3), in registration order.
    pub redirect_uris: Vec<String>,
    /// OIDC RP-Initiated Logout §3.1.
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes the client may ask for.
    pub scopes: ScopeSet,
    pub logo_uri: Option<String>,
    /// OIDC Core §3.1.3.7: the algorithm of its ID tokens.
    pub id_token_alg: Algorithm,
}
