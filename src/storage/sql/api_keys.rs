//! The SQL of [`ApiKeyStore`](crate::storage::api_keys::ApiKeyStore), expanded
//! once per backend.

macro_rules! impl_api_keys {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::storage::{ApiKeyChanges, ApiKeyRecord, ApiKeyUsage, Result, sql};
            use $crate::storage::api_keys::ApiKeyStore;

            #[async_trait::async_trait]
            impl ApiKeyStore for $store {
                async fn insert_api_key(
                    &self,
                    key: &ApiKeyRecord,
                    audit: &AuditEntry,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    Self::insert_api_key_row(&mut tx, key).await?;
                    Self::commit_audited(tx, audit, sql::BUMP_CREDENTIALS).await
                }

                async fn api_key_by_prefix(
                    &self,
                    prefix: &str,
                ) -> Result<Option<ApiKeyRecord>> {
                    let row: Option<sql::ApiKeyRow> =
                        sqlx::query_as(sql::select_api_keys!("prefix = $1"))
                            .bind(prefix)
                            .fetch_optional(&self.pool)
                            .await?;
                    row.map(sql::api_key).transpose()
                }

                async fn list_api_keys(
                    &self,
                    workspace_id: &str,
                    prefix: Option<&str>,
                ) -> Result<Vec<ApiKeyRecord>> {
                    let rows: Vec<sql::ApiKeyRow> = sqlx::query_as(
                        sql::select_api_keys!(
                            "workspace_id = $1 AND ($2 IS NULL OR prefix = $2) ORDER BY created_at, id"
                        ),
                    )
                    .bind(workspace_id)
                    .bind(prefix)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(sql::api_key).collect()
                }

                async fn update_api_key(
                    &self,
                    workspace_id: &str,
                    id: &str,
                    expected_scopes: &str,
                    c: &ApiKeyChanges,
                    audit: &AuditEntry,
                ) -> Result<Option<ApiKeyRecord>> {
                    let mut tx = self.begin_write().await?;
                    let row: Option<sql::ApiKeyRow> = sqlx::query_as(concat!(
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
                    Self::commit_audited(tx, audit, sql::BUMP_CREDENTIALS).await?;
                    sql::api_key(row).map(Some)
                }

                async fn revoke_api_key(
                    &self,
                    workspace_id: &str,
                    id: &str,
                    expected_scopes: &str,
                    audit: &AuditEntry,
                ) -> Result<bool> {
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
                    Self::commit_audited(tx, audit, sql::BUMP_CREDENTIALS).await?;
                    Ok(true)
                }

                async fn roll_api_key(
                    &self,
                    workspace_id: &str,
                    id: &str,
                    new: &ApiKeyRecord,
                    old_expires_at: UnixTime,
                    audit: &AuditEntry,
                ) -> Result<bool> {
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
                    Self::commit_audited(tx, audit, sql::BUMP_CREDENTIALS).await?;
                    Ok(true)
                }

                async fn record_api_key_usage(
                    &self,
                    usage: &[ApiKeyUsage],
                    daily: &[$crate::domain::usage::DailyCount],
                ) -> Result<()> {
                    if usage.is_empty() && daily.is_empty() {
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
                    Self::add_daily(&mut tx, sql::ADD_API_KEY_DAY, daily).await?;
                    tx.commit().await?;
                    Ok(())
                }
            }
        };
    };
}
pub(in crate::storage) use impl_api_keys;
