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
                        "INSERT INTO sessions (id_hash, user_id, auth_time, created_at, expires_at, ip, user_agent) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&s.id_hash.0[..]).bind(&s.user_id).bind(s.auth_time).bind(s.created_at)
                    .bind(s.expires_at).bind(&s.ip).bind(&s.user_agent).execute(&mut *tx).await?;
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
                        sql::select_sessions!("id_hash = $1 AND expires_at > $2"),
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

                async fn user_sessions(&self, user_id: &str, now: UnixTime) -> Result<Vec<SessionRecord>> {
                    let rows: Vec<sql::SessionRow> = sqlx::query_as(sql::select_sessions!(
                        "user_id = $1 AND expires_at > $2 ORDER BY auth_time DESC, created_at DESC"
                    ))
                    .bind(user_id).bind(now).fetch_all(&self.pool).await?;
                    rows.into_iter().map(sql::session).collect()
                }

                async fn end_sessions(
                    &self,
                    user_id: &str,
                    keep: Option<&SecretHash>,
                    audit: &AuditEntry,
                ) -> Result<u64> {
                    let mut tx = self.begin_write().await?;
                    let keep = keep.map(|k| k.0.to_vec());
                    let n = sqlx::query(
                        "DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id_hash <> $2)",
                    )
                    .bind(user_id).bind(keep).execute(&mut *tx).await?.rows_affected();
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(n)
                }

                async fn reauthenticate(&self, id_hash: &SecretHash, auth_time: UnixTime) -> Result<bool> {
                    let _turn = self.write_turn().await;
                    let n = sqlx::query("UPDATE sessions SET auth_time = $2 WHERE id_hash = $1")
                        .bind(&id_hash.0[..]).bind(auth_time).execute(&self.pool).await?
                        .rows_affected();
                    Ok(n == 1)
                }
            }
        };
    };
}
pub(in crate::storage) use impl_sessions;
