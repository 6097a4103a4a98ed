//! The SQL of [`WorkspaceStore`](crate::storage::workspaces::WorkspaceStore),
//! expanded once per backend.

macro_rules! impl_workspaces {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::domain::workspace::Workspace;
            use $crate::storage::workspaces::WorkspaceStore;
            use $crate::storage::{ClientKind, ClientRecord, NewSecret, Result, sql};

            #[async_trait::async_trait]
            impl WorkspaceStore for $store {
                async fn create_workspace(
                    &self,
                    ws: &Workspace,
                    client_id: &str,
                    secret: &NewSecret,
                    owner: Option<&str>,
                    audit: &AuditEntry,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)",
                    )
                    .bind(&ws.id)
                    .bind(&ws.name)
                    .bind(ws.created_at)
                    .execute(&mut *tx)
                    .await?;
                    let client = ClientRecord {
                        client_id: client_id.to_owned(),
                        workspace_id: Some(ws.id.clone()),
                        kind: ClientKind::Application,
                        name: ws.name.clone(),
                        secret_rotated_at: Some(ws.created_at),
                        tokens_issued: 0,
                        last_used_at: None,
                        created_at: ws.created_at,
                        tokens_revoked_before: None,
                    };
                    Self::insert_client(&mut tx, &client).await?;
                    Self::insert_secret(&mut tx, client_id, secret, ws.created_at).await?;
                    if let Some(user_id) = owner {
                        sqlx::query(
                            "INSERT INTO memberships (user_id, workspace_id, role, created_at) \
                             VALUES ($1, $2, 'owner', $3)",
                        )
                        .bind(user_id)
                        .bind(&ws.id)
                        .bind(ws.created_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Self::commit_audited(tx, audit, sql::BUMP_CREDENTIALS).await
                }

                async fn set_allow_appkey_only(
                    &self,
                    workspace_id: &str,
                    allow: bool,
                    audit: &AuditEntry,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let n =
                        sqlx::query("UPDATE workspaces SET allow_appkey_only = $1 WHERE id = $2")
                            .bind(allow)
                            .bind(workspace_id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    Self::commit_audited(tx, audit, sql::BUMP_CREDENTIALS).await?;
                    Ok(true)
                }

                async fn get_workspace(&self, id: &str) -> Result<Option<Workspace>> {
                    let row: Option<sql::WorkspaceRow> =
                        sqlx::query_as("SELECT id, name, created_at FROM workspaces WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(row.map(sql::workspace))
                }

                async fn claim_rotation_notices(
                    &self,
                    due_before: UnixTime,
                    now: UnixTime,
                ) -> Result<Vec<(String, UnixTime)>> {
                    let _turn = self.write_turn().await;
                    let rows: Vec<(String, i64)> = sqlx::query_as(
                        "UPDATE clients SET rotation_notice_at = $2 \
                         WHERE kind = 'application' AND workspace_id IS NOT NULL \
                         AND COALESCE(secret_rotated_at, created_at) < $1 \
                         AND (rotation_notice_at IS NULL \
                              OR rotation_notice_at <= COALESCE(secret_rotated_at, created_at)) \
                         RETURNING workspace_id, COALESCE(secret_rotated_at, created_at)",
                    )
                    .bind(due_before).bind(now).fetch_all(&self.pool).await?;
                    Ok(rows)
                }

                async fn list_workspaces(&self) -> Result<Vec<Workspace>> {
                    let rows: Vec<sql::WorkspaceRow> = sqlx::query_as(
                        "SELECT id, name, created_at FROM workspaces ORDER BY created_at, id",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(sql::workspace).collect())
                }
            }
        };
    };
}
pub(in crate::storage) use impl_workspaces;
