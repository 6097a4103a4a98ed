//! Workspace operations shared by the CLI, the HTTP API and tests.

use crate::clock::UnixTime;
use crate::domain::audit::{AuditContext, AuditEvent};
use crate::domain::audit::{AuditQuery, AuditRecord};
use crate::domain::secret::{PlainSecret, SecretHasher, random_base62};
use crate::domain::workspace::{Workspace, new_application_key, new_secret_key, new_workspace_id};
use crate::service::clients::wait_for_propagation;
use crate::service::{During, StoreFailure};
use crate::storage::{ClientKind, ClientRecord, NewSecret, SecretRecord, SecretRotation, Store};

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
    #[error("no such client: {0}")]
    NoSuchClient(String),
    #[error("{0} is a public client: it has no secret to rotate")]
    PublicClient(String),
    #[error(
        "{0} is a workspace's application key: rotate it with `keyflow workspace rotate-secret`"
    )]
    ApplicationClient(String),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

/// Workspaces, their application tokens and the secrets of clients: what
/// the CLI, `/v1` and the console do with them. A server gets one from
/// [`crate::app::App::workspaces`].
#[derive(Clone, Copy)]
pub struct Workspaces<'a> {
    store: &'a dyn Store,
    hasher: &'a SecretHasher,
}

/// A workspace's application token as shown: never a secret.
#[derive(Debug)]
pub struct ApplicationToken {
    pub client: ClientRecord,
    /// Superseded secrets still inside their grace period, newest first.
    pub previous: Vec<SecretRecord>,
}

/// A new workspace with the one-time plaintext of its secret key.
#[derive(Debug)]
pub struct CreatedWorkspace {
    pub workspace: Workspace,
    pub application_key: String,
    pub secret_key: PlainSecret,
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

impl<'a> Workspaces<'a> {
    pub fn new(store: &'a dyn Store, hasher: &'a SecretHasher) -> Self {
        Self { store, hasher }
    }

    /// A workspace with no members yet (the CLI adds them).
    pub async fn create(
        &self,
        name: &str,
        now: UnixTime,
        ctx: &AuditContext,
    ) -> Result<CreatedWorkspace, WorkspaceError> {
        self.insert(name, None, now, ctx).await
    }

    /// A workspace whose first owner is the person creating it, as the
    /// console and sign-up do.
    pub async fn create_owned_by(
        &self,
        owner_user_id: &str,
        name: &str,
        now: UnixTime,
        ctx: &AuditContext,
    ) -> Result<CreatedWorkspace, WorkspaceError> {
        self.insert(name, Some(owner_user_id), now, ctx).await
    }

    async fn insert(
        &self,
        name: &str,
        owner: Option<&str>,
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
            .details(
                serde_json::json!({"name": workspace.name, "applicationKey": application_key, "ownerId": owner}),
            );
        let secret = NewSecret::new(self.hasher.hash(&secret_key));
        self.store
            .create_workspace(&workspace, &application_key, &secret, owner, &audit)
            .await
            .during("create the workspace")?;
        Ok(CreatedWorkspace {
            workspace,
            application_key,
            secret_key,
        })
    }

    /// Replaces the workspace's secret key. The previous one keeps working for
    /// `grace_seconds` (0: not at all). A rotation without a grace period ends
    /// every older secret at once, even one still inside an earlier grace
    /// period; a rotation with a grace period leaves running grace periods as
    /// they are (each older secret keeps its own expiry), except that one ending
    /// later than the new grace period ends with it (`rotate_client_secret`
    /// never extends a secret). Returns only once no node's client cache can
    /// accept a secret this rotation retired (see `clients.rs`).
    pub async fn rotate_secret(
        &self,
        workspace_id: &str,
        options: RotationOptions,
        now: UnixTime,
        ctx: &AuditContext,
    ) -> Result<RotatedSecret, WorkspaceError> {
        if !(0..=MAX_GRACE_SECONDS).contains(&options.grace_seconds) {
            return Err(WorkspaceError::InvalidGrace);
        }
        let client = self
            .store
            .application_client(workspace_id)
            .await
            .during("read the application client")?
            .ok_or(WorkspaceError::NotFound)?;
        let audit = ctx
            .entry(AuditEvent::SecretRegenerated, now)
            .workspace(workspace_id)
            .details(serde_json::json!({
                "applicationKey": client.client_id,
                "gracePeriodSeconds": options.grace_seconds,
                "revokeIssuedTokens": options.revoke_issued_tokens,
            }));
        self.rotate(client.client_id, options, now, &audit)
            .await?
            .ok_or(WorkspaceError::NotFound)
    }

    /// Replaces the secret of a client that belongs to no workspace: a
    /// confidential third-party client or a resource server, with the rules of
    /// [`rotate_secret`].
    pub async fn rotate_client_secret(
        &self,
        client_id: &str,
        options: RotationOptions,
        now: UnixTime,
        ctx: &AuditContext,
    ) -> Result<RotatedSecret, WorkspaceError> {
        if !(0..=MAX_GRACE_SECONDS).contains(&options.grace_seconds) {
            return Err(WorkspaceError::InvalidGrace);
        }
        let missing = || WorkspaceError::NoSuchClient(client_id.to_owned());
        let client = self
            .store
            .find_client(client_id, now)
            .await
            .during("read the client")?
            .ok_or_else(missing)?;
        match client.client.kind {
            ClientKind::Application => {
                return Err(WorkspaceError::ApplicationClient(client_id.to_owned()));
            }
            ClientKind::ThirdParty => {
                let (_, oauth) = self
                    .store
                    .oauth_client(client_id)
                    .await
                    .during("read the OAuth client")?
                    .ok_or_else(missing)?;
                if oauth.public {
                    return Err(WorkspaceError::PublicClient(client_id.to_owned()));
                }
            }
            ClientKind::ResourceServer => {}
        }
        let audit = ctx
            .entry(AuditEvent::SecretRegenerated, now)
            .details(serde_json::json!({
                "clientId": client_id,
                "gracePeriodSeconds": options.grace_seconds,
                "revokeIssuedTokens": options.revoke_issued_tokens,
            }));
        self.rotate(client_id.to_owned(), options, now, &audit)
            .await?
            .ok_or_else(missing)
    }

    /// Stores a new secret for `client_id`; `None` when the client is gone.
    async fn rotate(
        &self,
        client_id: String,
        options: RotationOptions,
        now: UnixTime,
        audit: &crate::domain::audit::AuditEntry,
    ) -> Result<Option<RotatedSecret>, WorkspaceError> {
        let secret_key = new_secret_key();
        let rotation = SecretRotation {
            now,
            previous_expire_at: now + options.grace_seconds,
            revoke_issued_tokens: options.revoke_issued_tokens,
        };
        let secret = NewSecret::new(self.hasher.hash(&secret_key));
        if !self
            .store
            .rotate_client_secret(&client_id, &secret, rotation, audit)
            .await
            .during("rotate the secret")?
        {
            return Ok(None);
        }
        wait_for_propagation().await;
        Ok(Some(RotatedSecret {
            application_key: client_id,
            secret_key,
            rotated_at: now,
            previous_expires_at: rotation.previous_expire_at,
        }))
    }

    /// Registers a resource server: a confidential client that may introspect
    /// any token but obtains none.
    pub async fn create_resource_server(
        &self,
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
        self.store
            .create_client(&client, &NewSecret::new(self.hasher.hash(&secret)), &audit)
            .await
            .during("create the resource server")?;
        Ok(CreatedClient {
            client_id: client.client_id,
            secret,
        })
    }

    /// Lets (or stops letting) old integrations authenticate with the
    /// application key alone on the legacy `appkey` path.
    pub async fn set_allow_appkey_only(
        &self,
        workspace_id: &str,
        allow: bool,
        now: UnixTime,
        ctx: &AuditContext,
    ) -> Result<(), WorkspaceError> {
        let audit = ctx
            .entry(AuditEvent::AppkeyOnlyChanged, now)
            .workspace(workspace_id)
            .details(serde_json::json!({ "allowAppkeyOnly": allow }));
        let found = self
            .store
            .set_allow_appkey_only(workspace_id, allow, &audit)
            .await
            .during("change the appkey-only setting")?;
        found.then_some(()).ok_or(WorkspaceError::NotFound)
    }

    /// The application token of a workspace, without its secret, and every
    /// superseded secret still inside its grace period.
    pub async fn application_token(
        &self,
        workspace_id: &str,
        now: UnixTime,
    ) -> Result<ApplicationToken, WorkspaceError> {
        let client = self
            .store
            .application_client(workspace_id)
            .await
            .during("read the application client")?
            .ok_or(WorkspaceError::NotFound)?;
        let previous = self
            .store
            .previous_secrets(&client.client_id, now)
            .await
            .during("read the previous secrets")?;
        Ok(ApplicationToken { client, previous })
    }

    /// A page of the workspace's audit log (`query.workspace_id`).
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, WorkspaceError> {
        Ok(self
            .store
            .list_audit(query)
            .await
            .during("read the audit log")?)
    }
}

/// A new resource server client, with the one-time plaintext of its secret.
#[derive(Debug)]
pub struct CreatedClient {
    pub client_id: String,
    pub secret: PlainSecret,
}

pub const RESOURCE_SERVER_PREFIX: &str = "rs_";

fn valid_name(name: &str) -> Result<&str, WorkspaceError> {
    crate::domain::label(name).ok_or(WorkspaceError::InvalidName)
}
