//! The queries, written once in the SQL both backends speak (`$n`
//! placeholders, `RETURNING`, partial indexes) and expanded into one `Store`
//! implementation per backend by `impl_store!`. A backend supplies `pool`,
//! `begin_write()` and its migrator.

use crate::crypto::signing::Algorithm;
use crate::domain::audit::{Actor, ActorKind, AuditEntry, AuditRecord, Origin};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::SecretHash;
use crate::domain::workspace::Workspace;

use super::{
    ApiKeyRecord, ClientKind, ClientRecord, ClientWithSecrets, Result, SecretRecord, StorageError,
    StoredSigningKey,
};

pub(super) type WorkspaceRow = (String, String, i64);
pub(super) type SecretRow = (String, Vec<u8>, i64, Option<i64>, Option<i64>);
pub(super) type SigningKeyRow = (String, String, Vec<u8>, i64, Option<i64>);
pub(super) type AuditRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    client_id: String,
    workspace_id: Option<String>,
    kind: String,
    name: String,
    secret_rotated_at: Option<i64>,
    tokens_issued: i64,
    last_used_at: Option<i64>,
    created_at: i64,
    tokens_revoked_before: Option<i64>,
    allow_appkey_only: bool,
}

#[derive(sqlx::FromRow)]
pub(super) struct ApiKeyRow {
    id: String,
    workspace_id: String,
    name: String,
    key_type: String,
    prefix: String,
    key_hash: Vec<u8>,
    scopes: String,
    rate_limits: Option<String>,
    created_at: i64,
    created_by: String,
    expires_at: Option<i64>,
    deactivated: bool,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
    usage_count: i64,
}

/// `SELECT <api key columns> FROM api_keys WHERE <condition>`, as a literal.
macro_rules! select_api_keys {
    ($condition:literal) => {
        concat!(
            "SELECT id, workspace_id, name, key_type, prefix, key_hash, scopes, rate_limits, created_at, \
             created_by, expires_at, deactivated, revoked_at, last_used_at, usage_count FROM api_keys WHERE ",
            $condition
        )
    };
}
pub(super) use select_api_keys;

/// Scopes read back from the database: they were valid when written, so
/// one that no longer parses is corruption, never an empty set.
pub(super) fn stored_scopes(raw: &str) -> Result<ScopeSet> {
    ScopeSet::parse(raw).map_err(|e| StorageError::Corrupt(format!("stored scopes: {e}")))
}

pub(super) fn api_key(row: ApiKeyRow) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        key_type: row.key_type.parse().map_err(StorageError::Corrupt)?,
        hash: SecretHash::from_slice(&row.key_hash)
            .ok_or_else(|| StorageError::Corrupt("API key hash is not 32 bytes".into()))?,
        id: row.id,
        workspace_id: row.workspace_id,
        name: row.name,
        prefix: row.prefix,
        scopes: stored_scopes(&row.scopes)?,
        rate_limits: row.rate_limits,
        created_at: row.created_at,
        created_by: row.created_by,
        expires_at: row.expires_at,
        deactivated: row.deactivated,
        revoked_at: row.revoked_at,
        last_used_at: row.last_used_at,
        usage_count: row.usage_count,
    })
}

/// `SELECT <client columns> FROM clients c … WHERE <condition>`, as a literal.
macro_rules! select_clients {
    ($condition:literal) => {
        concat!(
            "SELECT c.client_id, c.workspace_id, c.kind, c.name, c.secret_rotated_at, c.tokens_issued, \
             c.last_used_at, c.created_at, c.tokens_revoked_before, \
             COALESCE(w.allow_appkey_only, FALSE) AS allow_appkey_only \
             FROM clients c LEFT JOIN workspaces w ON w.id = c.workspace_id WHERE ",
            $condition
        )
    };
}
pub(super) use select_clients;

pub(super) const BUMP_CREDENTIALS: &str =
    "UPDATE sync_epochs SET credentials = credentials + 1 WHERE id = 1";
pub(super) const BUMP_SIGNING_KEYS: &str =
    "UPDATE sync_epochs SET signing_keys = signing_keys + 1 WHERE id = 1";
pub(super) const BUMP_REVOCATIONS: &str =
    "UPDATE sync_epochs SET revocations = revocations + 1 WHERE id = 1";

pub(super) fn workspace(row: WorkspaceRow) -> Workspace {
    Workspace {
        id: row.0,
        name: row.1,
        created_at: row.2,
    }
}

/// The client and whether its workspace allows the application key alone.
pub(super) fn client(row: ClientRow) -> Result<(ClientRecord, bool)> {
    Ok((
        ClientRecord {
            client_id: row.client_id,
            workspace_id: row.workspace_id,
            kind: ClientKind::parse(&row.kind).map_err(StorageError::Corrupt)?,
            name: row.name,
            secret_rotated_at: row.secret_rotated_at,
            tokens_issued: row.tokens_issued,
            last_used_at: row.last_used_at,
            created_at: row.created_at,
            tokens_revoked_before: row.tokens_revoked_before,
        },
        row.allow_appkey_only,
    ))
}

pub(super) fn client_with_secrets(
    row: ClientRow,
    secrets: Vec<SecretRow>,
) -> Result<ClientWithSecrets> {
    let (client, allow_appkey_only) = client(row)?;
    Ok(ClientWithSecrets {
        client,
        secrets: secrets.into_iter().map(secret).collect::<Result<_>>()?,
        allow_appkey_only,
    })
}

pub(super) fn audit(row: AuditRow) -> Result<AuditRecord> {
    let kind = ActorKind::parse(&row.3)
        .ok_or_else(|| StorageError::Corrupt(format!("actor type {:?}", row.3)))?;
    Ok(AuditRecord {
        id: row.0,
        entry: AuditEntry {
            occurred_at: row.1,
            event: row.2.parse().map_err(StorageError::Corrupt)?,
            actor: Actor { kind, id: row.4 },
            workspace_id: row.5,
            origin: Origin {
                ip: row.6,
                user_agent: row.7,
            },
            details: serde_json::from_str(&row.8)
                .map_err(|e| StorageError::Corrupt(e.to_string()))?,
        },
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

            /// Writes an audit entry inside the transaction of the change it
            /// records, so neither exists without the other.
            async fn audit(
                conn: &mut <$db as sqlx::Database>::Connection,
                e: &$crate::domain::audit::AuditEntry,
            ) -> $crate::storage::Result<()> {
                sqlx::query(
                    "INSERT INTO audit_log (occurred_at, event, actor_type, actor_id, workspace_id, ip, user_agent, details) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(e.occurred_at)
                .bind(e.event.as_str())
                .bind(e.actor.kind.as_str())
                .bind(&e.actor.id)
                .bind(&e.workspace_id)
                .bind(&e.origin.ip)
                .bind(&e.origin.user_agent)
                .bind(e.details.to_string())
                .execute(conn)
                .await?;
                Ok(())
            }

            async fn insert_api_key_row(
                conn: &mut <$db as sqlx::Database>::Connection,
                k: &$crate::storage::ApiKeyRecord,
            ) -> $crate::storage::Result<()> {
                sqlx::query(
                    "INSERT INTO api_keys (id, workspace_id, name, key_type, prefix, key_hash, scopes, rate_limits, \
                     created_at, created_by, expires_at, deactivated) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(&k.id)
                .bind(&k.workspace_id)
                .bind(&k.name)
                .bind(k.key_type.as_str())
                .bind(&k.prefix)
                .bind(&k.hash.0[..])
                .bind(k.scopes.to_string())
                .bind(&k.rate_limits)
                .bind(k.created_at)
                .bind(&k.created_by)
                .bind(k.expires_at)
                .bind(k.deactivated)
                .execute(conn)
                .await
                .map_err($crate::storage::StorageError::from_write)?;
                Ok(())
            }

            async fn insert_client(
                conn: &mut <$db as sqlx::Database>::Connection,
                c: &$crate::storage::ClientRecord,
            ) -> $crate::storage::Result<()> {
                sqlx::query(
                    "INSERT INTO clients (client_id, workspace_id, kind, name, secret_rotated_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&c.client_id)
                .bind(&c.workspace_id)
                .bind(c.kind.as_str())
                .bind(&c.name)
                .bind(c.secret_rotated_at)
                .bind(c.created_at)
                .execute(conn)
                .await?;
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

            async fn master_key_check(&self) -> $crate::storage::Result<Option<Vec<u8>>> {
                let row: Option<(Vec<u8>,)> =
                    sqlx::query_as("SELECT sealed FROM master_key_check WHERE id = 1")
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(sealed,)| sealed))
            }

            async fn init_master_key_check(
                &self,
                sealed: &[u8],
                now: $crate::clock::UnixTime,
            ) -> $crate::storage::Result<Vec<u8>> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO master_key_check (id, sealed, created_at) VALUES (1, $1, $2) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(sealed)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let (stored,): (Vec<u8>,) =
                    sqlx::query_as("SELECT sealed FROM master_key_check WHERE id = 1")
                        .fetch_one(&mut *tx)
                        .await?;
                tx.commit().await?;
                Ok(stored)
            }

            async fn holds_data(&self) -> $crate::storage::Result<bool> {
                let (any,): (bool,) = sqlx::query_as(
                    "SELECT EXISTS (SELECT 1 FROM clients) OR EXISTS (SELECT 1 FROM signing_keys) \
                     OR EXISTS (SELECT 1 FROM users)",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(any)
            }

            async fn epochs(&self) -> $crate::storage::Result<$crate::storage::Epochs> {
                let (credentials, signing_keys, revocations): (i64, i64, i64) = sqlx::query_as(
                    "SELECT credentials, signing_keys, revocations FROM sync_epochs WHERE id = 1",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::storage::Epochs {
                    credentials,
                    signing_keys,
                    revocations,
                })
            }

            async fn create_workspace(
                &self,
                ws: &$crate::domain::workspace::Workspace,
                client_id: &str,
                secret: &$crate::storage::NewSecret,
                audit: &$crate::domain::audit::AuditEntry,
            ) -> $crate::storage::Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(&ws.id)
                    .bind(&ws.name)
                    .bind(ws.created_at)
                    .execute(&mut *tx)
                    .await?;
                let client = $crate::storage::ClientRecord {
                    client_id: client_id.to_owned(),
                    workspace_id: Some(ws.id.clone()),
                    kind: $crate::storage::ClientKind::Application,
                    name: ws.name.clone(),
                    secret_rotated_at: Some(ws.created_at),
                    tokens_issued: 0,
                    last_used_at: None,
                    created_at: ws.created_at,
                    tokens_revoked_before: None,
                };
                Self::insert_client(&mut tx, &client).await?;
                Self::insert_secret(&mut tx, client_id, secret, ws.created_at).await?;
                Self::audit(&mut tx, audit).await?;
                Self::bump(&mut tx, $crate::storage::sql::BUMP_CREDENTIALS).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_client(
                &self,
                client: &$crate::storage::ClientRecord,
                secret: &$crate::storage::NewSecret,
                audit: &$crate::domain::audit::AuditEntry,
            ) -> $crate::storage::Result<()> {
                let mut tx = self.begin_write().await?;
                Self::insert_client(&mut tx, client).await?;
                Self::insert_secret(&mut tx, &client.client_id, secret, client.created_at).await?;
                Self::audit(&mut tx, audit).await?;
                Self::bump(&mut tx, $crate::storage::sql::BUMP_CREDENTIALS).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_allow_appkey_only(
                &self,
                workspace_id: &str,
                allow: bool,
                audit: &$crate::domain::audit::AuditEntry,
            ) -> $crate::storage::Result<bool> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query("UPDATE workspaces SET allow_appkey_only = $1 WHERE id = $2")
                    .bind(allow)
                    .bind(workspace_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n == 0 {
                    return Ok(false);
                }
                Self::audit(&mut tx, audit).await?;
                Self::bump(&mut tx, $crate::storage::sql::BUMP_CREDENTIALS).await?;
                tx.commit().await?;
                Ok(true)
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
                let row: Option<$crate::storage::sql::ClientRow> =
                    sqlx::query_as($crate::storage::sql::select_clients!("c.client_id = $1"))
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
                $crate::storage::sql::client_with_secrets(row, secrets).map(Some)
            }

            async fn application_client(
                &self,
                workspace_id: &str,
            ) -> $crate::storage::Result<Option<$crate::storage::ClientRecord>> {
                let row: Option<$crate::storage::sql::ClientRow> =
                    sqlx::query_as($crate::storage::sql::select_clients!("c.workspace_id = $1 AND c.kind = $2"))
                        .bind(workspace_id)
                        .bind($crate::storage::ClientKind::Application.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map($crate::storage::sql::client).transpose()?.map(|(c, _)| c))
            }

            async fn list_clients(
                &self,
                kind: $crate::storage::ClientKind,
            ) -> $crate::storage::Result<Vec<$crate::storage::ClientRecord>> {
                let rows: Vec<$crate::storage::sql::ClientRow> = sqlx::query_as(
                    $crate::storage::sql::select_clients!("c.kind = $1 ORDER BY c.created_at, c.client_id"),
                )
                .bind(kind.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|r| $crate::storage::sql::client(r).map(|(c, _)| c))
                    .collect()
            }

            async fn previous_secrets(
                &self,
                client_id: &str,
                now: $crate::clock::UnixTime,
            ) -> $crate::storage::Result<Vec<$crate::storage::SecretRecord>> {
                // Of two secrets made in one second, the later one was
                // superseded later, so it never expires sooner.
                let rows: Vec<$crate::storage::sql::SecretRow> = sqlx::query_as(
                    "SELECT id, secret_hash, created_at, expires_at, last_used_at FROM client_secrets \
                     WHERE client_id = $1 AND expires_at > $2 \
                     ORDER BY created_at DESC, expires_at DESC, id",
                )
                .bind(client_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::storage::sql::secret).collect()
            }

            async fn rotate_client_secret(
                &self,
                client_id: &str,
                secret: &$crate::storage::NewSecret,
                rotation: $crate::storage::SecretRotation,
                audit: &$crate::domain::audit::AuditEntry,
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
                if rotation.revoke_issued_tokens {
                    sqlx::query("UPDATE clients SET tokens_revoked_before = $1 WHERE client_id = $2")
                        .bind(rotation.now + 1)
                        .bind(client_id)
                        .execute(&mut *tx)
                        .await?;
                    Self::bump(&mut tx, $crate::storage::sql::BUMP_REVOCATIONS).await?;
                }
                Self::audit(&mut tx, audit).await?;
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
                audit: &$crate::domain::audit::AuditEntry,
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
                Self::audit(&mut tx, audit).await?;
                Self::bump(&mut tx, $crate::storage::sql::BUMP_SIGNING_KEYS).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn revoke_token(
                &self,
                jti: &str,
                client_id: &str,
                expires_at: $crate::clock::UnixTime,
                audit: &$crate::domain::audit::AuditEntry,
            ) -> $crate::storage::Result<()> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query(
                    "INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (jti) DO NOTHING",
                )
                .bind(jti)
                .bind(client_id)
                .bind(expires_at)
                .bind(audit.occurred_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n > 0 {
                    Self::audit(&mut tx, audit).await?;
                    Self::bump(&mut tx, $crate::storage::sql::BUMP_REVOCATIONS).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn revocations(
                &self,
                now: $crate::clock::UnixTime,
                window: i64,
            ) -> $crate::storage::Result<$crate::storage::RevocationList> {
                let tokens: Vec<(String, i64)> =
                    sqlx::query_as("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > $1 ORDER BY jti")
                        .bind(now)
                        .fetch_all(&self.pool)
                        .await?;
                let clients: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT client_id, tokens_revoked_before FROM clients \
                     WHERE tokens_revoked_before IS NOT NULL AND tokens_revoked_before > $1 ORDER BY client_id",
                )
                .bind(now - window)
                .fetch_all(&self.pool)
                .await?;
                Ok($crate::storage::RevocationList { tokens, clients })
            }

            async fn purge_revocations(&self, now: $crate::clock::UnixTime) -> $crate::storage::Result<u64> {
                let _turn = self.write_turn().await;
                Ok(sqlx::query("DELETE FROM revoked_tokens WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?
                    .rows_affected())
            }

            async fn append_audit(&self, entry: &$crate::domain::audit::AuditEntry) -> $crate::storage::Result<()> {
                let _turn = self.write_turn().await;
                let mut conn = self.pool.acquire().await?;
                Self::audit(&mut conn, entry).await
            }

            async fn list_audit(
                &self,
                q: &$crate::domain::audit::AuditQuery,
            ) -> $crate::storage::Result<Vec<$crate::domain::audit::AuditRecord>> {
                let rows: Vec<$crate::storage::sql::AuditRow> = sqlx::query_as(
                    "SELECT id, occurred_at, event, actor_type, actor_id, workspace_id, ip, user_agent, details \
                     FROM audit_log WHERE workspace_id = $1 \
                     AND ($2 IS NULL OR event = $2) \
                     AND ($3 IS NULL OR occurred_at >= $3) \
                     AND ($4 IS NULL OR occurred_at < $4) \
                     AND ($5 IS NULL OR id < $5) \
                     ORDER BY id DESC LIMIT $6",
                )
                .bind(&q.workspace_id)
                .bind(q.event.map(|e| e.as_str()))
                .bind(q.since)
                .bind(q.until)
                .bind(q.before_id)
                .bind(i64::from(q.limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::storage::sql::audit).collect()
            }

            async fn insert_api_key(
                &self,
                key: &$crate::storage::ApiKeyRecord,
                audit: &$crate::domain::audit::AuditEntry,
            ) -> $crate::storage::Result<()> {
                let mut tx = self.begin_write().await?;
                Self::insert_api_key_row(&mut tx, key).await?;
                Self::audit(&mut tx, audit).await?;
                Self::bump(&mut tx, $crate::storage::sql::BUMP_CREDENTIALS).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn api_key_by_prefix(
                &self,
                prefix: &str,
            ) -> $crate::storage::Result<Option<$crate::storage::ApiKeyRecord>> {
                let row: Option<$crate::storage::sql::ApiKeyRow> =
                    sqlx::query_as($crate::storage::sql::select_api_keys!("prefix = $1"))
                        .bind(prefix)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map($crate::storage::sql::api_key).transpose()
            }

            async fn list_api_keys(
                &self,
                workspace_id: &str,
                prefix: Option<&str>,
            ) -> $crate::storage::Result<Vec<$crate::storage::ApiKeyRecord>> {
                let rows: Vec<$crate::storage::sql::ApiKeyRow> = sqlx::query_as(
                    $crate::storage::sql::select_api_keys!(
                        "workspace_id = $1 AND ($2 IS NULL OR prefix = $2) ORDER BY created_at, id"
                    ),
                )
                .bind(workspace_id)
                .bind(prefix)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::storage::sql::api_key).collect()
            }

            async fn update_api_key(
                &self,
                workspace_id: &str,
                id: &str,
                expected_scopes: &str,
                c: &$crate::storage::ApiKeyChanges,
                audit: &$crate::domain::audit::AuditEntry,
            ) -> $crate::storage::Result<Option<$crate::storage::ApiKeyRecord>> {
                let mut tx = self.begin_write().await?;
                let row: Option<$crate::storage::sql::ApiKeyRow> = sqlx::query_as(concat!(
                    "UPDATE api_keys SET name = COALESCE($1, name), scopes = COALESCE($2, scopes), \
                     deactivated = COALESCE($3, deactivated), \
                     rate_limits = CASE WHEN $4 THEN $5 ELSE rate_limits END \
                     WHERE workspace_id = $6 AND id = $7 AND revoked_at IS NULL AND scopes = $8 RETURNING ",
                    "id, workspace_id, name, key_type, prefix, key_hash, scopes, rate_limits, created_at, \
                     created_by, expires_at, deactivated, revoked_at, last_used_at, usage_count"
                ))
                .bind(&c.name)
                .bind(&c.scopes)
                .bind(c.deactivated)
                .bind(c.rate_limits.is_some())
                .bind(c.rate_limits.clone().flatten())
                .bind(workspace_id)
                .bind(id)
                .bind(expected_scopes)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { return Ok(None) };
                Self::audit(&mut tx, audit).await?;
                Self::bump(&mut tx, $crate::storage::sql::BUMP_CREDENTIALS).await?;
                tx.commit().await?;
                $crate::storage::sql::api_key(row).map(Some)
            }

            async fn revoke_api_key(
                &self,
                workspace_id: &str,
                id: &str,
                expected_scopes: &str,
                audit: &$crate::domain::audit::AuditEntry,
            ) -> $crate::storage::Result<bool> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query(
                    "UPDATE api_keys SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL \
                     AND scopes = $4",
                )
                .bind(audit.occurred_at)
                .bind(workspace_id)
                .bind(id)
                .bind(expected_scopes)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Ok(false);
                }
                Self::audit(&mut tx, audit).await?;
                Self::bump(&mut tx, $crate::storage::sql::BUMP_CREDENTIALS).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn roll_api_key(
                &self,
                workspace_id: &str,
                id: &str,
                new: &$crate::storage::ApiKeyRecord,
                old_expires_at: $crate::clock::UnixTime,
                audit: &$crate::domain::audit::AuditEntry,
            ) -> $crate::storage::Result<bool> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query(
                    "UPDATE api_keys SET expires_at = $1 WHERE workspace_id = $2 AND id = $3 \
                     AND revoked_at IS NULL AND scopes = $4 AND (expires_at IS NULL OR expires_at > $1)",
                )
                .bind(old_expires_at)
                .bind(workspace_id)
                .bind(id)
                .bind(new.scopes.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let exists: Option<(String,)> = sqlx::query_as(
                    "SELECT id FROM api_keys WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL AND scopes = $3",
                )
                .bind(workspace_id)
                .bind(id)
                .bind(new.scopes.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                if n == 0 && exists.is_none() {
                    return Ok(false);
                }
                Self::insert_api_key_row(&mut tx, new).await?;
                Self::audit(&mut tx, audit).await?;
                Self::bump(&mut tx, $crate::storage::sql::BUMP_CREDENTIALS).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn record_api_key_usage(
                &self,
                usage: &[$crate::storage::ApiKeyUsage],
            ) -> $crate::storage::Result<()> {
                if usage.is_empty() {
                    return Ok(());
                }
                let mut tx = self.begin_write().await?;
                for u in usage {
                    sqlx::query(
                        "UPDATE api_keys SET usage_count = usage_count + $1, last_used_at = \
                         CASE WHEN last_used_at IS NULL OR last_used_at < $2 THEN $2 ELSE last_used_at END \
                         WHERE id = $3",
                    )
                    .bind(u.uses)
                    .bind(u.last_used_at)
                    .bind(&u.id)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn rate_limit_advance(
                &self,
                bucket: &str,
                now: i64,
                emission: i64,
                tolerance: i64,
            ) -> $crate::storage::Result<std::result::Result<i64, i64>> {
                let _turn = self.write_turn().await;
                let advanced: Option<(i64,)> = sqlx::query_as(
                    "INSERT INTO rate_limit_state (bucket, tat) VALUES ($1, $2 + $3) \
                     ON CONFLICT (bucket) DO UPDATE SET tat = \
                     (CASE WHEN rate_limit_state.tat > $2 THEN rate_limit_state.tat ELSE $2 END) + $3 \
                     WHERE (CASE WHEN rate_limit_state.tat > $2 THEN rate_limit_state.tat ELSE $2 END) - $2 <= $4 \
                     RETURNING tat",
                )
                .bind(bucket)
                .bind(now)
                .bind(emission)
                .bind(tolerance)
                .fetch_optional(&self.pool)
                .await?;
                if let Some((tat,)) = advanced {
                    return Ok(Ok(tat));
                }
                let (tat,): (i64,) = sqlx::query_as("SELECT tat FROM rate_limit_state WHERE bucket = $1")
                    .bind(bucket)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(Err(tat))
            }

            async fn purge_rate_limits(&self, now: i64) -> $crate::storage::Result<u64> {
                let _turn = self.write_turn().await;
                Ok(sqlx::query("DELETE FROM rate_limit_state WHERE tat < $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?
                    .rows_affected())
            }
        }
    };
}

pub(super) use impl_store;
