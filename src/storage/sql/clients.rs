//! The SQL of [`ClientStore`](crate::storage::clients::ClientStore), expanded
//! once per backend.

macro_rules! impl_clients {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::storage::{ClientKind, ClientRecord, ClientUsage, ClientWithSecrets, Grants, NewSecret, OAuthClientRecord, Result, SecretRecord, SecretRotation, sql};
            use $crate::storage::clients::ClientStore;

            #[async_trait::async_trait]
            impl ClientStore for $store {
                async fn create_client(
                    &self,
                    client: &ClientRecord,
                    secret: &NewSecret,
                    audit: &AuditEntry,
                ) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    Self::insert_client(&mut tx, client).await?;
                    Self::insert_secret(&mut tx, &client.client_id, secret, client.created_at).await?;
                    Self::commit_audited(tx, audit, sql::BUMP_CREDENTIALS).await
                }

                async fn find_client(
                    &self,
                    client_id: &str,
                    now: UnixTime,
                ) -> Result<Option<ClientWithSecrets>> {
                    let row: Option<sql::ClientRow> =
                        sqlx::query_as(sql::select_clients!("c.client_id = $1"))
                            .bind(client_id)
                            .fetch_optional(&self.pool)
                            .await?;
                    let Some(row) = row else { return Ok(None) };
                    let secrets: Vec<sql::SecretRow> = sqlx::query_as(
                        "SELECT id, secret_hash, created_at, expires_at, last_used_at FROM client_secrets \
                         WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2) \
                         ORDER BY created_at DESC, id",
                    )
                    .bind(client_id)
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await?;
                    sql::client_with_secrets(row, secrets).map(Some)
                }

                async fn application_client(
                    &self,
                    workspace_id: &str,
                ) -> Result<Option<ClientRecord>> {
                    let row: Option<sql::ClientRow> =
                        sqlx::query_as(sql::select_clients!("c.workspace_id = $1 AND c.kind = $2"))
                            .bind(workspace_id)
                            .bind(ClientKind::Application.as_str())
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(row.map(sql::client).transpose()?.map(|(c, _)| c))
                }

                async fn list_clients(
                    &self,
                    kind: ClientKind,
                ) -> Result<Vec<ClientRecord>> {
                    let rows: Vec<sql::ClientRow> = sqlx::query_as(
                        sql::select_clients!("c.kind = $1 ORDER BY c.created_at, c.client_id"),
                    )
                    .bind(kind.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter()
                        .map(|r| sql::client(r).map(|(c, _)| c))
                        .collect()
                }

                async fn previous_secrets(
                    &self,
                    client_id: &str,
                    now: UnixTime,
                ) -> Result<Vec<SecretRecord>> {
                    // Of two secrets made in one second, the later one was
                    // superseded later, so it never expires sooner.
                    let rows: Vec<sql::SecretRow> = sqlx::query_as(
                        "SELECT id, secret_hash, created_at, expires_at, last_used_at FROM client_secrets \
                         WHERE client_id = $1 AND expires_at > $2 \
                         ORDER BY created_at DESC, expires_at DESC, id",
                    )
                    .bind(client_id)
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(sql::secret).collect()
                }

                async fn rotate_client_secret(
                    &self,
                    client_id: &str,
                    secret: &NewSecret,
                    rotation: SecretRotation,
                    audit: &AuditEntry,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let updated = sqlx::query("UPDATE clients SET secret_rotated_at = $1 WHERE client_id = $2")
                        .bind(rotation.now)
                        .bind(client_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if updated == 0 {
                        return Ok(false);
                    }
                    // Never extend a secret that was due to expire sooner.
                    sqlx::query(
                        "UPDATE client_secrets SET expires_at = $1 \
                         WHERE client_id = $2 AND (expires_at IS NULL OR expires_at > $1)",
                    )
                    .bind(rotation.previous_expire_at)
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await?;
                    Self::insert_secret(&mut tx, client_id, secret, rotation.now).await?;
                    if rotation.revoke_issued_tokens {
                        sqlx::query("UPDATE clients SET tokens_revoked_before = $1 WHERE client_id = $2")
                            .bind(rotation.now + 1)
                            .bind(client_id)
                            .execute(&mut *tx)
                            .await?;
                        Self::bump(&mut tx, sql::BUMP_REVOCATIONS).await?;
                    }
                    Self::commit_audited(tx, audit, sql::BUMP_CREDENTIALS).await?;
                    Ok(true)
                }

                async fn record_usage(
                    &self,
                    usage: &[ClientUsage],
                    daily: &[$crate::domain::usage::DailyCount],
                ) -> Result<()> {
                    if usage.is_empty() && daily.is_empty() {
                        return Ok(());
                    }
                    let mut tx = self.begin_write().await?;
                    for u in usage {
                        sqlx::query(
                            "UPDATE clients SET tokens_issued = tokens_issued + $1, last_used_at = \
                             CASE WHEN last_used_at IS NULL OR last_used_at < $2 THEN $2 ELSE last_used_at END \
                             WHERE client_id = $3",
                        )
                        .bind(u.tokens_issued)
                        .bind(u.last_used_at)
                        .bind(&u.client_id)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query(
                            "UPDATE client_secrets SET last_used_at = \
                             CASE WHEN last_used_at IS NULL OR last_used_at < $1 THEN $1 ELSE last_used_at END \
                             WHERE id = $2",
                        )
                        .bind(u.last_used_at)
                        .bind(&u.secret_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Self::add_daily(&mut tx, sql::ADD_CLIENT_DAY, daily).await?;
                    tx.commit().await?;
                    Ok(())
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
                         scopes, logo_uri, id_token_alg, device_grant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&client.client_id).bind(oauth.public)
                    .bind(sql::uri_list_json(&oauth.redirect_uris))
                    .bind(sql::uri_list_json(&oauth.post_logout_redirect_uris))
                    .bind(oauth.scopes.to_string()).bind(&oauth.logo_uri).bind(oauth.id_token_alg.as_str())
                    .bind(oauth.device_grant)
                    .execute(&mut *tx).await?;
                    if let Some(secret) = secret {
                        Self::insert_secret(&mut tx, &client.client_id, secret, client.created_at).await?;
                    }
                    // Nodes cache clients; a new one must become visible to all.
                    Self::commit_audited(tx, audit, sql::BUMP_CREDENTIALS).await
                }

                async fn oauth_client(
                    &self,
                    client_id: &str,
                ) -> Result<Option<(ClientRecord, OAuthClientRecord)>> {
                    let oauth: Option<sql::OAuthClientRow> = sqlx::query_as(
                        "SELECT client_id, public, redirect_uris, post_logout_redirect_uris, scopes, logo_uri, \
                         id_token_alg, device_grant FROM oauth_clients WHERE client_id = $1",
                    )
                    .bind(client_id).fetch_optional(&self.pool).await?;
                    let Some(oauth) = oauth else { return Ok(None) };
                    let client: Option<sql::ClientRow> =
                        sqlx::query_as(sql::select_clients!("c.client_id = $1"))
                            .bind(client_id).fetch_optional(&self.pool).await?;
                    // Gone in between: the foreign key cascaded the settings too.
                    let Some(client) = client else { return Ok(None) };
                    let (client, _) = sql::client(client)?;
                    Ok(Some((client, sql::oauth_client(oauth)?)))
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
                         logo_uri = $5, id_token_alg = $6, device_grant = $7 WHERE client_id = $1",
                    )
                    .bind(&o.client_id).bind(sql::uri_list_json(&o.redirect_uris))
                    .bind(sql::uri_list_json(&o.post_logout_redirect_uris)).bind(o.scopes.to_string()).bind(&o.logo_uri)
                    .bind(o.id_token_alg.as_str()).bind(o.device_grant).execute(&mut *tx).await?.rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    sqlx::query("UPDATE clients SET name = $2 WHERE client_id = $1")
                        .bind(&o.client_id).bind(name).execute(&mut *tx).await?;
                    // Nodes cache clients by their credentials epoch.
                    Self::commit_audited(tx, audit, sql::BUMP_CREDENTIALS).await?;
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
                    Self::commit_audited(tx, audit, sql::BUMP_CREDENTIALS).await?;
                    Ok(true)
                }
            }
        };
    };
}
pub(in crate::storage) use impl_clients;
