//! The SQL of [`UserStore`](crate::storage::users::UserStore), expanded once
//! per backend.

macro_rules! impl_users {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::domain::user::Role;
            use $crate::domain::secret::SecretHash;
            use $crate::domain::user_record::Member;
            use $crate::storage::{Grants, Membership, MembershipChange, Result, StorageError, UserRecord, sql};
            use $crate::storage::users::UserStore;

            #[async_trait::async_trait]
            impl UserStore for $store {
                async fn create_user(
                    &self,
                    user: &UserRecord,
                    memberships: &[(String, Role)],
                    audit: &AuditEntry,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO users (id, email, name, password_hash, created_at, platform_admin) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&user.id).bind(&user.email).bind(&user.name).bind(&user.password_hash)
                    .bind(user.created_at).bind(user.platform_admin).execute(&mut *tx).await
                    .map_err(StorageError::from_write)?;
                    // Not `from_write`: a workspace named twice must not read as
                    // "email taken". A missing workspace fails the foreign key.
                    for (workspace_id, role) in memberships {
                        sqlx::query(
                            "INSERT INTO memberships (user_id, workspace_id, role, created_at) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(&user.id).bind(workspace_id).bind(role.as_str()).bind(user.created_at)
                        .execute(&mut *tx).await?;
                    }
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn set_membership(
                    &self,
                    user_id: &str,
                    workspace_id: &str,
                    role: Role,
                    audit: &AuditEntry,
                ) -> Result<MembershipChange> {
                    let mut tx = self.begin_write().await?;
                    // Checked up front rather than read from a foreign-key error,
                    // whose text differs between backends.
                    let both: Option<(String,)> = sqlx::query_as(
                        "SELECT u.id FROM users u JOIN workspaces w ON w.id = $2 WHERE u.id = $1",
                    )
                    .bind(user_id).bind(workspace_id).fetch_optional(&mut *tx).await?;
                    if both.is_none() {
                        return Ok(MembershipChange::Missing);
                    }
                    let only_owner = Self::only_owner(&mut tx, user_id, workspace_id).await?;
                    if only_owner == Some(true) && role != Role::Owner {
                        return Ok(MembershipChange::LastOwner);
                    }
                    sqlx::query(
                        "INSERT INTO memberships (user_id, workspace_id, role, created_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (user_id, workspace_id) DO UPDATE SET role = excluded.role",
                    )
                    .bind(user_id).bind(workspace_id).bind(role.as_str()).bind(audit.occurred_at)
                    .execute(&mut *tx).await?;
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(MembershipChange::Done)
                }

                async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
                    let row: Option<sql::UserRow> =
                        sqlx::query_as(sql::select_users!("email = $1"))
                            .bind(email).fetch_optional(&self.pool).await?;
                    Ok(row.map(sql::user))
                }

                async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>> {
                    let row: Option<sql::UserRow> =
                        sqlx::query_as(sql::select_users!("id = $1"))
                            .bind(id).fetch_optional(&self.pool).await?;
                    Ok(row.map(sql::user))
                }

                async fn list_users(&self) -> Result<Vec<UserRecord>> {
                    let rows: Vec<sql::UserRow> =
                        sqlx::query_as(sql::select_users!("TRUE ORDER BY created_at, id"))
                            .fetch_all(&self.pool).await?;
                    Ok(rows.into_iter().map(sql::user).collect())
                }

                async fn has_users(&self) -> Result<bool> {
                    let (any,): (bool,) = sqlx::query_as("SELECT EXISTS (SELECT 1 FROM users)")
                        .fetch_one(&self.pool).await?;
                    Ok(any)
                }

                async fn members(&self, workspace_id: &str) -> Result<Vec<Member>> {
                    let rows: Vec<sql::MemberRow> = sqlx::query_as(
                        "SELECT u.id AS user_id, u.email, u.name, m.role, m.created_at AS joined_at \
                         FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1 \
                         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.email",
                    )
                    .bind(workspace_id).fetch_all(&self.pool).await?;
                    rows.into_iter().map(sql::member).collect()
                }

                async fn set_password(
                    &self,
                    user_id: &str,
                    password_hash: &str,
                    keep: Option<&SecretHash>,
                    audit: &AuditEntry,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let n = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                        .bind(user_id).bind(password_hash).execute(&mut *tx).await?.rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id_hash <> $2)")
                        .bind(user_id).bind(keep.map(|k| k.0.to_vec())).execute(&mut *tx).await?;
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn memberships(&self, user_id: &str) -> Result<Vec<Membership>> {
                    let rows: Vec<sql::MembershipRow> = sqlx::query_as(
                        "SELECT m.workspace_id, w.name AS workspace_name, m.role FROM memberships m \
                         JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = $1 \
                         ORDER BY w.name, m.workspace_id",
                    )
                    .bind(user_id).fetch_all(&self.pool).await?;
                    rows.into_iter().map(sql::membership).collect()
                }

                async fn user_with_memberships(
                    &self,
                    user_id: &str,
                ) -> Result<Option<(UserRecord, Vec<Membership>)>> {
                    // One row per membership, or one with no workspace: a
                    // membership's workspace always exists (foreign key).
                    let rows: Vec<sql::UserMembershipRow> = sqlx::query_as(
                        "SELECT u.id, u.email, u.name, u.password_hash, u.created_at, u.disabled_at, \
                         u.platform_admin, m.workspace_id, w.name AS workspace_name, m.role \
                         FROM users u LEFT JOIN memberships m ON m.user_id = u.id \
                         LEFT JOIN workspaces w ON w.id = m.workspace_id WHERE u.id = $1 \
                         ORDER BY w.name, m.workspace_id",
                    )
                    .bind(user_id).fetch_all(&self.pool).await?;
                    sql::user_with_memberships(rows)
                }

                async fn disable_user(&self, user_id: &str, now: UnixTime, audit: &AuditEntry) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let n = sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL")
                        .bind(user_id).bind(now).execute(&mut *tx).await?.rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                        .bind(user_id).execute(&mut *tx).await?;
                    Self::end_grants(&mut tx, Grants::user(user_id), now).await?;
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn enable_user(&self, user_id: &str, audit: &AuditEntry) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let n = sqlx::query("UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL")
                        .bind(user_id).execute(&mut *tx).await?.rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn remove_membership(
                    &self,
                    user_id: &str,
                    workspace_id: &str,
                    now: UnixTime,
                    audit: &AuditEntry,
                ) -> Result<MembershipChange> {
                    let mut tx = self.begin_write().await?;
                    match Self::only_owner(&mut tx, user_id, workspace_id).await? {
                        None => return Ok(MembershipChange::Missing),
                        Some(true) => return Ok(MembershipChange::LastOwner),
                        Some(false) => {}
                    }
                    sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND workspace_id = $2")
                        .bind(user_id).bind(workspace_id).execute(&mut *tx).await?;
                    Self::end_grants(&mut tx, Grants::membership(user_id, workspace_id), now).await?;
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(MembershipChange::Done)
                }
            }
        };
    };
}
pub(in crate::storage) use impl_users;
