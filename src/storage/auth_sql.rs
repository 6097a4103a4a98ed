//! The queries behind [`AuthStore`](super::auth::AuthStore), written once in
//! the SQL both backends speak and expanded into one implementation per
//! backend by `impl_auth_store!`. It is invoked next to `impl_store!`, whose
//! private helpers (`audit`, `bump`, `insert_client`, `insert_secret`) it
//! uses, so that every audited change writes its entry in its own
//! transaction.

pub(super) use super::auth_rows::*;

/// `SELECT <user columns> FROM users WHERE <condition>`, as a literal.
macro_rules! select_users {
    ($condition:literal) => {
        concat!(
            "SELECT id, email, name, password_hash, created_at, disabled_at FROM users WHERE ",
            $condition
        )
    };
}
pub(super) use select_users;

macro_rules! impl_auth_store {
    ($store:ty, $db:ty) => {
        // An unnamed const gives the expansion its own imports; the impls
        // inside apply as anywhere else, and the store's private helpers stay
        // reachable because this is still the backend's module.
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::domain::secret::SecretHash;
            use $crate::domain::user::Role;
            use $crate::storage::auth::{
                AuthCodeRecord, AuthStore, CodeState, ConnectedApp, ConsentRecord, Issuance, Membership,
                OAuthClientRecord, RefreshTokenRecord, SessionRecord, UserRecord,
            };
            use $crate::storage::admin::MembershipChange;
            use $crate::storage::{auth_sql, sql, ClientRecord, NewSecret, Result, StorageError};

            impl $store {
                /// Stores what one exchange hands out, inside the transaction
                /// that consumed the code or refresh token (RFC 9700 §4.14.2):
                /// either both happen or neither does.
                async fn insert_issuance(
                    conn: &mut <$db as sqlx::Database>::Connection,
                    issuance: &Issuance,
                ) -> Result<()> {
                    let a = &issuance.access;
                    sqlx::query(
                        "INSERT INTO issued_access_tokens (jti, family_id, client_id, expires_at) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&a.jti).bind(&a.family_id).bind(&a.client_id).bind(a.expires_at)
                    .execute(&mut *conn).await?;
                    let Some(r) = &issuance.refresh else { return Ok(()) };
                    sqlx::query(
                        "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, workspace_id, scope, \
                         auth_time, created_at, expires_at, rotated_at, revoked_at, resources) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(&r.token_hash.0[..]).bind(&r.family_id).bind(&r.client_id)
                    .bind(&r.user_id).bind(&r.workspace_id).bind(r.scope.to_string()).bind(r.auth_time)
                    .bind(r.created_at).bind(r.expires_at).bind(r.rotated_at).bind(r.revoked_at)
                    .bind(r.resources.join(" ")).execute(conn).await?;
                    Ok(())
                }
            }

            #[async_trait::async_trait]
            impl AuthStore for $store {
                async fn create_user(
                    &self,
                    user: &UserRecord,
                    memberships: &[(String, Role)],
                    audit: &AuditEntry,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&user.id).bind(&user.email).bind(&user.name).bind(&user.password_hash)
                    .bind(user.created_at).execute(&mut *tx).await
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
                    let row: Option<auth_sql::UserRow> =
                        sqlx::query_as(auth_sql::select_users!("email = $1"))
                            .bind(email).fetch_optional(&self.pool).await?;
                    Ok(row.map(auth_sql::user))
                }

                async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>> {
                    let row: Option<auth_sql::UserRow> =
                        sqlx::query_as(auth_sql::select_users!("id = $1"))
                            .bind(id).fetch_optional(&self.pool).await?;
                    Ok(row.map(auth_sql::user))
                }

                async fn list_users(&self) -> Result<Vec<UserRecord>> {
                    let rows: Vec<auth_sql::UserRow> =
                        sqlx::query_as(auth_sql::select_users!("TRUE ORDER BY created_at, id"))
                            .fetch_all(&self.pool).await?;
                    Ok(rows.into_iter().map(auth_sql::user).collect())
                }

                async fn memberships(&self, user_id: &str) -> Result<Vec<Membership>> {
                    let rows: Vec<auth_sql::MembershipRow> = sqlx::query_as(
                        "SELECT m.workspace_id, w.name, m.role FROM memberships m \
                         JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = $1 \
                         ORDER BY w.name, m.workspace_id",
                    )
                    .bind(user_id).fetch_all(&self.pool).await?;
                    rows.into_iter().map(auth_sql::membership).collect()
                }

                async fn create_oauth_client(
                    &self,
                    client: &ClientRecord,
                    oauth: &OAuthClientRecord,
                    secret: Option<&NewSecret>,
                    audit: &AuditEntry,
                ) -> Result<()> {
                    debug_assert_eq!(client.client_id, oauth.client_id);
                    let mut tx = self.begin_write().await?;
                    Self::insert_client(&mut tx, client).await?;
                    sqlx::query(
                        "INSERT INTO oauth_clients (client_id, public, redirect_uris, post_logout_redirect_uris, \
                         scopes, logo_uri, id_token_alg) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&client.client_id).bind(oauth.public)
                    .bind(auth_sql::uri_list_json(&oauth.redirect_uris))
                    .bind(auth_sql::uri_list_json(&oauth.post_logout_redirect_uris))
                    .bind(oauth.scopes.to_string()).bind(&oauth.logo_uri).bind(oauth.id_token_alg.as_str())
                    .execute(&mut *tx).await?;
                    if let Some(secret) = secret {
                        Self::insert_secret(&mut tx, &client.client_id, secret, client.created_at).await?;
                    }
                    Self::audit(&mut tx, audit).await?;
                    // Nodes cache clients; a new one must become visible to all.
                    Self::bump(&mut tx, sql::BUMP_CREDENTIALS).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn oauth_client(
                    &self,
                    client_id: &str,
                ) -> Result<Option<(ClientRecord, OAuthClientRecord)>> {
                    let oauth: Option<auth_sql::OAuthClientRow> = sqlx::query_as(
                        "SELECT client_id, public, redirect_uris, post_logout_redirect_uris, scopes, logo_uri, \
                         id_token_alg FROM oauth_clients WHERE client_id = $1",
                    )
                    .bind(client_id).fetch_optional(&self.pool).await?;
                    let Some(oauth) = oauth else { return Ok(None) };
                    let client: Option<sql::ClientRow> =
                        sqlx::query_as(sql::select_clients!("c.client_id = $1"))
                            .bind(client_id).fetch_optional(&self.pool).await?;
                    // Gone in between: the foreign key cascaded the settings too.
                    let Some(client) = client else { return Ok(None) };
                    let (client, _) = sql::client(client)?;
                    Ok(Some((client, auth_sql::oauth_client(oauth)?)))
                }

                async fn create_session(&self, s: &SessionRecord, audit: &AuditEntry) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO sessions (id_hash, user_id, auth_time, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&s.id_hash.0[..]).bind(&s.user_id).bind(s.auth_time).bind(s.created_at)
                    .bind(s.expires_at).execute(&mut *tx).await?;
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn session(
                    &self,
                    id_hash: &SecretHash,
                    now: UnixTime,
                ) -> Result<Option<SessionRecord>> {
                    let row: Option<auth_sql::SessionRow> = sqlx::query_as(
                        "SELECT id_hash, user_id, auth_time, created_at, expires_at FROM sessions \
                         WHERE id_hash = $1 AND expires_at > $2",
                    )
                    .bind(&id_hash.0[..]).bind(now).fetch_optional(&self.pool).await?;
                    row.map(auth_sql::session).transpose()
                }

                async fn delete_session(&self, id_hash: &SecretHash) -> Result<()> {
                    let _turn = self.write_turn().await;
                    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                        .bind(&id_hash.0[..]).execute(&self.pool).await?;
                    Ok(())
                }

                async fn consent(
                    &self,
                    user_id: &str,
                    client_id: &str,
                    workspace_id: &str,
                ) -> Result<Option<ConsentRecord>> {
                    let row: Option<auth_sql::ConsentRow> = sqlx::query_as(
                        "SELECT user_id, client_id, workspace_id, scope, granted_at FROM consents \
                         WHERE user_id = $1 AND client_id = $2 AND workspace_id = $3",
                    )
                    .bind(user_id).bind(client_id).bind(workspace_id).fetch_optional(&self.pool)
                    .await?;
                    row.map(auth_sql::consent).transpose()
                }

                async fn save_consent(&self, c: &ConsentRecord, audit: &AuditEntry) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO consents (user_id, client_id, workspace_id, scope, granted_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, client_id, workspace_id) \
                         DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
                    )
                    .bind(&c.user_id).bind(&c.client_id).bind(&c.workspace_id).bind(c.scope.to_string())
                    .bind(c.granted_at).execute(&mut *tx).await?;
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn connected_apps(&self, user_id: &str) -> Result<Vec<ConnectedApp>> {
                    let rows: Vec<auth_sql::ConnectedAppRow> = sqlx::query_as(
                        "SELECT co.user_id, co.client_id, co.workspace_id, co.scope, co.granted_at, \
                         c.name AS client_name, o.logo_uri, w.name AS workspace_name \
                         FROM consents co JOIN clients c ON c.client_id = co.client_id \
                         LEFT JOIN oauth_clients o ON o.client_id = co.client_id \
                         JOIN workspaces w ON w.id = co.workspace_id \
                         WHERE co.user_id = $1 ORDER BY co.granted_at DESC, co.client_id, co.workspace_id",
                    )
                    .bind(user_id).fetch_all(&self.pool).await?;
                    rows.into_iter().map(auth_sql::connected_app).collect()
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
                    let grants = $crate::storage::admin::Grants::of(user_id, client_id, workspace_id);
                    if Self::end_grants(&mut tx, grants, now).await? == 0 {
                        return Ok(false);
                    }
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

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
                    let row: Option<auth_sql::AuthCodeRow> = sqlx::query_as(
                        "SELECT code_hash, family_id, client_id, user_id, workspace_id, redirect_uri, scope, resources, \
                         code_challenge, nonce, auth_time, created_at, expires_at, state \
                         FROM authorization_codes WHERE code_hash = $1",
                    )
                    .bind(&code_hash.0[..]).fetch_optional(&self.pool).await?;
                    row.map(auth_sql::auth_code).transpose()
                }

                async fn redeem_auth_code(
                    &self,
                    code_hash: &SecretHash,
                    now: UnixTime,
                    issuance: &Issuance,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    // RFC 6749 §4.1.2: a code is used once. Check and claim are
                    // one conditional UPDATE, so of two concurrent redemptions
                    // exactly one sees the code pending.
                    let n = sqlx::query(
                        "UPDATE authorization_codes SET state = $3 \
                         WHERE code_hash = $1 AND state = $4 AND expires_at > $2",
                    )
                    .bind(&code_hash.0[..]).bind(now).bind(CodeState::Exchanged.as_str())
                    .bind(CodeState::Pending.as_str()).execute(&mut *tx).await?.rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    Self::insert_issuance(&mut tx, issuance).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn refresh_token(
                    &self,
                    token_hash: &SecretHash,
                ) -> Result<Option<RefreshTokenRecord>> {
                    let row: Option<auth_sql::RefreshTokenRow> = sqlx::query_as(
                        "SELECT token_hash, family_id, client_id, user_id, workspace_id, scope, resources, auth_time, \
                         created_at, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
                    )
                    .bind(&token_hash.0[..]).fetch_optional(&self.pool).await?;
                    row.map(auth_sql::refresh_token).transpose()
                }

                async fn rotate_refresh_token(
                    &self,
                    token_hash: &SecretHash,
                    now: UnixTime,
                    rotated_not_before: UnixTime,
                    issuance: &Issuance,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    // RFC 9700 §4.14.2: a refresh token is replaced on use. A
                    // retry inside the grace period (a response lost on the way
                    // back) may use it again; the first rotation time is kept so
                    // the grace period cannot be stretched by retrying.
                    let n = sqlx::query(
                        "UPDATE refresh_tokens SET rotated_at = COALESCE(rotated_at, $2) \
                         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 \
                         AND (rotated_at IS NULL OR rotated_at >= $3)",
                    )
                    .bind(&token_hash.0[..]).bind(now).bind(rotated_not_before).execute(&mut *tx)
                    .await?.rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    Self::insert_issuance(&mut tx, issuance).await?;
                    tx.commit().await?;
                    Ok(true)
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

                async fn rate_limit_refund(&self, bucket: &str, emission_us: i64) -> Result<()> {
                    let _turn = self.write_turn().await;
                    sqlx::query("UPDATE rate_limit_state SET tat = tat - $2 WHERE bucket = $1")
                        .bind(bucket).bind(emission_us).execute(&self.pool).await?;
                    Ok(())
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
                    .bind(now - auth_sql::CODE_REPLAY_WINDOW).bind(now).execute(&mut *tx).await?
                    .rows_affected();
                    tx.commit().await?;
                    Ok(purged)
                }
            }
        };
    };
}

pub(super) use impl_auth_store;
