//! Storage of the user-facing flows: users and their workspace memberships,
//! third-party clients' OAuth settings, browser sessions, consent,
//! authorization codes and refresh tokens. Codes, sessions and refresh
//! tokens are keyed by a keyed hash, never by the value itself.

use async_trait::async_trait;

pub use crate::domain::client::OAuthClientRecord;

use super::{ClientRecord, NewSecret, Result};
use crate::clock::UnixTime;
use crate::domain::audit::AuditEntry;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::SecretHash;
use crate::domain::user::Role;

/// A person who signs in. The password is stored only as an Argon2id PHC
/// string.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    /// Lower-cased; unique.
    pub email: String,
    pub name: Option<String>,
    pub password_hash: String,
    pub created_at: UnixTime,
    /// Set by `keyflow user disable`: no sign-in, no new tokens.
    pub disabled_at: Option<UnixTime>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A user's place in a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub workspace_id: String,
    pub workspace_name: String,
    pub role: Role,
}

/// A signed-in browser. The cookie holds the session id; only its hash is
/// stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: SecretHash,
    pub user_id: String,
    /// OIDC Core §2 `auth_time`: when the user last entered the password.
    pub auth_time: UnixTime,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

/// What a user allowed a client to do in a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub user_id: String,
    pub client_id: String,
    pub workspace_id: String,
    pub scope: ScopeSet,
    pub granted_at: UnixTime,
}

/// A consent with the names to show on the connected apps page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedApp {
    pub consent: ConsentRecord,
    pub client_name: String,
    pub logo_uri: Option<String>,
    pub workspace_name: String,
}

/// The stages of an authorization code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeState {
    /// Issued, not yet redeemed.
    Pending,
    /// Redeemed once; any further attempt is a replay (RFC 6749 §4.1.2).
    Exchanged,
    /// Spent unredeemed because the user withdrew consent.
    Revoked,
}

impl CodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeState::Pending => "pending",
            CodeState::Exchanged => "exchanged",
            CodeState::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(CodeState::Pending),
            "exchanged" => Ok(CodeState::Exchanged),
            "revoked" => Ok(CodeState::Revoked),
            other => Err(super::StorageError::Corrupt(format!(
                "unknown authorization code state {other:?}"
            ))),
        }
    }
}

/// An authorization code and everything it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCodeRecord {
    pub code_hash: SecretHash,
    /// Every token issued from this code, and their refresh successors,
    /// share this id, so that one replay can revoke them all.
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub workspace_id: String,
    pub redirect_uri: String,
    pub scope: ScopeSet,
    /// RFC 8707 §2.1: the resources named in the authorization request,
    /// which bound what the token request may name.
    pub resources: Vec<String>,
    /// RFC 7636 §4.2, S256: BASE64URL(SHA256(code_verifier)).
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub auth_time: UnixTime,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub state: CodeState,
}

/// A refresh token as stored: hashed, in a family that starts with a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub token_hash: SecretHash,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub workspace_id: String,
    /// The scope of the grant; a refresh may ask for less, never more.
    pub scope: ScopeSet,
    /// The grant's resource indicators (RFC 8707 §2.2), as on its code.
    pub resources: Vec<String>,
    pub auth_time: UnixTime,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    /// When it was exchanged for a successor.
    pub rotated_at: Option<UnixTime>,
    pub revoked_at: Option<UnixTime>,
}

/// An access token issued to a user's grant, remembered until it expires so
/// that revoking the grant revokes it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedAccessToken {
    pub jti: String,
    pub family_id: String,
    pub client_id: String,
    pub expires_at: UnixTime,
}

/// The tokens one exchange hands out, written in the transaction that
/// consumes the code or refresh token they replace (RFC 9700 §4.14.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuance {
    pub access: IssuedAccessToken,
    pub refresh: Option<RefreshTokenRecord>,
}

#[async_trait]
pub trait AuthStore: Send + Sync {
    /// Creates the user and its memberships in one transaction; fails with
    /// `Conflict` when the email is taken.
    async fn create_user(
        &self,
        user: &UserRecord,
        memberships: &[(String, Role)],
        audit: &AuditEntry,
    ) -> Result<()>;

    /// Adds the membership or changes its role, unless that demotes the
    /// workspace's last owner. `Missing` when the user or the workspace does
    /// not exist.
    async fn set_membership(
        &self,
        user_id: &str,
        workspace_id: &str,
        role: Role,
        audit: &AuditEntry,
    ) -> Result<super::admin::MembershipChange>;

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>>;

    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>>;

    /// Every user, oldest first.
    async fn list_users(&self) -> Result<Vec<UserRecord>>;

    /// The user's workspaces, by workspace name.
    async fn memberships(&self, user_id: &str) -> Result<Vec<Membership>>;

    /// Creates a third-party client with its OAuth settings and, unless it
    /// is public, its first secret.
    async fn create_oauth_client(
        &self,
        client: &ClientRecord,
        oauth: &OAuthClientRecord,
        secret: Option<&NewSecret>,
        audit: &AuditEntry,
    ) -> Result<()>;

    /// The client row with its OAuth settings.
    async fn oauth_client(
        &self,
        client_id: &str,
    ) -> Result<Option<(ClientRecord, OAuthClientRecord)>>;

    async fn create_session(&self, session: &SessionRecord, audit: &AuditEntry) -> Result<()>;

    /// The session, if it has not expired at `now`.
    async fn session(&self, id_hash: &SecretHash, now: UnixTime) -> Result<Option<SessionRecord>>;

    async fn delete_session(&self, id_hash: &SecretHash) -> Result<()>;

    async fn consent(
        &self,
        user_id: &str,
        client_id: &str,
        workspace_id: &str,
    ) -> Result<Option<ConsentRecord>>;

    /// Stores the consent, replacing an earlier one for the same user,
    /// client and workspace.
    async fn save_consent(&self, consent: &ConsentRecord, audit: &AuditEntry) -> Result<()>;

    /// The user's consents, newest first.
    async fn connected_apps(&self, user_id: &str) -> Result<Vec<ConnectedApp>>;

    /// Deletes the consent, revokes every refresh token of the user, client
    /// and workspace with the access tokens issued with them, and revokes
    /// their pending codes, in one transaction. False when there was no
    /// consent.
    async fn revoke_consent(
        &self,
        user_id: &str,
        client_id: &str,
        workspace_id: &str,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<bool>;

    async fn insert_auth_code(&self, code: &AuthCodeRecord) -> Result<()>;

    /// The code in whatever state it is, expired or not.
    async fn auth_code(&self, code_hash: &SecretHash) -> Result<Option<AuthCodeRecord>>;

    /// Marks a pending, unexpired code exchanged and stores `issuance`, in
    /// one transaction. False (and nothing written) when the code was not
    /// pending or has expired, for example because a concurrent request
    /// redeemed it first.
    async fn redeem_auth_code(
        &self,
        code_hash: &SecretHash,
        now: UnixTime,
        issuance: &Issuance,
    ) -> Result<bool>;

    async fn refresh_token(&self, token_hash: &SecretHash) -> Result<Option<RefreshTokenRecord>>;

    /// Marks the token rotated (keeping the first rotation time) and stores
    /// `issuance`, in one transaction, if the token is unrevoked, unexpired
    /// at `now`, and either unrotated or rotated at or after
    /// `rotated_not_before` (the reuse grace period). False, with nothing
    /// written, otherwise.
    async fn rotate_refresh_token(
        &self,
        token_hash: &SecretHash,
        now: UnixTime,
        rotated_not_before: UnixTime,
        issuance: &Issuance,
    ) -> Result<bool>;

    /// Revokes every refresh token of the family and denylists its access
    /// tokens that are still unexpired, in one transaction; returns how
    /// many refresh tokens it revoked.
    async fn revoke_family(
        &self,
        family_id: &str,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<u64>;

    /// Gives back one step taken from a GCRA bucket by `rate_limit_advance`
    /// (see `rate_limit.rs`), atomically.
    async fn rate_limit_refund(&self, bucket: &str, emission_us: i64) -> Result<()>;

    /// Forgets expired sessions, refresh tokens and issued-token records,
    /// and codes an hour past expiry (so late replays are still caught)
    /// whose family has no unexpired access token left; returns how many
    /// rows went.
    async fn purge_expired_auth(&self, now: UnixTime) -> Result<u64>;
}
