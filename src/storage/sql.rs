//! The queries, written once in the SQL both backends speak (`$n`
//! placeholders, `RETURNING`, partial indexes) and expanded into one `Store`
//! implementation per backend by `impl_store!`. A backend supplies `pool`,
//! `begin_write()` and its migrator.

use crate::crypto::signing::Algorithm;
use crate::domain::secret::SecretHash;
use crate::domain::workspace::Workspace;

use super::{ClientKind, ClientRecord, Result, SecretRecord, StorageError, StoredSigningKey};

pub(super) type WorkspaceRow = (String, String, i64);
pub(super) type ClientRow = (
    String,
    Option<String>,
    String,
    String,
    Option<i64>,
    i64,
    Option<i64>,
    i64,
);
pub(super) type SecretRow = (String, Vec<u8>, i64, Option<i64>, Option<i64>);
pub(super) type SigningKeyRow = (String, String, Vec<u8>, i64, Option<i64>);

/// `SELECT <client columns> FROM clients WHERE <condition>`, as a literal.
macro_rules! select_clients {
    ($condition:literal) => {
        concat!(
            "SELECT client_id, workspace_id, kind, name, secret_rotated_at, tokens_issued, last_used_at, created_at \
             FROM clients WHERE ",
            $condition
        )
    };
}
pub(super) use select_clients;

pub(super) fn workspace(row: WorkspaceRow) -> Workspace {
    Workspace {
        id: row.0,
        name: row.1,
        created_at: row.2,
    }
}

pub(super) fn client(row: ClientRow) -> Result<ClientRecord> {
    Ok(ClientRecord {
        client_id: row.0,
        workspace_id: row.1,
        kind: ClientKind::parse(&row.2)?,
        name: row.3,
        secret_rotated_at: row.4,
        tokens_issued: row.5,
        last_used_at: row.6,
        created_at: row.7,
    })
}

pub(super) fn secret(row: SecretRow) -> Result<SecretRecord> {
    Ok(SecretRecord {
        id: row.0,
        hash: SecretHash::from_slice(&row.1)
            .ok_or_else(|| StorageError::Corrupt("secret hash is not 32 bytes".into()))?,
        created_at: row.2,
        expires_at: row.3,
        last_used_at: row.4,
    })
}

pub(super) fn signing_key(row: SigningKeyRow) -> Result<StoredSigningKey> {
    Ok(StoredSigningKey {
        alg: row.1.parse::<Algorithm>().map_err(StorageError::Corrupt)?,
        kid: row.0,
        sealed_private_key: row.2,
        created_at: row.3,
        retired_at: row.4,
    })
}

pub(super) const BUMP_CREDENTIALS: &str =
    "UPDATE sync_epochs SET credentials = credentials + 1 WHERE id = 1";
pub(super) const BUMP_SIGNING_KEYS: &str =
    "UPDATE sync_epochs SET signing_keys = signing_keys + 1 WHERE id = 1";

macro_rules! impl_store {
    ($store:ty, $db:ty, $backend:expr) => {
        impl $store {
            async fn insert_secret(
                conn: &mut <$db as sqlx::Database>::Connection,
                client_id: &str,
                secret: &$crate::storage::NewSecret,
                at: $crate::clock::UnixTime,
            ) -> $crate::storage::Result<()> {
                sqlx::query(
                    "INSERT INTO client_secrets (id, client_id, secret_hash, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&secret.id)
                .bind(client_id)
                .bind(&secret.hash.0[..])
                .bind(at)
                .execute(conn)
                .await?;
                Ok(())
            }

            /// Moves a sync epoch, inside the transaction that made the change.
            async fn bump(
                conn: &mut <$db as sqlx::Database>::Connection,
                statement: &'static str,
            ) -> $crate::storage::Result<()> {
                sqlx::query(statement).execute(conn).await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::Store for $store {
            fn backend(&self) -> $crate::storage::Backend {
                $backend
            }

            async fn migrate(&self) -> $crate::storage::Result<()> {
                Self::migrator().run(&self.pool).await?;
                Ok(())
            }

            async fn ping(&self) -> $crate::storage::Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn epochs(&self) -> $crate::storage::Result<$crate::storage::Epochs> {
                let (credentials, signing_keys): (i64, i64) =
                    sqlx::query_as("SELECT credentials, signing_keys FROM sync_epochs WHERE id = 1")
                        .fetch_one(&self.pool)
                        .await?;
                Ok($crate::storage::Epochs { credentials, signing_keys })
            }

            async fn create_workspace(
                &self,
                ws: &$crate::domain::workspace::Workspace,
                client_id: &str,
                secret: &$crate::storage::NewSecret,
            ) -> $crate::storage::Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(&ws.id)
                    .bind(&ws.name)
                    .bind(ws.created_at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO clients (client_id, workspace_id, kind, name, secret_rotated_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .bind(client_id)
                .bind(&ws.id)
                .bind($crate::storage::ClientKind::Application.as_str())
                .bind(&ws.name)
                .bind(ws.created_at)
                .execute(&mut *tx)
                .await?;
                Self::insert_secret(&mut tx, client_id, secret, ws.created_at).await?;
                Self::bump(&mut tx, $crate::storage::sql::BUMP_CREDENTIALS).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn get_workspace(
                &self,
                id: &str,
            ) -> $crate::storage::Result<Option<$crate::domain::workspace::Workspace>> {
                let row: Option<$crate::storage::sql::WorkspaceRow> =
                    sqlx::query_as("SELECT id, name, created_at FROM workspaces WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map($crate::storage::sql::workspace))
            }

            async fn list_workspaces(
                &self,
            ) -> $crate::storage::Result<Vec<$crate::domain::workspace::Workspace>> {
                let rows: Vec<$crate::storage::sql::WorkspaceRow> =
                    sqlx::query_as("SELECT id, name, created_at FROM workspaces ORDER BY created_at, id")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map($crate::storage::sql::workspace).collect())
            }

            async fn find_client(
                &self,
                client_id: &str,
                now: $crate::clock::UnixTime,
            ) -> $crate::storage::Result<Option<$crate::storage::ClientWithSecrets>> {
                let row: Option<$crate::storage::sql::ClientRow> = sqlx::query_as($crate::storage::sql::select_clients!("client_id = $1"))
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let secrets: Vec<$crate::storage::sql::SecretRow> = sqlx::query_as(
                    "SELECT id, secret_hash, created_at, expires_at, last_used_at FROM client_secrets \
                     WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2) \
                     ORDER BY created_at DESC, id",
                )
                .bind(client_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                Ok(Some($crate::storage::ClientWithSecrets {
                    client: $crate::storage::sql::client(row)?,
                    secrets: secrets
                        .into_iter()
                        .map($crate::storage::sql::secret)
                        .collect::<$crate::storage::Result<_>>()?,
                }))
            }

            async fn application_client(
                &self,
                workspace_id: &str,
            ) -> $crate::storage::Result<Option<$crate::storage::ClientRecord>> {
                let row: Option<$crate::storage::sql::ClientRow> = sqlx::query_as($crate::storage::sql::select_clients!("workspace_id = $1 AND kind = $2"))
                .bind(workspace_id)
                .bind($crate::storage::ClientKind::Application.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::storage::sql::client).transpose()
            }

            async fn rotate_client_secret(
                &self,
                client_id: &str,
                secret: &$crate::storage::NewSecret,
                rotation: $crate::storage::SecretRotation,
            ) -> $crate::storage::Result<bool> {
                let mut tx = self.begin_write().await?;
                let updated = sqlx::query("UPDATE clients SET secret_rotated_at = $1 WHERE client_id = $2")
                    .bind(rotation.now)
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if updated == 0 {
                    return Ok(false);
                }
                // Never extend a secret that was due to expire sooner.
                sqlx::query(
                    "UPDATE client_secrets SET expires_at = $1 \
                     WHERE client_id = $2 AND (expires_at IS NULL OR expires_at > $1)",
                )
                .bind(rotation.previous_expire_at)
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
                Self::insert_secret(&mut tx, client_id, secret, rotation.now).await?;
                Self::bump(&mut tx, $crate::storage::sql::BUMP_CREDENTIALS).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn record_usage(&self, usage: &[$crate::storage::ClientUsage]) -> $crate::storage::Result<()> {
                if usage.is_empty() {
                    return Ok(());
                }
                let mut tx = self.begin_write().await?;
                for u in usage {
                    sqlx::query(
                        "UPDATE clients SET tokens_issued = tokens_issued + $1, last_used_at = \
                         CASE WHEN last_used_at IS NULL OR last_used_at < $2 THEN $2 ELSE last_used_at END \
                         WHERE client_id = $3",
                    )
                    .bind(u.tokens_issued)
                    .bind(u.last_used_at)
                    .bind(&u.client_id)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "UPDATE client_secrets SET last_used_at = \
                         CASE WHEN last_used_at IS NULL OR last_used_at < $1 THEN $1 ELSE last_used_at END \
                         WHERE id = $2",
                    )
                    .bind(u.last_used_at)
                    .bind(&u.secret_id)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn list_signing_keys(
                &self,
            ) -> $crate::storage::Result<Vec<$crate::storage::StoredSigningKey>> {
                let rows: Vec<$crate::storage::sql::SigningKeyRow> = sqlx::query_as(
                    "SELECT kid, alg, private_key, created_at, retired_at FROM signing_keys \
                     ORDER BY created_at, kid",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::storage::sql::signing_key).collect()
            }

            async fn insert_signing_key(
                &self,
                key: &$crate::storage::StoredSigningKey,
                retire_active: bool,
            ) -> $crate::storage::Result<()> {
                let mut tx = self.begin_write().await?;
                if retire_active {
                    sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE alg = $2 AND retired_at IS NULL")
                        .bind(key.created_at)
                        .bind(key.alg.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(
                    "INSERT INTO signing_keys (kid, alg, private_key, created_at, retired_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&key.kid)
                .bind(key.alg.as_str())
                .bind(&key.sealed_private_key)
                .bind(key.created_at)
                .bind(key.retired_at)
                .execute(&mut *tx)
                .await?;
                Self::bump(&mut tx, $crate::storage::sql::BUMP_SIGNING_KEYS).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(super) use impl_store;
