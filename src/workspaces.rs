//! Workspace operations shared by the CLI, the HTTP API and tests.

use crate::clients::wait_for_propagation;
use crate::clock::UnixTime;
use crate::domain::secret::{PlainSecret, SecretHasher};
use crate::domain::workspace::{Workspace, new_application_key, new_secret_key, new_workspace_id};
use crate::storage::{NewSecret, SecretRotation, StorageError, Store};

const MAX_NAME_CHARS: usize = 200;
/// The longest overlap a rotation may give the previous secret.
pub const MAX_GRACE_SECONDS: i64 = 7 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("the name must be 1 to {MAX_NAME_CHARS} characters")]
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
) -> Result<CreatedWorkspace, WorkspaceError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(WorkspaceError::InvalidName);
    }
    let workspace = Workspace {
        id: new_workspace_id(),
        name: name.to_owned(),
        created_at: now,
    };
    let application_key = new_application_key();
    let secret_key = new_secret_key();
    store
        .create_workspace(
            &workspace,
            &application_key,
            &NewSecret::new(hasher.hash(&secret_key)),
        )
        .await?;
    Ok(CreatedWorkspace {
        workspace,
        application_key,
        secret_key,
    })
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
    grace_seconds: i64,
    now: UnixTime,
) -> Result<RotatedSecret, WorkspaceError> {
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
    };
    if !store
        .rotate_client_secret(
            &client.client_id,
            &NewSecret::new(hasher.hash(&secret_key)),
            rotation,
        )
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
