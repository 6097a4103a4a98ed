//! Clients as keyflow knows them: a workspace's application token, a
//! resource server, or a third-party integration with its OAuth settings.

use crate::clock::UnixTime;
use crate::crypto::signing::Algorithm;
use crate::domain::scope::ScopeSet;

/// keyflow's own command line, a public client a migration registers
/// (device grant and loopback redirects, RFC 8628 and RFC 8252 §7.3). Like
/// the console, it acts as the person who signed in: in each workspace
/// they belong to, with their role there at each call (docs/cli.md).
pub const CLI_CLIENT_ID: &str = "keyflow-cli";

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
    /// RFC 8628 §3.1: whether it may ask for a device code. A device grant
    /// is a user's grant to a client that cannot show a browser, so the
    /// operator opts each client in; one not registered for it gets
    /// `unauthorized_client` (RFC 6749 §5.2).
    pub device_grant: bool,
}

impl OAuthClientRecord {
    /// The grants it is registered for, the authorization code first.
    pub fn grant_types(&self) -> Vec<ClientGrant> {
        ClientGrant::registered(self.device_grant)
    }

    /// [`Self::grant_types`] as `grantTypes` and `--json` list them.
    pub fn grant_type_names(&self) -> Vec<&'static str> {
        self.grant_types()
            .into_iter()
            .map(ClientGrant::as_str)
            .collect()
    }
}

/// The user grants an operator registers a third-party client for, as
/// `--grant` and `grantTypes` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientGrant {
    /// RFC 6749 §4.1. Every third-party client has it: naming it alone
    /// registers a client for no other grant.
    AuthorizationCode,
    /// RFC 8628, for CLIs and devices without a browser: only the clients
    /// registered for it ([`OAuthClientRecord::device_grant`]).
    DeviceCode,
}

impl ClientGrant {
    pub const ALL: [ClientGrant; 2] = [ClientGrant::AuthorizationCode, ClientGrant::DeviceCode];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientGrant::AuthorizationCode => "authorization_code",
            ClientGrant::DeviceCode => "device_code",
        }
    }

    /// The grants of a client registered with or without the device
    /// grant, the authorization code first.
    pub fn registered(device_grant: bool) -> Vec<ClientGrant> {
        let mut grants = vec![ClientGrant::AuthorizationCode];
        if device_grant {
            grants.push(ClientGrant::DeviceCode);
        }
        grants
    }

    /// Whether a registration naming `grants` includes the device grant.
    pub fn device_grant(grants: &[ClientGrant]) -> bool {
        grants.contains(&ClientGrant::DeviceCode)
    }
}

impl std::str::FromStr for ClientGrant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                format!("unknown grant type {s:?}: use authorization_code or device_code")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_types_name_the_device_grant_only_when_registered() {
        let grants = |names: &[&str]| -> Vec<ClientGrant> {
            names.iter().map(|n| n.parse().unwrap()).collect()
        };
        assert!(!ClientGrant::device_grant(&grants(&[])));
        assert!(!ClientGrant::device_grant(&grants(&["authorization_code"])));
        assert!(ClientGrant::device_grant(&grants(&["device_code"])));
        for g in ClientGrant::ALL {
            assert_eq!(g.as_str().parse::<ClientGrant>(), Ok(g));
        }
    }

    #[test]
    fn an_unknown_grant_type_is_refused_with_the_known_ones() {
        let e = "client_credentials".parse::<ClientGrant>().unwrap_err();
        assert!(
            e.contains("\"client_credentials\"") && e.contains("device_code"),
            "{e}"
        );
        assert!(
            "Device_Code".parse::<ClientGrant>().is_err(),
            "matched exactly"
        );
    }
}
