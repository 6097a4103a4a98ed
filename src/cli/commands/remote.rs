//! Subcommands that only a remote keyflow (`--url`) answers: members,
//! invitations and the audit log of a workspace.

use clap::Subcommand;

use crate::domain::user::Role;

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// List a workspace's members with their roles.
    List {
        /// The workspace's id or unique name; the credential's own when
        /// left out.
        #[arg(long)]
        workspace: Option<String>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Change a member's role; a workspace keeps at least one owner.
    ChangeRole {
        /// The member's user id (usr_…) or email address.
        user: String,
        /// owner, admin or member.
        #[arg(long)]
        role: Role,
        /// The workspace's id or unique name; the credential's own when
        /// left out.
        #[arg(long)]
        workspace: Option<String>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Take a member out of a workspace and revoke what they granted there.
    Remove {
        /// The member's user id (usr_…) or email address.
        user: String,
        /// The workspace's id or unique name; the credential's own when
        /// left out.
        #[arg(long)]
        workspace: Option<String>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum InvitationCommand {
    /// List a workspace's pending invitations.
    List {
        /// The workspace's id or unique name; the credential's own when
        /// left out.
        #[arg(long)]
        workspace: Option<String>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Invite someone by email; prints the invitation link once.
    Create {
        /// Who is invited.
        #[arg(long)]
        email: String,
        /// The role they get on accepting: owner, admin or member.
        #[arg(long, default_value = "member")]
        role: Role,
        /// The workspace's id or unique name; the credential's own when
        /// left out.
        #[arg(long)]
        workspace: Option<String>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a pending invitation: its link stops working.
    Revoke {
        /// The invitation's id (inv_…).
        id: String,
        /// The workspace's id or unique name; the credential's own when
        /// left out.
        #[arg(long)]
        workspace: Option<String>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show a workspace's audit entries, newest first.
    ///
    /// With --follow, the entries shown are printed oldest first, and then
    /// each new entry as it is recorded (the log is polled every 2 s) until
    /// interrupted; with --follow --json the output is JSON Lines, one
    /// entry object per line, instead of one JSON document. A poll that
    /// fails because the server is unreachable or failing is retried.
    List(AuditListArgs),
}

#[derive(Debug, clap::Args)]
pub struct AuditListArgs {
    /// Only this event, for example secret_regenerated or api_key_created.
    #[arg(long)]
    pub event: Option<String>,
    /// Only entries by this actor: a user id, a client id or an API key's
    /// prefix.
    #[arg(long)]
    pub actor: Option<String>,
    /// Only entries at or after this RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// Only entries before this RFC 3339 time.
    #[arg(long)]
    pub until: Option<String>,
    /// Show at most this many entries, following the pages as needed.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Start after this `nextCursor` of an earlier listing.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Keep printing new entries as they are recorded, every 2 s.
    #[arg(long, conflicts_with_all = ["until", "cursor"])]
    pub follow: bool,
    /// The workspace's id or unique name; the credential's own when left
    /// out.
    #[arg(long)]
    pub workspace: Option<String>,
    /// Print one JSON object on stdout and nothing else (JSON Lines with
    /// --follow).
    #[arg(long)]
    pub json: bool,
}
