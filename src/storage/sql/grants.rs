//! The SQL of [`GrantStore`](crate::storage::grants::GrantStore), expanded once
//! per backend.

macro_rules! impl_grants {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::domain::secret::SecretHash;
            use $crate::storage::{AuthCodeRecord, Issuance, RefreshTokenRecord, Result, sql};
            use $crate::storage::grants::GrantStore;

            #[async_trait::async_trait]
            impl GrantStore for $store {
                async fn insert_auth_code(&self, c: &AuthCodeRecord) -> Result<()> {
                    let _turn = self.write_turn().await;
                    sqlx::query(
                        "INSERT INTO authorization_codes (code_hash, family_id, client_id, user_id, workspace_id, \
                         redirect_uri, scope, code_challenge, nonce, auth_time, created_at, expires_at, state, resources) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                    )
                    .bind(&c.code_hash.0[..]).bind(&c.family_id).bind(&c.client_id).bind(&c.user_id)
                    .bind(&c.workspace_id).bind(&c.redirect_uri).bind(c.scope.to_string())
                    .bind(&c.code_challenge).bind(&c.nonce).bind(c.auth_time).bind(c.created_at)
                    .bind(c.expires_at).bind(c.state.as_str()).bind(c.resources.join(" "))
                    .execute(&self.pool).await?;
                    Ok(())
                }

                async fn auth_code(
                    &self,
                    code_hash: &SecretHash,
                ) -> Result<Option<AuthCodeRecord>> {
                    let row: Option<sql::AuthCodeRow> = sqlx::query_as(
                        "SELECT code_hash, family_id, client_id, user_id, workspace_id, redirect_uri, scope, resources, \
                         code_challenge, nonce, auth_time, created_at, expires_at, state \
                         FROM authorization_codes WHERE code_hash = $1",
                    )
                    .bind(&code_hash.0[..]).fetch_optional(&self.pool).await?;
                    row.map(sql::auth_code).transpose()
                }

                async fn redeem_auth_code(
                    &self,
                    code_hash: &SecretHash,
                    now: UnixTime,
                    issuance: &Issuance,
                ) -> Result<bool> {
                    self.claim_and_issue(sql::Claim::AuthCode(code_hash), now, issuance).await
                }

                async fn refresh_token(
                    &self,
                    token_hash: &SecretHash,
                ) -> Result<Option<RefreshTokenRecord>> {
                    let row: Option<sql::RefreshTokenRow> = sqlx::query_as(
                        "SELECT token_hash, family_id, client_id, user_id, workspace_id, scope, resources, auth_time, \
                         created_at, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
                    )
                    .bind(&token_hash.0[..]).fetch_optional(&self.pool).await?;
                    row.map(sql::refresh_token).transpose()
                }

                async fn rotate_refresh_token(
                    &self,
                    token_hash: &SecretHash,
                    now: UnixTime,
                    rotated_not_before: UnixTime,
                    issuance: &Issuance,
                ) -> Result<bool> {
                    let claim = sql::Claim::RefreshToken { hash: token_hash, rotated_not_before };
                    self.claim_and_issue(claim, now, issuance).await
                }

                async fn revoke_family(
                    &self,
                    family_id: &str,
                    now: UnixTime,
                    audit: &AuditEntry,
                ) -> Result<u64> {
                    let mut tx = self.begin_write().await?;
                    // Repeated until nothing is left: under PostgreSQL's READ
                    // COMMITTED, an UPDATE that waited for a concurrent rotation
                    // sees the rotated row but not the successor it inserted; the
                    // next pass does. (SQLite serialises writers; its second
                    // pass finds nothing.)
                    let mut revoked = 0;
                    loop {
                        let n = sqlx::query(
                            "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
                        )
                        .bind(family_id).bind(now).execute(&mut *tx).await?.rows_affected();
                        if n == 0 {
                            break;
                        }
                        revoked += n;
                    }
                    let denied = sqlx::query(
                        "INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) \
                         SELECT jti, client_id, expires_at, $2 FROM issued_access_tokens \
                         WHERE family_id = $1 AND expires_at > $2 ON CONFLICT (jti) DO NOTHING",
                    )
                    .bind(family_id).bind(now).execute(&mut *tx).await?.rows_affected();
                    if denied > 0 {
                        Self::bump(&mut tx, sql::BUMP_REVOCATIONS).await?;
                    }
                    // Audited even when nothing was left to revoke: a replayed
                    // code or refresh token is worth recording either way.
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(revoked)
                }

                async fn purge_expired_auth(&self, now: UnixTime) -> Result<u64> {
                    let mut tx = self.begin_write().await?;
                    let mut purged = 0;
                    for statement in [
                        "DELETE FROM sessions WHERE expires_at <= $1",
                        "DELETE FROM refresh_tokens WHERE expires_at <= $1",
                        "DELETE FROM issued_access_tokens WHERE expires_at <= $1",
                    ] {
                        purged += sqlx::query(statement).bind(now).execute(&mut *tx).await?.rows_affected();
                    }
                    // A code outlives its expiry by the replay window, and also
                    // while its family has live access tokens, because revoking
                    // the consent finds those tokens through it.
                    purged += sqlx::query(
                        "DELETE FROM authorization_codes WHERE expires_at <= $1 AND NOT EXISTS \
                         (SELECT 1 FROM issued_access_tokens t \
                          WHERE t.family_id = authorization_codes.family_id AND t.expires_at > $2)",
                    )
                    .bind(now - sql::CODE_REPLAY_WINDOW).bind(now).execute(&mut *tx).await?
                    .rows_affected();
                    // Device codes likewise (RFC 8628 §3.5: a late poll is
                    // still told expired_token within the window).
                    purged += sqlx::query(
                        "DELETE FROM device_codes WHERE expires_at <= $1 AND NOT EXISTS \
                         (SELECT 1 FROM issued_access_tokens t \
                          WHERE t.family_id = device_codes.family_id AND t.expires_at > $2)",
                    )
                    .bind(now - sql::CODE_REPLAY_WINDOW).bind(now).execute(&mut *tx).await?
                    .rows_affected();
                    tx.commit().await?;
                    Ok(purged)
                }
            }
        };
    };
}
pub(in crate::storage) use impl_grants;
