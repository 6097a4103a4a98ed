//! What a platform admin does in the console: every user (disable, enable,
//! a password-reset link), every third-party client (register, rotate its
//! secret). Only a platform admin gets a [`PlatformAdmin`]; the CLI's
//! operator actions are the same functions underneath.

use crate::app::App;
use crate::domain::audit::AuditContext;
use crate::domain::user_record::{Membership, UserRecord};
use crate::service::accounts::{self, AccountError};
use crate::service::directory::LookupError;
use crate::service::integrations::{CreatedClient, NewClient};
use crate::service::passwords::{ResetError, ResetLink};
use crate::service::workspaces::{RotatedSecret, RotationOptions, WorkspaceError};
use crate::service::{During, StoreFailure};
use crate::storage::{ClientRecord, OAuthClientRecord};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("only platform admins may do that")]
    Forbidden,
    #[error("you cannot disable your own account")]
    SelfDisable,
    #[error(transparent)]
    Account(AccountError),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Reset(#[from] ResetError),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

impl From<AccountError> for AdminError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Storage(s) => StoreFailure::new("change an account", s).into(),
            other => AdminError::Account(other),
        }
    }
}

/// A platform admin, acting.
pub struct PlatformAdmin<'a> {
    app: &'a App,
    person: &'a UserRecord,
}

impl<'a> PlatformAdmin<'a> {
    pub fn new(app: &'a App, person: &'a UserRecord) -> Result<Self, AdminError> {
        if person.platform_admin {
            Ok(Self { app, person })
        } else {
            Err(AdminError::Forbidden)
        }
    }

    /// Every user with their memberships, oldest first.
    pub async fn users(&self) -> Result<Vec<(UserRecord, Vec<Membership>)>, AdminError> {
        let store = &self.app.store;
        let mut out = Vec::new();
        for user in store.list_users().await.during("list the users")? {
            let memberships = store
                .memberships(&user.id)
                .await
                .during("read memberships")?;
            out.push((user, memberships));
        }
        Ok(out)
    }

    /// Disables (sign-in refused, sessions and grants ended) or enables a
    /// user; an admin cannot lock themselves out.
    pub async fn set_disabled(
        &self,
        user_id: &str,
        disabled: bool,
        ctx: &AuditContext,
    ) -> Result<(), AdminError> {
        if disabled && user_id == self.person.id {
            return Err(AdminError::SelfDisable);
        }
        let store = self.app.store.as_ref();
        let now = self.app.clock.now();
        if disabled {
            accounts::disable_user(store, user_id, now, ctx).await?;
            self.app.reload_revocations().await;
        } else {
            accounts::enable_user(store, user_id, now, ctx).await?;
        }
        Ok(())
    }

    pub async fn reset_link(
        &self,
        user_id: &str,
        ctx: &AuditContext,
    ) -> Result<ResetLink, AdminError> {
        Ok(self.app.passwords().reset_link(user_id, ctx).await?)
    }

    /// Every third-party client with its OAuth settings, oldest first.
    pub async fn clients(&self) -> Result<Vec<(ClientRecord, OAuthClientRecord)>, AdminError> {
        self.app.integrations().list().await.map_err(|e| match e {
            LookupError::Store(f) => AdminError::Store(f),
            // `list` skips clients deleted while it reads.
            other => StoreFailure::new(
                "list the clients",
                crate::storage::StorageError::Corrupt(other.to_string()),
            )
            .into(),
        })
    }

    pub async fn register_client(
        &self,
        new: NewClient,
        ctx: &AuditContext,
    ) -> Result<CreatedClient, AdminError> {
        Ok(self.app.integrations().create(new, ctx).await?)
    }

    pub async fn rotate_client_secret(
        &self,
        client_id: &str,
        options: RotationOptions,
        ctx: &AuditContext,
    ) -> Result<RotatedSecret, AdminError> {
        let rotated = self
            .app
            .workspaces()
            .rotate_client_secret(client_id, options, self.app.clock.now(), ctx)
            .await?;
        if options.revoke_issued_tokens {
            self.app.reload_revocations().await;
        }
        Ok(rotated)
    }
}
