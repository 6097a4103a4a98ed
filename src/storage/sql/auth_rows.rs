//! Rows of users, clients' OAuth settings, sessions, consents, codes and
//! refresh tokens, and their conversion into records; data that cannot be
//! valid becomes [`StorageError::Corrupt`].

use crate::domain::secret::SecretHash;

use crate::storage::{
    AuthCodeRecord, CodeState, ConnectedApp, ConsentRecord, Membership, OAuthClientRecord,
    RefreshTokenRecord, SessionRecord, UserRecord,
};
use crate::storage::{Result, StorageError};

/// `SELECT <user columns> FROM users WHERE <condition>`, as a literal.
macro_rules! select_users {
    ($condition:literal) => {
        concat!(
            "SELECT id, email, name, password_hash, created_at, disabled_at, platform_admin \
             FROM users WHERE ",
            $condition
        )
    };
}
pub(in crate::storage) use select_users;

/// `SELECT <session columns> FROM sessions WHERE <condition>`, as a literal.
macro_rules! select_sessions {
    ($condition:literal) => {
        concat!(
            "SELECT id_hash, user_id, auth_time, created_at, expires_at, ip, user_agent \
             FROM sessions WHERE ",
            $condition
        )
    };
}
pub(in crate::storage) use select_sessions;

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct UserRow {
    id: String,
    email: String,
    name: Option<String>,
    password_hash: String,
    created_at: i64,
    disabled_at: Option<i64>,
    platform_admin: bool,
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct MembershipRow {
    workspace_id: String,
    workspace_name: String,
    role: String,
}

/// A user beside one of their memberships, if any (a `LEFT JOIN`).
#[derive(sqlx::FromRow)]
pub(in crate::storage) struct UserMembershipRow {
    #[sqlx(flatten)]
    user: UserRow,
    workspace_id: Option<String>,
    workspace_name: Option<String>,
    role: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct OAuthClientRow {
    client_id: String,
    public: bool,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    scopes: String,
    logo_uri: Option<String>,
    id_token_alg: String,
    device_grant: bool,
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct SessionRow {
    id_hash: Vec<u8>,
    user_id: String,
    auth_time: i64,
    created_at: i64,
    expires_at: i64,
    ip: Option<String>,
    user_agent: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct ConsentRow {
    user_id: String,
    client_id: String,
    workspace_id: String,
    scope: String,
    granted_at: i64,
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct ConnectedAppRow {
    #[sqlx(flatten)]
    consent: ConsentRow,
    client_name: String,
    logo_uri: Option<String>,
    workspace_name: String,
    user_email: String,
}

/// Consents with the names the connected-apps pages show; the caller adds
/// the condition and the order.
macro_rules! select_connected_apps {
    () => {
        "SELECT co.user_id, co.client_id, co.workspace_id, co.scope, co.granted_at, \
         c.name AS client_name, o.logo_uri, w.name AS workspace_name, u.email AS user_email \
         FROM consents co JOIN clients c ON c.client_id = co.client_id \
         LEFT JOIN oauth_clients o ON o.client_id = co.client_id \
         JOIN workspaces w ON w.id = co.workspace_id \
         JOIN users u ON u.id = co.user_id WHERE "
    };
}
pub(in crate::storage) use select_connected_apps;

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct AuthCodeRow {
    code_hash: Vec<u8>,
    family_id: String,
    client_id: String,
    user_id: String,
    workspace_id: String,
    redirect_uri: String,
    scope: String,
    resources: String,
    code_challenge: String,
    nonce: Option<String>,
    auth_time: i64,
    created_at: i64,
    expires_at: i64,
    state: String,
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct RefreshTokenRow {
    token_hash: Vec<u8>,
    family_id: String,
    client_id: String,
    user_id: String,
    workspace_id: String,
    scope: String,
    resources: String,
    auth_time: i64,
    created_at: i64,
    expires_at: i64,
    rotated_at: Option<i64>,
    revoked_at: Option<i64>,
}

pub(in crate::storage) fn hash(bytes: &[u8], what: &str) -> Result<SecretHash> {
    SecretHash::from_slice(bytes)
        .ok_or_else(|| StorageError::Corrupt(format!("{what} hash is not 32 bytes")))
}

fn uri_list(json: &str) -> Result<Vec<String>> {
    serde_json::from_str(json).map_err(|e| StorageError::Corrupt(format!("URI list: {e}")))
}

/// A URI list as the JSON array the `oauth_clients` columns hold.
pub(in crate::storage) fn uri_list_json(uris: &[String]) -> String {
    serde_json::Value::from(uris).to_string()
}

pub(in crate::storage) fn user(row: UserRow) -> UserRecord {
    UserRecord {
        id: row.id,
        email: row.email,
        name: row.name,
        password_hash: row.password_hash,
        created_at: row.created_at,
        disabled_at: row.disabled_at,
        platform_admin: row.platform_admin,
    }
}

pub(in crate::storage) fn membership(row: MembershipRow) -> Result<Membership> {
    Ok(Membership {
        role: row.role.parse().map_err(StorageError::Corrupt)?,
        workspace_id: row.workspace_id,
        workspace_name: row.workspace_name,
    })
}

pub(in crate::storage) fn user_with_memberships(
    rows: Vec<UserMembershipRow>,
) -> Result<Option<(UserRecord, Vec<Membership>)>> {
    let mut found = None;
    let mut memberships = Vec::with_capacity(rows.len());
    for row in rows {
        if let (Some(workspace_id), Some(workspace_name), Some(role)) =
            (row.workspace_id, row.workspace_name, row.role)
        {
            memberships.push(membership(MembershipRow {
                workspace_id,
                workspace_name,
                role,
            })?);
        }
        found.get_or_insert(row.user);
    }
    Ok(found.map(|row| (user(row), memberships)))
}

pub(in crate::storage) fn oauth_client(row: OAuthClientRow) -> Result<OAuthClientRecord> {
    Ok(OAuthClientRecord {
        redirect_uris: uri_list(&row.redirect_uris)?,
        post_logout_redirect_uris: uri_list(&row.post_logout_redirect_uris)?,
        id_token_alg: row.id_token_alg.parse().map_err(StorageError::Corrupt)?,
        client_id: row.client_id,
        public: row.public,
        scopes: super::stored_scopes(&row.scopes)?,
        logo_uri: row.logo_uri,
        device_grant: row.device_grant,
    })
}

pub(in crate::storage) fn session(row: SessionRow) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: hash(&row.id_hash, "session")?,
        user_id: row.user_id,
        auth_time: row.auth_time,
        created_at: row.created_at,
        expires_at: row.expires_at,
        ip: row.ip,
        user_agent: row.user_agent,
    })
}

pub(in crate::storage) fn consent(row: ConsentRow) -> Result<ConsentRecord> {
    Ok(ConsentRecord {
        user_id: row.user_id,
        client_id: row.client_id,
        workspace_id: row.workspace_id,
        scope: super::stored_scopes(&row.scope)?,
        granted_at: row.granted_at,
    })
}

pub(in crate::storage) fn connected_app(row: ConnectedAppRow) -> Result<ConnectedApp> {
    Ok(ConnectedApp {
        consent: consent(row.consent)?,
        client_name: row.client_name,
        logo_uri: row.logo_uri,
        workspace_name: row.workspace_name,
        user_email: row.user_email,
    })
}

/// Resource indicators are absolute URIs, which hold no spaces, so a
/// space-separated list stores them on both backends alike.
pub(in crate::storage) fn split_resources(stored: &str) -> Vec<String> {
    stored.split_whitespace().map(str::to_owned).collect()
}

pub(in crate::storage) fn auth_code(row: AuthCodeRow) -> Result<AuthCodeRecord> {
    Ok(AuthCodeRecord {
        code_hash: hash(&row.code_hash, "authorization code")?,
        state: CodeState::parse(&row.state).map_err(StorageError::Corrupt)?,
        family_id: row.family_id,
        client_id: row.client_id,
        user_id: row.user_id,
        workspace_id: row.workspace_id,
        redirect_uri: row.redirect_uri,
        scope: super::stored_scopes(&row.scope)?,
        resources: split_resources(&row.resources),
        code_challenge: row.code_challenge,
        nonce: row.nonce,
        auth_time: row.auth_time,
        created_at: row.created_at,
        expires_at: row.expires_at,
    })
}

pub(in crate::storage) fn refresh_token(row: RefreshTokenRow) -> Result<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        token_hash: hash(&row.token_hash, "refresh token")?,
        family_id: row.family_id,
        client_id: row.client_id,
        user_id: row.user_id,
        workspace_id: row.workspace_id,
        scope: super::stored_scopes(&row.scope)?,
        resources: split_resources(&row.resources),
        auth_time: row.auth_time,
        created_at: row.created_at,
        expires_at: row.expires_at,
        rotated_at: row.rotated_at,
        revoked_at: row.revoked_at,
    })
}

/// How long an exchanged or expired code is kept after it expires, so that
/// a late replay is still recognised as one (RFC 6749 §4.1.2) and revokes
/// its family.
pub(in crate::storage) const CODE_REPLAY_WINDOW: i64 = 3_600;
