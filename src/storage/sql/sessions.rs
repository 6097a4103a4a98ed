//! The SQL of [`SessionStore`](crate::storage::sessions::SessionStore),
//! expanded once per backend.

macro_rules! impl_sessions {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::domain::secret::SecretHash;
            use $crate::storage::{Result, SessionRecord, sql};
            use $crate::storage::sessions::SessionStore;

            #[async_trait::async_trait]
            impl SessionStore for $store {
                async fn create_session(&self, s: &SessionRecord, audit: &AuditEntry) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO sessions (id_hash, user_id, auth_time, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&s.id_hash.0[..]).bind(&s.user_id).bind(s.auth_time).bind(s.created_at)
                    .bind(s.expires_at).execute(&mut *tx).await?;
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn session(
                    &self,
                    id_hash: &SecretHash,
                    now: UnixTime,
                ) -> Result<Option<SessionRecord>> {
                    let row: Option<sql::SessionRow> = sqlx::query_as(
                        "SELECT id_hash, user_id, auth_time, created_at, expires_at FROM sessions \
                         WHERE id_hash = $1 AND expires_at > $2",
                    )
                    .bind(&id_hash.0[..]).bind(now).fetch_optional(&self.pool).await?;
                    row.map(sql::session).transpose()
                }

                async fn delete_session(&self, id_hash: &SecretHash) -> Result<()> {
                    let _turn = self.write_turn().await;
                    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                        .bind(&id_hash.0[..]).execute(&self.pool).await?;
                    Ok(())
                }
            }
        };
    };
}
pub(in crate::storage) use impl_sessions;
