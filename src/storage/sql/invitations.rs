//! The SQL of [`InvitationStore`](crate::storage::invitations::InvitationStore),
//! expanded once per backend.

macro_rules! impl_invitations {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::domain::invitation::{InvitationRecord, PendingInvitation};
            use $crate::domain::secret::SecretHash;
            use $crate::storage::invitations::{Acceptance, InvitationStore, Invitee};
            use $crate::storage::{Result, StorageError, sql};

            #[async_trait::async_trait]
            impl InvitationStore for $store {
                async fn create_invitation(&self, i: &InvitationRecord, audit: &AuditEntry) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO invitations (id, token_hash, workspace_id, email, role, invited_by, \
                         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&i.id).bind(&i.token_hash.0[..]).bind(&i.workspace_id).bind(&i.email)
                    .bind(i.role.as_str()).bind(&i.invited_by).bind(i.created_at).bind(i.expires_at)
                    .execute(&mut *tx).await?;
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn invitation_by_token(
                    &self,
                    token_hash: &SecretHash,
                ) -> Result<Option<InvitationRecord>> {
                    let row: Option<sql::InvitationRow> =
                        sqlx::query_as(sql::select_invitations!("token_hash = $1"))
                            .bind(&token_hash.0[..]).fetch_optional(&self.pool).await?;
                    row.map(sql::invitation).transpose()
                }

                async fn pending_invitations(
                    &self,
                    workspace_id: &str,
                    now: UnixTime,
                ) -> Result<Vec<PendingInvitation>> {
                    let rows: Vec<sql::InvitationRow> = sqlx::query_as(sql::select_invitations!(
                        "workspace_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL \
                         AND expires_at > $2 ORDER BY created_at DESC, id"
                    ))
                    .bind(workspace_id).bind(now).fetch_all(&self.pool).await?;
                    rows.into_iter().map(sql::pending_invitation).collect()
                }

                async fn revoke_invitation(
                    &self,
                    workspace_id: &str,
                    invitation_id: &str,
                    now: UnixTime,
                    audit: &AuditEntry,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let n = sqlx::query(
                        "UPDATE invitations SET revoked_at = $3 WHERE id = $1 AND workspace_id = $2 \
                         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3",
                    )
                    .bind(invitation_id).bind(workspace_id).bind(now).execute(&mut *tx).await?
                    .rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn accept_invitation(
                    &self,
                    token_hash: &SecretHash,
                    invitee: Invitee<'_>,
                    now: UnixTime,
                    audit: &AuditEntry,
                ) -> Result<Acceptance> {
                    let mut tx = self.begin_write().await?;
                    let user_id = match invitee {
                        Invitee::Existing(id) => id,
                        Invitee::New(user) => &user.id,
                    };
                    // A new account first: the invitation's accepted_by refers to it.
                    if let Invitee::New(user) = invitee {
                        let inserted = sqlx::query(
                            "INSERT INTO users (id, email, name, password_hash, created_at, platform_admin) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(&user.id).bind(&user.email).bind(&user.name).bind(&user.password_hash)
                        .bind(user.created_at).bind(user.platform_admin).execute(&mut *tx).await
                        .map_err(StorageError::from_write);
                        match inserted {
                            Ok(_) => {}
                            Err(StorageError::Conflict) => return Ok(Acceptance::EmailTaken),
                            Err(e) => return Err(e),
                        }
                    }
                    // The conditional update is the single use: a second
                    // acceptance, racing or later, finds no row.
                    let used: Option<(String, String)> = sqlx::query_as(
                        "UPDATE invitations SET accepted_at = $2, accepted_by = $3 WHERE token_hash = $1 \
                         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 \
                         RETURNING workspace_id, role",
                    )
                    .bind(&token_hash.0[..]).bind(now).bind(user_id).fetch_optional(&mut *tx).await?;
                    let Some((workspace_id, role)) = used else {
                        return Ok(Acceptance::Unusable);
                    };
                    sqlx::query(
                        "INSERT INTO memberships (user_id, workspace_id, role, created_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, workspace_id) DO NOTHING",
                    )
                    .bind(user_id).bind(&workspace_id).bind(&role).bind(now).execute(&mut *tx).await?;
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(Acceptance::Joined {
                        role: role.parse().map_err(StorageError::Corrupt)?,
                        workspace_id,
                    })
                }
            }
        };
    };
}
pub(in crate::storage) use impl_invitations;
