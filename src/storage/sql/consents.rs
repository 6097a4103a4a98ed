//! The SQL of [`ConsentStore`](crate::storage::consents::ConsentStore),
//! expanded once per backend.

macro_rules! impl_consents {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::storage::consents::ConsentStore;
            use $crate::storage::{ConnectedApp, ConsentRecord, Grants, Result, sql};

            #[async_trait::async_trait]
            impl ConsentStore for $store {
                async fn consent(
                    &self,
                    user_id: &str,
                    client_id: &str,
                    workspace_id: &str,
                ) -> Result<Option<ConsentRecord>> {
                    let row: Option<sql::ConsentRow> = sqlx::query_as(
                        "SELECT user_id, client_id, workspace_id, scope, granted_at FROM consents \
                         WHERE user_id = $1 AND client_id = $2 AND workspace_id = $3",
                    )
                    .bind(user_id)
                    .bind(client_id)
                    .bind(workspace_id)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(sql::consent).transpose()
                }

                async fn save_consent(&self, c: &ConsentRecord, audit: &AuditEntry) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(sql::UPSERT_CONSENT)
                        .bind(&c.user_id)
                        .bind(&c.client_id)
                        .bind(&c.workspace_id)
                        .bind(c.scope.to_string())
                        .bind(c.granted_at)
                        .execute(&mut *tx)
                        .await?;
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn connected_apps(&self, user_id: &str) -> Result<Vec<ConnectedApp>> {
                    let rows: Vec<sql::ConnectedAppRow> = sqlx::query_as(concat!(
                        sql::select_connected_apps!(),
                        "co.user_id = $1 \
                         ORDER BY co.granted_at DESC, co.client_id, co.workspace_id"
                    ))
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(sql::connected_app).collect()
                }

                async fn workspace_connected_apps(
                    &self,
                    workspace_id: &str,
                ) -> Result<Vec<ConnectedApp>> {
                    let rows: Vec<sql::ConnectedAppRow> = sqlx::query_as(concat!(
                        sql::select_connected_apps!(),
                        "co.workspace_id = $1 \
                         ORDER BY c.name, co.client_id, co.granted_at"
                    ))
                    .bind(workspace_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(sql::connected_app).collect()
                }

                async fn revoke_client_in_workspace(
                    &self,
                    client_id: &str,
                    workspace_id: &str,
                    now: UnixTime,
                    audit: &AuditEntry,
                ) -> Result<u64> {
                    let mut tx = self.begin_write().await?;
                    let grants = Grants {
                        user_id: None,
                        client_id: Some(client_id),
                        workspace_id: Some(workspace_id),
                    };
                    let ended = Self::end_grants(&mut tx, grants, now).await?;
                    if ended == 0 {
                        return Ok(0);
                    }
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(ended)
                }

                async fn revoke_consent(
                    &self,
                    user_id: &str,
                    client_id: &str,
                    workspace_id: &str,
                    now: UnixTime,
                    audit: &AuditEntry,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let grants = Grants::of(user_id, client_id, workspace_id);
                    if Self::end_grants(&mut tx, grants, now).await? == 0 {
                        return Ok(false);
                    }
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }
            }
        };
    };
}
pub(in crate::storage) use impl_consents;
