//! A user and their memberships as keyflow stores them; how passwords are
//! hashed and roles compare is in [`super::user`].

use crate::clock::UnixTime;
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
    /// Sees every workspace, user and third-party client in the console.
    pub platform_admin: bool,
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

/// A person in a workspace, as its members page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub joined_at: UnixTime,
}
