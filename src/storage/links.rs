//! One-time links: the first-run setup link and password resets.

use async_trait::async_trait;

use crate::clock::UnixTime;
use crate::domain::audit::AuditEntry;
use crate::domain::one_time_link::{LinkPurpose, OneTimeLink};
use crate::domain::secret::SecretHash;
use crate::domain::user_record::UserRecord;

use super::Result;

/// How using a link went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkUse {
    /// Done; for a password reset, the user whose password was set.
    Done { user_id: String },
    /// Used before, expired, or never issued.
    Unusable,
    /// Setup: an account with this email exists already.
    EmailTaken,
}

#[async_trait]
pub trait LinkStore: Send + Sync {
    async fn create_link(&self, link: &OneTimeLink, audit: Option<&AuditEntry>) -> Result<()>;

    /// The link, if it is usable at `now` and for `purpose`.
    async fn usable_link(
        &self,
        token_hash: &SecretHash,
        purpose: LinkPurpose,
        now: UnixTime,
    ) -> Result<Option<OneTimeLink>>;

    /// Uses a setup link: creates `admin` as a platform admin, in one
    /// transaction with the link's use.
    async fn complete_setup(
        &self,
        token_hash: &SecretHash,
        admin: &UserRecord,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<LinkUse>;

    /// Uses a password-reset link: sets the password and ends every
    /// session of the user, in one transaction.
    async fn reset_password(
        &self,
        token_hash: &SecretHash,
        password_hash: &str,
        now: UnixTime,
        audit: &AuditEntry,
    ) -> Result<LinkUse>;
}
