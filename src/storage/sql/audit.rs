//! The SQL of [`AuditStore`](crate::storage::audit::AuditStore), expanded once
//! per backend.

macro_rules! impl_audit {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::domain::audit::{AuditEntry, AuditQuery, AuditRecord};
            use $crate::storage::{Result, sql};
            use $crate::storage::audit::AuditStore;

            #[async_trait::async_trait]
            impl AuditStore for $store {
                async fn append_audit(&self, entry: &AuditEntry) -> Result<()> {
                    let _turn = self.write_turn().await;
                    let mut conn = self.pool.acquire().await?;
                    Self::audit(&mut conn, entry).await
                }

                async fn list_audit(
                    &self,
                    q: &AuditQuery,
                ) -> Result<Vec<AuditRecord>> {
                    let rows: Vec<sql::AuditRow> = sqlx::query_as(
                        "SELECT id, occurred_at, event, actor_type, actor_id, workspace_id, ip, user_agent, details \
                         FROM audit_log WHERE ($1 IS NULL OR workspace_id = $1) \
                         AND ($2 IS NULL OR event = $2) \
                         AND ($3 IS NULL OR occurred_at >= $3) \
                         AND ($4 IS NULL OR occurred_at < $4) \
                         AND ($5 IS NULL OR id < $5) \
                         AND ($7 IS NULL OR actor_id = $7) \
                         ORDER BY id DESC LIMIT $6",
                    )
                    .bind(&q.workspace_id)
                    .bind(q.event.map(|e| e.as_str()))
                    .bind(q.since)
                    .bind(q.until)
                    .bind(q.before_id)
                    .bind(i64::from(q.limit))
                    .bind(q.actor_id.as_deref())
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(sql::audit).collect()
                }
            }
        };
    };
}
pub(in crate::storage) use impl_audit;
