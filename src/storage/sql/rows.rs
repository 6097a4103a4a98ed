//! Rows as the queries read them (named, never positional), and their
//! conversion into records: data that cannot be valid becomes
//! [`StorageError::Corrupt`].

use crate::crypto::signing::Algorithm;
use crate::domain::audit::{Actor, ActorKind, AuditEntry, AuditRecord, Origin};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::SecretHash;
use crate::domain::workspace::Workspace;

use crate::storage::{
    ApiKeyRecord, ClientKind, ClientRecord, ClientWithSecrets, Result, SecretRecord, StorageError,
    StoredSigningKey,
};

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct WorkspaceRow {
    id: String,
    name: String,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct SecretRow {
    id: String,
    secret_hash: Vec<u8>,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct SigningKeyRow {
    kid: String,
    alg: String,
    private_key: Vec<u8>,
    created_at: i64,
    retired_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct AuditRow {
    id: i64,
    occurred_at: i64,
    event: String,
    actor_type: String,
    actor_id: Option<String>,
    workspace_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    details: String,
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct ClientRow {
    client_id: String,
    workspace_id: Option<String>,
    kind: String,
    name: String,
    secret_rotated_at: Option<i64>,
    tokens_issued: i64,
    last_used_at: Option<i64>,
    created_at: i64,
    tokens_revoked_before: Option<i64>,
    allow_appkey_only: bool,
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct ApiKeyRow {
    id: String,
    workspace_id: String,
    name: String,
    key_type: String,
    prefix: String,
    key_hash: Vec<u8>,
    scopes: String,
    rate_limits: Option<String>,
    created_at: i64,
    created_by: String,
    expires_at: Option<i64>,
    deactivated: bool,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
    usage_count: i64,
}

/// `SELECT <api key columns> FROM api_keys WHERE <condition>`, as a literal.
macro_rules! select_api_keys {
    ($condition:literal) => {
        concat!(
            "SELECT id, workspace_id, name, key_type, prefix, key_hash, scopes, rate_limits, created_at, \
             created_by, expires_at, deactivated, revoked_at, last_used_at, usage_count FROM api_keys WHERE ",
            $condition
        )
    };
}
pub(in crate::storage) use select_api_keys;

/// Scopes read back from the database: they were valid when written, so
/// one that no longer parses is corruption, never an empty set.
pub(in crate::storage) fn stored_scopes(raw: &str) -> Result<ScopeSet> {
    ScopeSet::parse(raw).map_err(|e| StorageError::Corrupt(format!("stored scopes: {e}")))
}

pub(in crate::storage) fn api_key(row: ApiKeyRow) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        key_type: row.key_type.parse().map_err(StorageError::Corrupt)?,
        hash: SecretHash::from_slice(&row.key_hash)
            .ok_or_else(|| StorageError::Corrupt("API key hash is not 32 bytes".into()))?,
        id: row.id,
        workspace_id: row.workspace_id,
        name: row.name,
        prefix: row.prefix,
        scopes: stored_scopes(&row.scopes)?,
        rate_limits: row.rate_limits,
        created_at: row.created_at,
        created_by: row.created_by,
        expires_at: row.expires_at,
        deactivated: row.deactivated,
        revoked_at: row.revoked_at,
        last_used_at: row.last_used_at,
        usage_count: row.usage_count,
    })
}

/// `SELECT <client columns> FROM clients c … WHERE <condition>`, as a literal.
macro_rules! select_clients {
    ($condition:literal) => {
        concat!(
            "SELECT c.client_id, c.workspace_id, c.kind, c.name, c.secret_rotated_at, c.tokens_issued, \
             c.last_used_at, c.created_at, c.tokens_revoked_before, \
             COALESCE(w.allow_appkey_only, FALSE) AS allow_appkey_only \
             FROM clients c LEFT JOIN workspaces w ON w.id = c.workspace_id WHERE ",
            $condition
        )
    };
}
pub(in crate::storage) use select_clients;

pub(in crate::storage) fn workspace(row: WorkspaceRow) -> Workspace {
    Workspace {
        id: row.id,
        name: row.name,
        created_at: row.created_at,
    }
}

/// The client and whether its workspace allows the application key alone.
pub(in crate::storage) fn client(row: ClientRow) -> Result<(ClientRecord, bool)> {
    Ok((
        ClientRecord {
            client_id: row.client_id,
            workspace_id: row.workspace_id,
            kind: ClientKind::parse(&row.kind).map_err(StorageError::Corrupt)?,
            name: row.name,
            secret_rotated_at: row.secret_rotated_at,
            tokens_issued: row.tokens_issued,
            last_used_at: row.last_used_at,
            created_at: row.created_at,
            tokens_revoked_before: row.tokens_revoked_before,
        },
        row.allow_appkey_only,
    ))
}

pub(in crate::storage) fn client_with_secrets(
    row: ClientRow,
    secrets: Vec<SecretRow>,
) -> Result<ClientWithSecrets> {
    let (client, allow_appkey_only) = client(row)?;
    Ok(ClientWithSecrets {
        client,
        secrets: secrets.into_iter().map(secret).collect::<Result<_>>()?,
        allow_appkey_only,
    })
}

pub(in crate::storage) fn audit(row: AuditRow) -> Result<AuditRecord> {
    let kind = ActorKind::parse(&row.actor_type)
        .ok_or_else(|| StorageError::Corrupt(format!("actor type {:?}", row.actor_type)))?;
    Ok(AuditRecord {
        id: row.id,
        entry: AuditEntry {
            occurred_at: row.occurred_at,
            event: row.event.parse().map_err(StorageError::Corrupt)?,
            actor: Actor {
                kind,
                id: row.actor_id,
            },
            workspace_id: row.workspace_id,
            origin: Origin {
                ip: row.ip,
                user_agent: row.user_agent,
            },
            details: serde_json::from_str(&row.details)
                .map_err(|e| StorageError::Corrupt(e.to_string()))?,
        },
    })
}

pub(in crate::storage) fn secret(row: SecretRow) -> Result<SecretRecord> {
    Ok(SecretRecord {
        id: row.id,
        hash: SecretHash::from_slice(&row.secret_hash)
            .ok_or_else(|| StorageError::Corrupt("secret hash is not 32 bytes".into()))?,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
    })
}

pub(in crate::storage) fn signing_key(row: SigningKeyRow) -> Result<StoredSigningKey> {
    Ok(StoredSigningKey {
        alg: row
            .alg
            .parse::<Algorithm>()
            .map_err(StorageError::Corrupt)?,
        kid: row.kid,
        sealed_private_key: row.private_key,
        created_at: row.created_at,
        retired_at: row.retired_at,
    })
}
