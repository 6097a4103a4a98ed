//! The SQL of [`DeviceCodeStore`](crate::storage::device_codes::DeviceCodeStore),
//! expanded once per backend.

use super::{hash, split_resources, stored_scopes};
use crate::domain::device_code::{DeviceApproval, DeviceCodeRecord, DeviceCodeState};
use crate::storage::{Result, StorageError};

pub(in crate::storage) const SELECT_DEVICE_CODES: &str = "SELECT device_code_hash, user_code_hash, family_id, client_id, scope, resources, created_at, \
     expires_at, poll_interval, last_polled_at, state, user_id, workspace_id, granted_scope, auth_time \
     FROM device_codes WHERE ";

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct DeviceCodeRow {
    device_code_hash: Vec<u8>,
    user_code_hash: Vec<u8>,
    family_id: String,
    client_id: String,
    scope: String,
    resources: String,
    created_at: i64,
    expires_at: i64,
    poll_interval: i64,
    last_polled_at: Option<i64>,
    state: String,
    user_id: Option<String>,
    workspace_id: Option<String>,
    granted_scope: Option<String>,
    auth_time: Option<i64>,
}

pub(in crate::storage) fn device_code(row: DeviceCodeRow) -> Result<DeviceCodeRecord> {
    let approval = match (
        row.user_id,
        row.workspace_id,
        row.granted_scope,
        row.auth_time,
    ) {
        (Some(user_id), Some(workspace_id), Some(scope), Some(auth_time)) => Some(DeviceApproval {
            user_id,
            workspace_id,
            scope: stored_scopes(&scope)?,
            auth_time,
        }),
        (None, None, None, None) => None,
        _ => {
            return Err(StorageError::Corrupt(
                "device code approval is partial".into(),
            ));
        }
    };
    Ok(DeviceCodeRecord {
        device_code_hash: hash(&row.device_code_hash, "device code")?,
        user_code_hash: hash(&row.user_code_hash, "user code")?,
        state: DeviceCodeState::parse(&row.state).map_err(StorageError::Corrupt)?,
        family_id: row.family_id,
        client_id: row.client_id,
        scope: stored_scopes(&row.scope)?,
        resources: split_resources(&row.resources),
        created_at: row.created_at,
        expires_at: row.expires_at,
        interval: row.poll_interval,
        last_polled_at: row.last_polled_at,
        approval,
    })
}

macro_rules! impl_device_codes {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::clock::UnixTime;
            use $crate::domain::audit::AuditEntry;
            use $crate::domain::device_code::{DeviceCodeRecord, DeviceCodeState};
            use $crate::domain::secret::SecretHash;
            use $crate::storage::device_codes::{DeviceCodeStore, DeviceDecision};
            use $crate::storage::sql::device_codes::{DeviceCodeRow, SELECT_DEVICE_CODES, device_code};
            use $crate::storage::{Issuance, Result, StorageError, sql};

            #[async_trait::async_trait]
            impl DeviceCodeStore for $store {
                async fn insert_device_code(&self, c: &DeviceCodeRecord) -> Result<()> {
                    let _turn = self.write_turn().await;
                    let approval = c.approval.as_ref();
                    sqlx::query(
                        "INSERT INTO device_codes (device_code_hash, user_code_hash, family_id, client_id, scope, \
                         resources, created_at, expires_at, poll_interval, last_polled_at, state, user_id, \
                         workspace_id, granted_scope, auth_time) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    )
                    .bind(&c.device_code_hash.0[..])
                    .bind(&c.user_code_hash.0[..])
                    .bind(&c.family_id)
                    .bind(&c.client_id)
                    .bind(c.scope.to_string())
                    .bind(c.resources.join(" "))
                    .bind(c.created_at)
                    .bind(c.expires_at)
                    .bind(c.interval)
                    .bind(c.last_polled_at)
                    .bind(c.state.as_str())
                    .bind(approval.map(|a| a.user_id.as_str()))
                    .bind(approval.map(|a| a.workspace_id.as_str()))
                    .bind(approval.map(|a| a.scope.to_string()))
                    .bind(approval.map(|a| a.auth_time))
                    .execute(&self.pool)
                    .await
                    .map_err(StorageError::from_write)?;
                    Ok(())
                }

                async fn device_code(
                    &self,
                    device_code_hash: &SecretHash,
                ) -> Result<Option<DeviceCodeRecord>> {
                    let row: Option<DeviceCodeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{SELECT_DEVICE_CODES}device_code_hash = $1"
                    )))
                    .bind(&device_code_hash.0[..])
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(device_code).transpose()
                }

                async fn device_code_by_user_code(
                    &self,
                    user_code_hash: &SecretHash,
                ) -> Result<Option<DeviceCodeRecord>> {
                    let row: Option<DeviceCodeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{SELECT_DEVICE_CODES}user_code_hash = $1"
                    )))
                    .bind(&user_code_hash.0[..])
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(device_code).transpose()
                }

                async fn decide_device_code(
                    &self,
                    user_code_hash: &SecretHash,
                    decision: DeviceDecision<'_>,
                    now: UnixTime,
                    audit: &AuditEntry,
                ) -> Result<bool> {
                    let mut tx = self.begin_write().await?;
                    let (state, approval, consent) = match decision {
                        DeviceDecision::Allow { approval, consent, consent_audit } => {
                            (DeviceCodeState::Allowed, Some(approval), Some((consent, consent_audit)))
                        }
                        DeviceDecision::Deny => (DeviceCodeState::Denied, None, None),
                    };
                    // RFC 8628 §3.3: one decision per code. Check and
                    // decide are one conditional UPDATE.
                    let n = sqlx::query(
                        "UPDATE device_codes SET state = $3, user_id = $4, workspace_id = $5, \
                         granted_scope = $6, auth_time = $7 \
                         WHERE user_code_hash = $1 AND state = $8 AND expires_at > $2",
                    )
                    .bind(&user_code_hash.0[..])
                    .bind(now)
                    .bind(state.as_str())
                    .bind(approval.map(|a| a.user_id.as_str()))
                    .bind(approval.map(|a| a.workspace_id.as_str()))
                    .bind(approval.map(|a| a.scope.to_string()))
                    .bind(approval.map(|a| a.auth_time))
                    .bind(DeviceCodeState::Pending.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Ok(false);
                    }
                    if let Some((c, consent_audit)) = consent {
                        sqlx::query(sql::UPSERT_CONSENT)
                            .bind(&c.user_id)
                            .bind(&c.client_id)
                            .bind(&c.workspace_id)
                            .bind(c.scope.to_string())
                            .bind(c.granted_at)
                            .execute(&mut *tx)
                            .await?;
                        Self::audit(&mut tx, consent_audit).await?;
                    }
                    Self::audit(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn record_device_poll(
                    &self,
                    device_code_hash: &SecretHash,
                    last_polled_at: Option<UnixTime>,
                    now: UnixTime,
                    interval: i64,
                ) -> Result<bool> {
                    let _turn = self.write_turn().await;
                    // Of two polls judged by the same last poll, one
                    // records; the other is too fast (RFC 8628 §3.5).
                    let n = sqlx::query(
                        "UPDATE device_codes SET last_polled_at = $3, poll_interval = $4 \
                         WHERE device_code_hash = $1 AND COALESCE(last_polled_at, -1) = $2 AND state = $5",
                    )
                    .bind(&device_code_hash.0[..])
                    .bind(last_polled_at.unwrap_or(-1))
                    .bind(now)
                    .bind(interval)
                    .bind(DeviceCodeState::Pending.as_str())
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                    Ok(n == 1)
                }

                async fn redeem_device_code(
                    &self,
                    device_code_hash: &SecretHash,
                    now: UnixTime,
                    issuance: &Issuance,
                ) -> Result<bool> {
                    self.claim_and_issue(sql::Claim::DeviceCode(device_code_hash), now, issuance).await
                }
            }
        };
    };
}
pub(in crate::storage) use impl_device_codes;
