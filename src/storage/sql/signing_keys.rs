//! The SQL of
//! [`SigningKeyStore`](crate::storage::signing_keys::SigningKeyStore), expanded
//! once per backend.

macro_rules! impl_signing_keys {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::domain::audit::AuditEntry;
            use $crate::storage::{Result, StoredSigningKey, sql};
            use $crate::storage::signing_keys::SigningKeyStore;

            #[async_trait::async_trait]
            impl SigningKeyStore for $store {
                async fn list_signing_keys(
                    &self,
                ) -> Result<Vec<StoredSigningKey>> {
                    let rows: Vec<sql::SigningKeyRow> = sqlx::query_as(
                        "SELECT kid, alg, private_key, created_at, retired_at FROM signing_keys \
                         ORDER BY created_at, kid",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(sql::signing_key).collect()
                }

                async fn insert_signing_key(
                    &self,
                    key: &StoredSigningKey,
                    retire_active: bool,
                    audit: &AuditEntry,
                ) -> Result<()> {
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
                    Self::commit_audited(tx, audit, sql::BUMP_SIGNING_KEYS).await
                }
            }
        };
    };
}
pub(in crate::storage) use impl_signing_keys;
