//! The SQL of
//! [`RevocationStore`](crate::storage::revocations::RevocationStore), expanded
//! once per backend.

macro_rules! impl_revocations {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::storage::{Result, RevocationList, sql};
            use $crate::storage::revocations::RevocationStore;

            #[async_trait::async_trait]
            impl RevocationStore for $store {
                async fn revoke_token(
                    &self,
                    jti: &str,
                    client_id: &str,
                    expires_at: UnixTime,
                    audit: &AuditEntry,
                ) -> Result<()> {
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
                        Self::bump(&mut tx, sql::BUMP_REVOCATIONS).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn revocations(
                    &self,
                    now: UnixTime,
                    window: i64,
                ) -> Result<RevocationList> {
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
                    Ok(RevocationList { tokens, clients })
                }

                async fn purge_revocations(&self, now: UnixTime) -> Result<u64> {
                    let _turn = self.write_turn().await;
                    Ok(sqlx::query("DELETE FROM revoked_tokens WHERE expires_at <= $1")
                        .bind(now)
                        .execute(&self.pool)
                        .await?
                        .rows_affected())
                }
            }
        };
    };
}
pub(in crate::storage) use impl_revocations;
