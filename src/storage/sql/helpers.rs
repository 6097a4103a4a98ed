//! What several aggregates' writes share: the statements that move the
//! sync epochs and end grants, and the private helpers every backend's
//! store gets (`audit`, `bump`, `insert_client`, …), each run inside the
//! caller's transaction so that a change and its audit entry commit
//! together.

pub(in crate::storage) const BUMP_CREDENTIALS: &str =
    "UPDATE sync_epochs SET credentials = credentials + 1 WHERE id = 1";
pub(in crate::storage) const BUMP_SIGNING_KEYS: &str =
    "UPDATE sync_epochs SET signing_keys = signing_keys + 1 WHERE id = 1";
pub(in crate::storage) const BUMP_REVOCATIONS: &str =
    "UPDATE sync_epochs SET revocations = revocations + 1 WHERE id = 1";

/// Matches the rows of a [`Grants`](crate::storage::Grants): `$1` user, `$2`
/// client, `$3` workspace, each ignored when NULL.
macro_rules! grants_where {
    () => {
        "($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR client_id = $2) \
         AND ($3 IS NULL OR workspace_id = $3)"
    };
}

/// Records a consent, replacing the person's earlier one for the client in
/// the workspace (the caller merged the scopes).
pub(in crate::storage) const UPSERT_CONSENT: &str = "INSERT INTO consents (user_id, client_id, workspace_id, scope, granted_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, client_id, workspace_id) \
     DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at";

pub(in crate::storage) const DELETE_CONSENTS: &str =
    concat!("DELETE FROM consents WHERE ", grants_where!());
pub(in crate::storage) const REVOKE_REFRESH_TOKENS: &str = concat!(
    "UPDATE refresh_tokens SET revoked_at = $4 WHERE revoked_at IS NULL AND ",
    grants_where!()
);
/// A code issued just before the change must not outlive it: marked
/// revoked, its redemption is refused.
pub(in crate::storage) const REVOKE_CODES: &str = concat!(
    "UPDATE authorization_codes SET state = 'revoked' WHERE state = 'pending' AND ",
    grants_where!()
);
/// A device authorization allowed but not yet redeemed ends with the
/// grant: denied, the client's next poll gets `access_denied`.
pub(in crate::storage) const REVOKE_DEVICE_CODES: &str = concat!(
    "UPDATE device_codes SET state = 'denied' WHERE state = 'allowed' AND ",
    grants_where!()
);
/// Every family of a grant starts with a code (an authorization code or a
/// device code), and codes are kept while their family has live access
/// tokens (see `purge_expired_auth`), so the codes find the families of
/// tokens issued without a refresh token too.
pub(in crate::storage) const DENY_ACCESS_TOKENS: &str = concat!(
    "INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) \
     SELECT t.jti, t.client_id, t.expires_at, $4 FROM issued_access_tokens t \
     WHERE t.expires_at > $4 AND t.family_id IN ( \
       SELECT family_id FROM refresh_tokens WHERE ",
    grants_where!(),
    " UNION SELECT family_id FROM authorization_codes WHERE ",
    grants_where!(),
    " UNION SELECT family_id FROM device_codes WHERE ",
    grants_where!(),
    ") ON CONFLICT (jti) DO NOTHING"
);

macro_rules! impl_helpers {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::storage::{ApiKeyRecord, ClientRecord, Grants, NewSecret, Result, StorageError, sql};

            impl $store {
                async fn insert_secret(
                    conn: &mut <$db as sqlx::Database>::Connection,
                    client_id: &str,
                    secret: &NewSecret,
                    at: UnixTime,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO client_secrets (id, client_id, secret_hash, created_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&secret.id)
                    .bind(client_id)
                    .bind(&secret.hash.0[..])
                    .bind(at)
                    .execute(conn)
                    .await?;
                    Ok(())
                }

                /// Writes the change's audit entry, moves the sync epoch its
                /// readers watch, and commits: the change, its entry and the
                /// epoch that tells other nodes of it land together or not at
                /// all.
                async fn commit_audited(
                    mut tx: $crate::storage::write::WriteTx<$db>,
                    audit: &AuditEntry,
                    epoch: &'static str,
                ) -> Result<()> {
                    Self::audit(&mut tx, audit).await?;
                    Self::bump(&mut tx, epoch).await?;
                    tx.commit().await?;
                    Ok(())
                }

                /// Moves a sync epoch, inside the transaction that made the change.
                async fn bump(
                    conn: &mut <$db as sqlx::Database>::Connection,
                    statement: &'static str,
                ) -> Result<()> {
                    sqlx::query(statement).execute(conn).await?;
                    Ok(())
                }

                /// Writes an audit entry inside the transaction of the change it
                /// records, so neither exists without the other.
                async fn audit(
                    conn: &mut <$db as sqlx::Database>::Connection,
                    e: &AuditEntry,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO audit_log (occurred_at, event, actor_type, actor_id, workspace_id, ip, user_agent, details) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(e.occurred_at)
                    .bind(e.event.as_str())
                    .bind(e.actor.kind.as_str())
                    .bind(&e.actor.id)
                    .bind(&e.workspace_id)
                    .bind(&e.origin.ip)
                    .bind(&e.origin.user_agent)
                    .bind(e.details.to_string())
                    .execute(conn)
                    .await?;
                    Ok(())
                }

                async fn insert_api_key_row(
                    conn: &mut <$db as sqlx::Database>::Connection,
                    k: &ApiKeyRecord,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO api_keys (id, workspace_id, name, key_type, prefix, key_hash, scopes, rate_limits, \
                         created_at, created_by, expires_at, deactivated) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(&k.id)
                    .bind(&k.workspace_id)
                    .bind(&k.name)
                    .bind(k.key_type.as_str())
                    .bind(&k.prefix)
                    .bind(&k.hash.0[..])
                    .bind(k.scopes.to_string())
                    .bind(&k.rate_limits)
                    .bind(k.created_at)
                    .bind(&k.created_by)
                    .bind(k.expires_at)
                    .bind(k.deactivated)
                    .execute(conn)
                    .await
                    .map_err(StorageError::from_write)?;
                    Ok(())
                }

                async fn insert_client(
                    conn: &mut <$db as sqlx::Database>::Connection,
                    c: &ClientRecord,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO clients (client_id, workspace_id, kind, name, secret_rotated_at, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&c.client_id)
                    .bind(&c.workspace_id)
                    .bind(c.kind.as_str())
                    .bind(&c.name)
                    .bind(c.secret_rotated_at)
                    .bind(c.created_at)
                    .execute(conn)
                    .await?;
                    Ok(())
                }

                /// Ends every grant matching `grants`: deletes their consents,
                /// revokes their refresh tokens, pending codes and allowed
                /// device codes, and
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
                    let consents = run(sql::DELETE_CONSENTS).execute(&mut *conn).await?.rows_affected();
                    // Until nothing is left, as in `revoke_family`: a rotation
                    // committed meanwhile may have added a successor.
                    while run(sql::REVOKE_REFRESH_TOKENS).execute(&mut *conn).await?.rows_affected() > 0 {}
                    run(sql::REVOKE_CODES).execute(&mut *conn).await?;
                    run(sql::REVOKE_DEVICE_CODES).execute(&mut *conn).await?;
                    let denied = run(sql::DENY_ACCESS_TOKENS).execute(&mut *conn).await?.rows_affected();
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
        };
    };
}
pub(in crate::storage) use impl_helpers;
