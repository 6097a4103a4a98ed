//! The SQL of [`ApiKeyStore`](crate::storage::api_keys::ApiKeyStore), expanded
//! once per backend.

/// A key is active: not revoked, not expired at `$now`, not deactivated.
macro_rules! active_at {
    ($now:literal) => {
        concat!(
            "(revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ",
            $now,
            ") AND NOT deactivated)"
        )
    };
}

/// The key table's filter: `$1` workspace, `$2` name pattern (lower-case,
/// `%…%`), `$3` prefix pattern (`…%`), `$4` status, `$5` now, `$6` the
/// "expires soon" cut-off, `$7` type; each ignored when NULL. Statuses
/// take the precedence of `service::api_keys::status`.
macro_rules! key_page_where {
    () => {
        concat!(
            "workspace_id = $1 \
             AND ($2 IS NULL OR LOWER(name) LIKE $2 ESCAPE '\\' OR prefix LIKE $3 ESCAPE '\\') \
             AND ($4 IS NULL \
                  OR (CASE WHEN revoked_at IS NOT NULL THEN 'revoked' \
                           WHEN expires_at IS NOT NULL AND expires_at <= $5 THEN 'expired' \
                           WHEN deactivated THEN 'deactivated' ELSE 'active' END) = $4 \
                  OR ($4 = 'expiring' AND ",
            $crate::storage::sql::api_keys::active_at!("$5"),
            " AND expires_at <= $6)) \
             AND ($7 IS NULL OR key_type = $7)"
        )
    };
}

/// One page of the key table in `$order`, filtered by [`key_page_where`]:
/// the page's ids first, walking an index in that order, then their rows;
/// `$8` the page's size, `$9` the rows skipped.
macro_rules! key_page {
    ($order:literal) => {
        concat!(
            $crate::storage::sql::select_api_keys!(""),
            "id IN (SELECT id FROM api_keys WHERE ",
            $crate::storage::sql::api_keys::key_page_where!(),
            " ORDER BY ",
            $order,
            " LIMIT $8 OFFSET $9) ORDER BY ",
            $order
        )
    };
}

pub(in crate::storage) use {active_at, key_page, key_page_where};

macro_rules! impl_api_keys {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::storage::{ApiKeyChanges, ApiKeyRecord, ApiKeyUsage, KeyCounts, KeyListQuery, KeySort, Result, sql};
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

                async fn api_key(
                    &self,
                    workspace_id: &str,
                    id: &str,
                ) -> Result<Option<ApiKeyRecord>> {
                    let row: Option<sql::ApiKeyRow> =
                        sqlx::query_as(sql::select_api_keys!("workspace_id = $1 AND id = $2"))
                            .bind(workspace_id)
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await?;
                    row.map(sql::api_key).transpose()
                }

                async fn api_key_page(
                    &self,
                    workspace_id: &str,
                    q: &KeyListQuery,
                ) -> Result<(Vec<ApiKeyRecord>, u64)> {
                    let escaped = q.search.as_deref().map(|s| {
                        s.to_lowercase()
                            .replace('\\', "\\\\")
                            .replace('%', "\\%")
                            .replace('_', "\\_")
                    });
                    let name = escaped.as_ref().map(|e| format!("%{e}%"));
                    let prefix = escaped.as_ref().map(|e| format!("{e}%"));
                    // Unfiltered, the count reads the index alone; the
                    // filter's columns would need every row.
                    let unfiltered = q.search.is_none() && q.status.is_none() && q.key_type.is_none();
                    let (count,): (i64,) = if unfiltered {
                        sqlx::query_as("SELECT COUNT(*) FROM api_keys WHERE workspace_id = $1")
                            .bind(workspace_id)
                            .fetch_one(&self.pool)
                            .await?
                    } else {
                        sqlx::query_as(concat!(
                            "SELECT COUNT(*) FROM api_keys WHERE ", $crate::storage::sql::api_keys::key_page_where!()
                        ))
                        .bind(workspace_id)
                        .bind(&name)
                        .bind(&prefix)
                        .bind(q.status)
                        .bind(q.now)
                        .bind(q.expiring_before)
                        .bind(q.key_type.map(|t| t.as_str()))
                        .fetch_one(&self.pool)
                        .await?
                    };
                    // One statement per order, each the order of an index
                    // (`api_keys_page`, `api_keys_by_last_use`): a sort
                    // chosen by a parameter could use neither.
                    let statement = match q.sort {
                        KeySort::NewestFirst => $crate::storage::sql::api_keys::key_page!("created_at DESC, id DESC"),
                        KeySort::OldestFirst => $crate::storage::sql::api_keys::key_page!("created_at, id"),
                        KeySort::LastUsed => $crate::storage::sql::api_keys::key_page!(
                            "last_used_at DESC NULLS LAST, created_at DESC, id DESC"
                        ),
                    };
                    let rows: Vec<sql::ApiKeyRow> = sqlx::query_as(statement)
                    .bind(workspace_id)
                    .bind(&name)
                    .bind(&prefix)
                    .bind(q.status)
                    .bind(q.now)
                    .bind(q.expiring_before)
                    .bind(q.key_type.map(|t| t.as_str()))
                    .bind(i64::try_from(q.limit).unwrap_or(i64::MAX))
                    .bind(i64::try_from(q.offset).unwrap_or(i64::MAX))
                    .fetch_all(&self.pool)
                    .await?;
                    let keys = rows.into_iter().map(sql::api_key).collect::<Result<_>>()?;
                    Ok((keys, u64::try_from(count).unwrap_or(0)))
                }

                async fn api_key_counts(
                    &self,
                    workspace_id: &str,
                    now: UnixTime,
                    stale_before: UnixTime,
                    limit: u64,
                ) -> Result<(KeyCounts, Vec<ApiKeyRecord>)> {
                    let (total, active, never_used, stale): (i64, i64, i64, i64) = sqlx::query_as(concat!(
                        "SELECT COUNT(*), \
                         COALESCE(SUM(CASE WHEN ", $crate::storage::sql::api_keys::active_at!("$2"), " THEN 1 ELSE 0 END), 0), \
                         COALESCE(SUM(CASE WHEN ", $crate::storage::sql::api_keys::active_at!("$2"), " AND last_used_at IS NULL THEN 1 ELSE 0 END), 0), \
                         COALESCE(SUM(CASE WHEN ", $crate::storage::sql::api_keys::active_at!("$2"),
                        " AND COALESCE(last_used_at, created_at) < $3 THEN 1 ELSE 0 END), 0) \
                         FROM api_keys WHERE workspace_id = $1"
                    ))
                    .bind(workspace_id)
                    .bind(now)
                    .bind(stale_before)
                    .fetch_one(&self.pool)
                    .await?;
                    let rows: Vec<sql::ApiKeyRow> = sqlx::query_as(concat!(
                        sql::select_api_keys!("workspace_id = $1 AND "),
                        $crate::storage::sql::api_keys::active_at!("$2"),
                        " AND COALESCE(last_used_at, created_at) < $3 \
                         ORDER BY COALESCE(last_used_at, created_at), id LIMIT $4"
                    ))
                    .bind(workspace_id)
                    .bind(now)
                    .bind(stale_before)
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(&self.pool)
                    .await?;
                    let counts = KeyCounts { total, active, never_used, stale };
                    Ok((counts, rows.into_iter().map(sql::api_key).collect::<Result<_>>()?))
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
