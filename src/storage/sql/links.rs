//! The SQL of [`LinkStore`](crate::storage::links::LinkStore), expanded once
//! per backend.

macro_rules! impl_links {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::domain::one_time_link::{LinkPurpose, OneTimeLink};
            use $crate::domain::secret::SecretHash;
            use $crate::domain::user_record::UserRecord;
            use $crate::storage::links::{LinkStore, LinkUse};
            use $crate::storage::{Result, StorageError, sql};

            /// Marks the link used, once: a second use, racing or later,
            /// finds no row. Returns the link's user.
            const USE_LINK: &str = "UPDATE one_time_links SET used_at = $2 WHERE token_hash = $1 \
                AND purpose = $3 AND used_at IS NULL AND expires_at > $2 RETURNING user_id";

            #[async_trait::async_trait]
            impl LinkStore for $store {
                async fn create_link(&self, l: &OneTimeLink, audit: Option<&AuditEntry>) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO one_time_links (token_hash, purpose, user_id, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&l.token_hash.0[..]).bind(l.purpose.as_str()).bind(&l.user_id)
                    .bind(l.created_at).bind(l.expires_at).execute(&mut *tx).await?;
                    if let Some(audit) = audit {
                        Self::audit(&mut tx, audit).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn usable_link(
                    &self,
                    token_hash: &SecretHash,
                    purpose: LinkPurpose,
                    now: UnixTime,
                ) -> Result<Option<OneTimeLink>> {
                    let row: Option<sql::LinkRow> = sqlx::query_as(
                        "SELECT token_hash, purpose, user_id, created_at, expires_at, used_at \
                         FROM one_time_links WHERE token_hash = $1 AND purpose = $2 \
                         AND used_at IS NULL AND expires_at > $3",
                    )
                    .bind(&token_hash.0[..]).bind(purpose.as_str()).bind(now)
                    .fetch_optional(&self.pool).await?;
                    row.map(sql::link).transpose()
                }

                async fn complete_setup(
                    &self,
                    token_hash: &SecretHash,
                    admin: &UserRecord,
                    now: UnixTime,
                    audit: &AuditEntry,
                ) -> Result<LinkUse> {
                    let mut tx = self.begin_write().await?;
                    let used: Option<(Option<String>,)> = sqlx::query_as(USE_LINK)
                        .bind(&token_hash.0[..]).bind(now).bind(LinkPurpose::Setup.as_str())
                        .fetch_optional(&mut *tx).await?;
                    if used.is_none() {
                        return Ok(LinkUse::Unusable);
                    }
                    let inserted = sqlx::query(
                        "INSERT INTO users (id, email, name, password_hash, created_at, platform_admin) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&admin.id).bind(&admin.email).bind(&admin.name).bind(&admin.password_hash)
                    .bind(admin.created_at).bind(true).execute(&mut *tx).await
                    .map_err(StorageError::from_write);
                    match inserted {
                        Ok(_) => {}
                        Err(StorageError::Conflict) => return Ok(LinkUse::EmailTaken),
                        Err(e) => return Err(e),
                    }
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(LinkUse::Done { user_id: admin.id.clone() })
                }

                async fn reset_password(
                    &self,
                    token_hash: &SecretHash,
                    password_hash: &str,
                    now: UnixTime,
                    audit: &AuditEntry,
                ) -> Result<LinkUse> {
                    let mut tx = self.begin_write().await?;
                    let used: Option<(Option<String>,)> = sqlx::query_as(USE_LINK)
                        .bind(&token_hash.0[..]).bind(now).bind(LinkPurpose::PasswordReset.as_str())
                        .fetch_optional(&mut *tx).await?;
                    let Some((Some(user_id),)) = used else {
                        return Ok(LinkUse::Unusable);
                    };
                    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                        .bind(&user_id).bind(password_hash).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                        .bind(&user_id).execute(&mut *tx).await?;
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(LinkUse::Done { user_id })
                }
            }
        };
    };
}
pub(in crate::storage) use impl_links;
