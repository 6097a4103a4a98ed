//! The SQL of [`RateLimitStore`](crate::storage::rate_limits::RateLimitStore),
//! expanded once per backend.

macro_rules! impl_rate_limits {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::storage::Result;
            use $crate::storage::rate_limits::RateLimitStore;

            #[async_trait::async_trait]
            impl RateLimitStore for $store {
                async fn rate_limit_advance(
                    &self,
                    bucket: &str,
                    now: i64,
                    emission: i64,
                    tolerance: i64,
                ) -> Result<std::result::Result<i64, i64>> {
                    let _turn = self.write_turn().await;
                    let advanced: Option<(i64,)> = sqlx::query_as(
                        "INSERT INTO rate_limit_state (bucket, tat) VALUES ($1, $2 + $3) \
                         ON CONFLICT (bucket) DO UPDATE SET tat = \
                         (CASE WHEN rate_limit_state.tat > $2 THEN rate_limit_state.tat ELSE $2 END) + $3 \
                         WHERE (CASE WHEN rate_limit_state.tat > $2 THEN rate_limit_state.tat ELSE $2 END) - $2 <= $4 \
                         RETURNING tat",
                    )
                    .bind(bucket)
                    .bind(now)
                    .bind(emission)
                    .bind(tolerance)
                    .fetch_optional(&self.pool)
                    .await?;
                    if let Some((tat,)) = advanced {
                        return Ok(Ok(tat));
                    }
                    let (tat,): (i64,) = sqlx::query_as("SELECT tat FROM rate_limit_state WHERE bucket = $1")
                        .bind(bucket)
                        .fetch_one(&self.pool)
                        .await?;
                    Ok(Err(tat))
                }

                async fn rate_limit_refund(&self, bucket: &str, emission_us: i64) -> Result<()> {
                    let _turn = self.write_turn().await;
                    sqlx::query("UPDATE rate_limit_state SET tat = tat - $2 WHERE bucket = $1")
                        .bind(bucket).bind(emission_us).execute(&self.pool).await?;
                    Ok(())
                }

                async fn rate_limit_tat(&self, bucket: &str) -> Result<Option<i64>> {
                    let row: Option<(i64,)> =
                        sqlx::query_as("SELECT tat FROM rate_limit_state WHERE bucket = $1")
                            .bind(bucket)
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(row.map(|(tat,)| tat))
                }

                async fn purge_rate_limits(&self, now: i64) -> Result<u64> {
                    let _turn = self.write_turn().await;
                    Ok(sqlx::query("DELETE FROM rate_limit_state WHERE tat < $1")
                        .bind(now)
                        .execute(&self.pool)
                        .await?
                        .rows_affected())
                }
            }
        };
    };
}
pub(in crate::storage) use impl_rate_limits;
