//! Workspace operations shared by the CLI, the HTTP API and tests.

use crate::clients::wait_for_propagation;
use crate::clock::UnixTime;
use crate::domain::audit::{AuditContext, AuditEvent};
use crate::domain::secret::{PlainSecret, SecretHasher, random_base62};
use crate::domain::workspace::{Workspace, new_application_key, new_secret_key, new_workspace_id};
use crate::storage::{ClientKind, ClientRecord, NewSecret, SecretRotation, StorageError, Store};

/// The longest overlap a rotation may give the previous secret.
pub const MAX_GRACE_SECONDS: i64 = 7 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("the name must be 1 to {} characters", crate::domain::MAX_LABEL_CHARS)]
    InvalidName,
    #[error("the grace period must be 0 to {MAX_GRACE_SECONDS} seconds")]
    InvalidGrace,
    #[error("no such workspace")]
    NotFound,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A new workspace with the one-time plaintext of its secret key.
#[derive(Debug)]
pub struct CreatedWorkspace {
    pub workspace: Workspace,
    pub application_key: String,
    pub secret_key: PlainSecret,
}

pub async fn create(
    store: &dyn Store,
    hasher: &SecretHasher,
    name: &str,
    now: UnixTime,
    ctx: &AuditContext,
) -> Result<CreatedWorkspace, WorkspaceError> {
    let name = valid_name(name)?;
    let workspace = Workspace {
        id: new_workspace_id(),
        name: name.to_owned(),
        created_at: now,
    };
    let application_key = new_application_key();
    let secret_key = new_secret_key();
    let audit = ctx
        .entry(AuditEvent::WorkspaceCreated, now)
        .workspace(&workspace.id)
        .details(serde_json::json!({"name": workspace.name, "applicationKey": application_key}));
    let secret = NewSecret::new(hasher.hash(&secret_key));
    store
        .create_workspace(&workspace, &application_key, &secret, &audit)
        .await?;
    Ok(CreatedWorkspace {
        workspace,
        application_key,
        secret_key,
    })
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotationOptions {
    /// How long the previous secret keeps working (0: not at all).
    pub grace_seconds: i64,
    /// Also revoke every access token issued with the workspace's key so far.
    pub revoke_issued_tokens: bool,
}

/// A regenerated secret key, shown once.
#[derive(Debug)]
pub struct RotatedSecret {
    pub application_key: String,
    pub secret_key: PlainSecret,
    pub rotated_at: UnixTime,
    /// When the previous secret stops working (`rotated_at` when immediate).
    pub previous_expires_at: UnixTime,
}

/// Replaces the workspace's secret key. The previous one keeps working for
/// `grace_seconds` (0: not at all). Returns only once no node's client cache
/// can accept a secret this rotation retired (see `clients.rs`).
pub async fn rotate_secret(
    store: &dyn Store,
    hasher: &SecretHasher,
    workspace_id: &str,
    options: RotationOptions,
    now: UnixTime,
    ctx: &AuditContext,
) -> Result<RotatedSecret, WorkspaceError> {
    let grace_seconds = options.grace_seconds;
    if !(0..=MAX_GRACE_SECONDS).contains(&grace_seconds) {
        return Err(WorkspaceError::InvalidGrace);
    }
    let client = store
        .application_client(workspace_id)
        .await?
        .ok_or(WorkspaceError::NotFound)?;
    let secret_key = new_secret_key();
    let rotation = SecretRotation {
        now,
        previous_expire_at: now + grace_seconds,
        revoke_issued_tokens: options.revoke_issued_tokens,
    };
    let audit = ctx
        .entry(AuditEvent::SecretRegenerated, now)
        .workspace(workspace_id)
        .details(serde_json::json!({
            "applicationKey": client.client_id,
            "gracePeriodSeconds": grace_seconds,
            "revokeIssuedTokens": options.revoke_issued_tokens,
        }));
    let secret = NewSecret::new(hasher.hash(&secret_key));
    if !store
        .rotate_client_secret(&client.client_id, &secret, rotation, &audit)
        .await?
    {
        return Err(WorkspaceError::NotFound);
    }
    wait_for_propagation().await;
    Ok(RotatedSecret {
        application_key: client.client_id,
        secret_key,
        rotated_at: now,
        previous_expires_at: rotation.previous_expire_at,
    })
}

/// A new resource server client, with the one-time plaintext of its secret.
#[derive(Debug)]
pub struct CreatedClient {
    pub client_id: String,
    pub secret: PlainSecret,
}

pub const RESOURCE_SERVER_PREFIX: &str = "rs_";

/// Registers a resource server: a confidential client that may introspect
/// any token but obtains none.
pub async fn create_resource_server(
    store: &dyn Store,
    hasher: &SecretHasher,
    name: &str,
    now: UnixTime,
    ctx: &AuditContext,
) -> Result<CreatedClient, WorkspaceError> {
    let name = valid_name(name)?;
    let client = ClientRecord {
        client_id: format!("{RESOURCE_SERVER_PREFIX}{}", random_base62(24)),
        workspace_id: None,
        kind: ClientKind::ResourceServer,
        name: name.to_owned(),
        secret_rotated_at: Some(now),
        tokens_issued: 0,
        last_used_at: None,
        created_at: now,
        tokens_revoked_before: None,
    };
    let secret = new_secret_key();
    let audit = ctx.entry(AuditEvent::ClientCreated, now).details(
        serde_json::json!({"clientId": client.client_id, "kind": "resource_server", "name": name}),
    );
    store
        .create_client(&client, &NewSecret::new(hasher.hash(&secret)), &audit)
        .await?;
    Ok(CreatedClient {
        client_id: client.client_id,
        secret,
    })
}

fn valid_name(name: &str) -> Result<&str, WorkspaceError> {
    crate::domain::label(name).ok_or(WorkspaceError::InvalidName)
}
