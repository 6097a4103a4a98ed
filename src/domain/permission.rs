//! What a role lets a person do in a workspace, and the re-authentication
//! rule for sensitive actions. The console and the `/v1` API ask these
//! questions; neither decides on its own.

use crate::clock::UnixTime;
use crate::domain::user::Role;

/// Something a person may try in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceAction {
    /// See the workspace, its application key and its members.
    View,
    /// Regenerate the secret key, manage API keys and integrations.
    Administer,
    /// Invite, change roles, remove members.
    ManageMembers,
    /// End a third-party integration's access for every member.
    DisconnectApps,
}

impl WorkspaceAction {
    /// Who may, in words, for a refusal that says what would be needed.
    pub fn needs(self) -> &'static str {
        match self {
            WorkspaceAction::View => "a member",
            WorkspaceAction::Administer => "an owner or admin",
            WorkspaceAction::ManageMembers | WorkspaceAction::DisconnectApps => "an owner",
        }
    }

    pub fn allowed_for(self, role: Role) -> bool {
        match self {
            WorkspaceAction::View => true,
            WorkspaceAction::Administer => role.administers(),
            WorkspaceAction::ManageMembers | WorkspaceAction::DisconnectApps => role == Role::Owner,
        }
    }
}

/// How recently the password must have been entered for a sensitive
/// action (regenerate a secret, rotate a client secret, invite or promote
/// an owner, change the password): the console asks for it again
/// otherwise, as GitHub's "sudo mode" does.
pub const REAUTH_WINDOW_SECONDS: i64 = 10 * 60;

/// True when a sign-in at `auth_time` still covers a sensitive action at
/// `now`.
pub fn recently_authenticated(auth_time: UnixTime, now: UnixTime) -> bool {
    now - auth_time <= REAUTH_WINDOW_SECONDS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_view_admins_administer_owners_manage_members() {
        use WorkspaceAction::*;
        let table = [
            (Role::Member, [true, false, false]),
            (Role::Admin, [true, true, false]),
            (Role::Owner, [true, true, true]),
        ];
        for (role, expected) in table {
            let got = [View, Administer, ManageMembers].map(|a| a.allowed_for(role));
            assert_eq!(got, expected, "{role}");
        }
    }

    #[test]
    fn a_sign_in_covers_sensitive_actions_for_ten_minutes() {
        assert!(recently_authenticated(1_000, 1_000 + 600));
        assert!(!recently_authenticated(1_000, 1_000 + 601));
    }
}
