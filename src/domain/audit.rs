//! The audit log: who did what to which workspace, from where. Entries never
//! hold a secret or a token; `details` carries identifiers only.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::clock::UnixTime;

/// Security-relevant events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEvent {
    WorkspaceCreated,
    SecretRegenerated,
    ClientCreated,
    TokenRevoked,
    SigningKeyRotated,
    AppkeyOnlyChanged,
    ApiKeyCreated,
    ApiKeyUpdated,
    ApiKeyRevoked,
    ApiKeyRolled,
    ConsentGranted,
    ConsentRevoked,
    LoginSucceeded,
    LoginFailed,
    UserCreated,
    MembershipChanged,
    LoggedOut,
    GrantRevoked,
    MembershipRemoved,
    UserDisabled,
    UserEnabled,
    ClientUpdated,
    ClientDeleted,
    InvitationCreated,
    InvitationRevoked,
    InvitationAccepted,
    PasswordChanged,
    PasswordResetLinkCreated,
    PasswordReset,
    SessionsEnded,
    SetupLinkCreated,
    Reauthenticated,
    /// RFC 8628: a person allowed a device authorization.
    DeviceAuthorized,
    /// RFC 8628: a person denied a device authorization.
    DeviceDenied,
}

impl AuditEvent {
    pub const ALL: &'static [AuditEvent] = &[
        AuditEvent::WorkspaceCreated,
        AuditEvent::SecretRegenerated,
        AuditEvent::ClientCreated,
        AuditEvent::TokenRevoked,
        AuditEvent::SigningKeyRotated,
        AuditEvent::AppkeyOnlyChanged,
        AuditEvent::ApiKeyCreated,
        AuditEvent::ApiKeyUpdated,
        AuditEvent::ApiKeyRevoked,
        AuditEvent::ApiKeyRolled,
        AuditEvent::ConsentGranted,
        AuditEvent::ConsentRevoked,
        AuditEvent::LoginSucceeded,
        AuditEvent::LoginFailed,
        AuditEvent::UserCreated,
        AuditEvent::MembershipChanged,
        AuditEvent::LoggedOut,
        AuditEvent::GrantRevoked,
        AuditEvent::MembershipRemoved,
        AuditEvent::UserDisabled,
        AuditEvent::UserEnabled,
        AuditEvent::ClientUpdated,
        AuditEvent::ClientDeleted,
        AuditEvent::InvitationCreated,
        AuditEvent::InvitationRevoked,
        AuditEvent::InvitationAccepted,
        AuditEvent::PasswordChanged,
        AuditEvent::PasswordResetLinkCreated,
        AuditEvent::PasswordReset,
        AuditEvent::SessionsEnded,
        AuditEvent::SetupLinkCreated,
        AuditEvent::Reauthenticated,
        AuditEvent::DeviceAuthorized,
        AuditEvent::DeviceDenied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::WorkspaceCreated => "workspace_created",
            AuditEvent::SecretRegenerated => "secret_regenerated",
            AuditEvent::ClientCreated => "client_created",
            AuditEvent::TokenRevoked => "token_revoked",
            AuditEvent::SigningKeyRotated => "signing_key_rotated",
            AuditEvent::AppkeyOnlyChanged => "appkey_only_changed",
            AuditEvent::ApiKeyCreated => "api_key_created",
            AuditEvent::ApiKeyUpdated => "api_key_updated",
            AuditEvent::ApiKeyRevoked => "api_key_revoked",
            AuditEvent::ApiKeyRolled => "api_key_rolled",
            AuditEvent::ConsentGranted => "consent_granted",
            AuditEvent::ConsentRevoked => "consent_revoked",
            AuditEvent::LoginSucceeded => "login_succeeded",
            AuditEvent::LoginFailed => "login_failed",
            AuditEvent::UserCreated => "user_created",
            AuditEvent::MembershipChanged => "membership_changed",
            AuditEvent::LoggedOut => "logged_out",
            AuditEvent::GrantRevoked => "grant_revoked",
            AuditEvent::MembershipRemoved => "membership_removed",
            AuditEvent::UserDisabled => "user_disabled",
            AuditEvent::UserEnabled => "user_enabled",
            AuditEvent::ClientUpdated => "client_updated",
            AuditEvent::ClientDeleted => "client_deleted",
            AuditEvent::InvitationCreated => "invitation_created",
            AuditEvent::InvitationRevoked => "invitation_revoked",
            AuditEvent::InvitationAccepted => "invitation_accepted",
            AuditEvent::PasswordChanged => "password_changed",
            AuditEvent::PasswordResetLinkCreated => "password_reset_link_created",
            AuditEvent::PasswordReset => "password_reset",
            AuditEvent::SessionsEnded => "sessions_ended",
            AuditEvent::SetupLinkCreated => "setup_link_created",
            AuditEvent::Reauthenticated => "reauthenticated",
            AuditEvent::DeviceAuthorized => "device_authorized",
            AuditEvent::DeviceDenied => "device_denied",
        }
    }
}

impl FromStr for AuditEvent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| format!("unknown audit event {s:?}"))
    }
}

impl fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// An OAuth client, through a token or its credentials.
    Client,
    /// A signed-in person.
    User,
    /// An operator at the command line.
    Cli,
    /// keyflow itself (for example, keys created at first start).
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Client => "client",
            ActorKind::User => "user",
            ActorKind::Cli => "cli",
            ActorKind::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ActorKind::Client,
            ActorKind::User,
            ActorKind::Cli,
            ActorKind::System,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl Actor {
    pub fn cli() -> Self {
        Self {
            kind: ActorKind::Cli,
            id: std::env::var("USER").ok(),
        }
    }

    pub fn system() -> Self {
        Self {
            kind: ActorKind::System,
            id: None,
        }
    }

    pub fn client(id: &str) -> Self {
        Self {
            kind: ActorKind::Client,
            id: Some(id.to_owned()),
        }
    }

    pub fn user(id: &str) -> Self {
        Self {
            kind: ActorKind::User,
            id: Some(id.to_owned()),
        }
    }
}

/// Where a request came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub occurred_at: UnixTime,
    pub event: AuditEvent,
    pub actor: Actor,
    pub workspace_id: Option<String>,
    pub origin: Origin,
    /// Event-specific identifiers (kid, client_id, jti…), never secrets.
    pub details: serde_json::Value,
}

impl AuditEntry {
    pub fn new(event: AuditEvent, actor: Actor, at: UnixTime) -> Self {
        Self {
            occurred_at: at,
            event,
            actor,
            workspace_id: None,
            origin: Origin::default(),
            details: serde_json::json!({}),
        }
    }

    pub fn workspace(mut self, id: &str) -> Self {
        self.workspace_id = Some(id.to_owned());
        self
    }

    pub fn origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Who is acting and from where: what every audited operation is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub actor: Actor,
    pub origin: Origin,
}

impl AuditContext {
    pub fn cli() -> Self {
        Self {
            actor: Actor::cli(),
            origin: Origin::default(),
        }
    }

    pub fn system() -> Self {
        Self {
            actor: Actor::system(),
            origin: Origin::default(),
        }
    }

    pub fn entry(&self, event: AuditEvent, at: UnixTime) -> AuditEntry {
        AuditEntry::new(event, self.actor.clone(), at).origin(self.origin.clone())
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub entry: AuditEntry,
}

/// Newest first; `before_id` continues a previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// The workspace's entries; `None` reads every entry (the platform
    /// admin's view).
    pub workspace_id: Option<String>,
    pub event: Option<AuditEvent>,
    /// Only entries whose actor has this id (a user id, a client id, an
    /// API key's prefix).
    pub actor_id: Option<String>,
    pub since: Option<UnixTime>,
    pub until: Option<UnixTime>,
    pub before_id: Option<i64>,
    pub limit: u32,
}

impl AuditQuery {
    /// The newest `limit` entries of a workspace.
    pub fn workspace(workspace_id: &str, limit: u32) -> Self {
        Self {
            workspace_id: Some(workspace_id.to_owned()),
            limit,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_roundtrip() {
        for e in AuditEvent::ALL {
            assert_eq!(e.as_str().parse::<AuditEvent>().unwrap(), *e);
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        assert!("nope".parse::<AuditEvent>().is_err());
    }
}
