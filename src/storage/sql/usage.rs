//! The SQL of [`UsageStore`](crate::storage::usage::UsageStore), and the
//! upsert that both usage batches share, expanded once per backend.

/// Adds `$4` to a day's count: the first node to write a day inserts it.
/// A key or client deleted meanwhile takes its counts with it.
macro_rules! add_daily {
    ($table:literal, $subject:literal, $parent:literal, $parent_id:literal) => {
        concat!(
            "INSERT INTO ",
            $table,
            " (",
            $subject,
            ", day, outcome, count) \
             SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM ",
            $parent,
            " WHERE ",
            $parent_id,
            " = $1) \
             ON CONFLICT (",
            $subject,
            ", day, outcome) DO UPDATE SET count = ",
            $table,
            ".count + excluded.count"
        )
    };
}

pub(in crate::storage) const ADD_API_KEY_DAY: &str =
    add_daily!("api_key_usage_daily", "api_key_id", "api_keys", "id");
pub(in crate::storage) const ADD_CLIENT_DAY: &str =
    add_daily!("client_usage_daily", "client_id", "clients", "client_id");

macro_rules! impl_usage {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::domain::usage::{DailyCount, Outcome};
            use $crate::storage::usage::UsageStore;
            use $crate::storage::{Result, StorageError};

            fn rows(raw: Vec<(String, i64, String, i64)>) -> Result<Vec<DailyCount>> {
                raw.into_iter()
                    .map(|(subject, day, outcome, count)| {
                        let outcome = Outcome::parse(&outcome).ok_or_else(|| {
                            StorageError::Corrupt(format!("usage outcome {outcome:?}"))
                        })?;
                        Ok(DailyCount {
                            subject,
                            day,
                            outcome,
                            count,
                        })
                    })
                    .collect()
            }

            impl $store {
                /// Adds a batch's daily rows inside the caller's transaction.
                async fn add_daily(
                    conn: &mut <$db as sqlx::Database>::Connection,
                    statement: &'static str,
                    daily: &[DailyCount],
                ) -> Result<()> {
                    for d in daily {
                        sqlx::query(statement)
                            .bind(&d.subject)
                            .bind(d.day)
                            .bind(d.outcome.as_str())
                            .bind(d.count)
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                }
            }

            #[async_trait::async_trait]
            impl UsageStore for $store {
                async fn api_key_usage(
                    &self,
                    workspace_id: &str,
                    key_ids: &[&str],
                    from_day: i64,
                    to_day: i64,
                ) -> Result<Vec<DailyCount>> {
                    if key_ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    // The keys as a list of parameters (`IN ($4, $5, …)`),
                    // so both backends read them through the primary key.
                    // SQLite takes a CROSS JOIN's tables in the order given:
                    // the usage rows first, each key found by id, rather
                    // than every key of the workspace through its index.
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "SELECT u.api_key_id, u.day, u.outcome, u.count \
                         FROM api_key_usage_daily u CROSS JOIN api_keys k \
                         WHERE k.id = u.api_key_id AND k.workspace_id = ",
                    );
                    q.push_bind(workspace_id)
                        .push(" AND u.day >= ")
                        .push_bind(from_day)
                        .push(" AND u.day <= ")
                        .push_bind(to_day);
                    q.push(" AND u.api_key_id IN (");
                    let mut list = q.separated(", ");
                    for id in key_ids {
                        list.push_bind(*id);
                    }
                    list.push_unseparated(")");
                    q.push(" ORDER BY u.api_key_id, u.day");
                    let raw: Vec<(String, i64, String, i64)> =
                        q.build_query_as().fetch_all(&self.pool).await?;
                    rows(raw)
                }

                async fn api_key_usage_summary(
                    &self,
                    workspace_id: &str,
                    from_day: i64,
                    to_day: i64,
                    top: u64,
                ) -> Result<(Vec<(Outcome, i64)>, Vec<(String, i64)>)> {
                    let totals: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT u.outcome, CAST(SUM(u.count) AS BIGINT) \
                         FROM api_key_usage_daily u JOIN api_keys k ON k.id = u.api_key_id \
                         WHERE k.workspace_id = $1 AND u.day >= $2 AND u.day <= $3 GROUP BY u.outcome",
                    )
                    .bind(workspace_id)
                    .bind(from_day)
                    .bind(to_day)
                    .fetch_all(&self.pool)
                    .await?;
                    let totals = totals
                        .into_iter()
                        .map(|(o, n)| {
                            Outcome::parse(&o)
                                .map(|o| (o, n))
                                .ok_or_else(|| StorageError::Corrupt(format!("usage outcome {o:?}")))
                        })
                        .collect::<Result<_>>()?;
                    let leaders: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT u.api_key_id, CAST(SUM(u.count) AS BIGINT) AS n \
                         FROM api_key_usage_daily u JOIN api_keys k ON k.id = u.api_key_id \
                         WHERE k.workspace_id = $1 AND u.day >= $2 AND u.day <= $3 \
                         AND u.outcome = 'success' \
                         GROUP BY u.api_key_id ORDER BY n DESC, u.api_key_id LIMIT $4",
                    )
                    .bind(workspace_id)
                    .bind(from_day)
                    .bind(to_day)
                    .bind(i64::try_from(top).unwrap_or(i64::MAX))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok((totals, leaders))
                }

                async fn client_usage(
                    &self,
                    client_id: &str,
                    from_day: i64,
                    to_day: i64,
                ) -> Result<Vec<DailyCount>> {
                    let raw: Vec<(String, i64, String, i64)> = sqlx::query_as(
                        "SELECT client_id, day, outcome, count FROM client_usage_daily \
                         WHERE client_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
                    )
                    .bind(client_id)
                    .bind(from_day)
                    .bind(to_day)
                    .fetch_all(&self.pool)
                    .await?;
                    rows(raw)
                }

                async fn prune_usage(&self, before_day: i64) -> Result<u64> {
                    let mut tx = self.begin_write().await?;
                    let mut gone = 0;
                    for statement in [
                        "DELETE FROM api_key_usage_daily WHERE day < $1",
                        "DELETE FROM client_usage_daily WHERE day < $1",
                    ] {
                        gone += sqlx::query(statement)
                            .bind(before_day)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    }
                    tx.commit().await?;
                    Ok(gone)
                }
            }
        };
    };
}
pub(in crate::storage) use impl_usage;
