//! The queries behind [`AdminStore`](super::admin::AdminStore), written once
//! and expanded per backend by `impl_admin_store!` next to `impl_store!`
//! and `impl_auth_store!`, whose helpers (`audit`, `bump`, `begin_write`)
//! it uses.

/// Matches the rows of a [`Grants`](super::admin::Grants): `$1` user, `$2`
/// client, `$3` workspace, each ignored when NULL.
macro_rules! grants_where {
    () => {
        "($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR client_id = $2) \
         AND ($3 IS NULL OR workspace_id = $3)"
    };
}

pub(super) const DELETE_CONSENTS: &str = concat!("DELETE FROM consents WHERE ", grants_where!());
pub(super) const REVOKE_REFRESH_TOKENS: &str = concat!(
    "UPDATE refresh_tokens SET revoked_at = $4 WHERE revoked_at IS NULL AND ",
    grants_where!()
);
/// A code issued just before the change must not outlive it: marked
/// revoked, its redemption is refused.
pub(super) const REVOKE_CODES: &str = concat!(
    "UPDATE authorization_codes SET state = 'revoked' WHERE state = 'pending' AND ",
    grants_where!()
);
/// Every family of a grant starts with a code, and codes are kept while
/// their family has live access tokens (see `purge_expired_auth`), so the
/// codes find the families of tokens issued without a refresh token too.
pub(super) const DENY_ACCESS_TOKENS: &str = concat!(
    "INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) \
     SELECT t.jti, t.client_id, t.expires_at, $4 FROM issued_access_tokens t \
     WHERE t.expires_at > $4 AND t.family_id IN ( \
       SELECT family_id FROM refresh_tokens WHERE ",
    grants_where!(),
    " UNION SELECT family_id FROM authorization_codes WHERE ",
    grants_where!(),
    ") ON CONFLICT (jti) DO NOTHING"
);

macro_rules! impl_admin_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::storage::admin::{AdminStore, Grants, MembershipChange};
            use $crate::storage::auth::OAuthClientRecord;
            use $crate::storage::admin_sql;
            use $crate::storage::{auth_sql, sql, ClientKind, Result};

            impl $store {
                /// Ends every grant matching `grants`: deletes their consents,
                /// revokes their refresh tokens and pending codes, and
                /// denylists their live access tokens. Returns how many
                /// consents it deleted.
                async fn end_grants(
                    conn: &mut <$db as sqlx::Database>::Connection,
                    grants: Grants<'_>,
                    now: UnixTime,
                ) -> Result<u64> {
                    let run = |statement: &'static str| {
                        sqlx::query(statement)
                            .bind(grants.user_id)
                            .bind(grants.client_id)
                            .bind(grants.workspace_id)
                            .bind(now)
                    };
                    let consents = run(admin_sql::DELETE_CONSENTS).execute(&mut *conn).await?.rows_affected();
                    // Until nothing is left, as in `revoke_family`: a rotation
                    // committed meanwhile may have added a successor.
                    while run(admin_sql::REVOKE_REFRESH_TOKENS).execute(&mut *conn).await?.rows_affected() > 0 {}
                    run(admin_sql::REVOKE_CODES).execute(&mut *conn).await?;
                    let denied = run(admin_sql::DENY_ACCESS_TOKENS).execute(&mut *conn).await?.rows_affected();
                    // Refresh tokens are checked in the database; only the
                    // denylist is cached by verifiers, so only it moves the epoch.
                    if denied > 0 {
                        Self::bump(conn, sql::BUMP_REVOCATIONS).await?;
                    }
                    Ok(consents)
                }

                /// Locks the workspace's row (PostgreSQL; SQLite has one
                /// writer anyway), so that two owners demoted or removed at
                /// once cannot both see the other as the remaining one, then
                /// tells whether the user is the workspace's only owner.
                /// `None` when the user is not a member.
                async fn only_owner(
                    conn: &mut <$db as sqlx::Database>::Connection,
                    user_id: &str,
                    workspace_id: &str,
                ) -> Result<Option<bool>> {
                    sqlx::query("UPDATE workspaces SET name = name WHERE id = $1")
                        .bind(workspace_id).execute(&mut *conn).await?;
                    let role: Option<(String,)> = sqlx::query_as(
                        "SELECT role FROM memberships WHERE user_id = $1 AND workspace_id = $2",
                    )
                    .bind(user_id).bind(workspace_id).fetch_optional(&mut *conn).await?;
                    let Some((role,)) = role else { return Ok(None) };
                    if role != "owner" {
                        return Ok(Some(false));
                    }
                    let (owners,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND role = 'owner'",
                    )
                    .bind(workspace_id).fetch_one(&mut *conn).await?;
                    Ok(Some(owners <= 1))
                }
            }

            #[async_trait::async_trait]
            impl AdminStore for $store {
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

                async fn update_oauth_client(
                    &self,
                    name: &str,
                    o: &OAuthClientRecord,
                    audit: &AuditEntry,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let n = sqlx::query(
                        "UPDATE oauth_clients SET redirect_uris = $2, post_logout_redirect_uris = $3, scopes = $4, \
                         logo_uri = $5, id_token_alg = $6 WHERE client_id = $1",
                    )
                    .bind(&o.client_id).bind(auth_sql::uri_list_json(&o.redirect_uris))
                    .bind(auth_sql::uri_list_json(&o.post_logout_redirect_uris)).bind(o.scopes.to_string()).bind(&o.logo_uri)
                    .bind(o.id_token_alg.as_str()).execute(&mut *tx).await?.rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    sqlx::query("UPDATE clients SET name = $2 WHERE client_id = $1")
                        .bind(&o.client_id).bind(name).execute(&mut *tx).await?;
                    Self::audit(&mut tx, audit).await?;
                    // Nodes cache clients by their credentials epoch.
                    Self::bump(&mut tx, sql::BUMP_CREDENTIALS).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn delete_client(
                    &self,
                    client_id: &str,
                    kind: ClientKind,
                    now: UnixTime,
                    audit: &AuditEntry,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    // Before the rows that find the tokens cascade away.
                    Self::end_grants(&mut tx, Grants::client(client_id), now).await?;
                    let n = sqlx::query(
                        "DELETE FROM clients WHERE client_id = $1 AND kind = $2 AND workspace_id IS NULL",
                    )
                    .bind(client_id).bind(kind.as_str()).execute(&mut *tx).await?.rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    Self::audit(&mut tx, audit).await?;
                    Self::bump(&mut tx, sql::BUMP_CREDENTIALS).await?;
                    tx.commit().await?;
                    Ok(true)
                }
            }
        };
    };
}
pub(super) use impl_admin_store;
