//! The command line: the commands and their arguments, as clap parses
//! them. The settings they carry are validated in [`crate::config`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{GlobalArgs, ServeArgs, Settings};
use crate::crypto::signing::Algorithm;

mod accounts;
mod remote;

pub use accounts::{
    ClientCommand, ClientUpdateArgs, MembershipCommand, ResourceServerCommand, RotateArgs,
    UserCommand,
};
pub use remote::{AuditCommand, AuditListArgs, InvitationCommand, MemberCommand};

#[derive(Debug, Parser)]
#[command(
    name = "keyflow",
    version,
    about = "OAuth 2.0 / OpenID Connect authorization server and API-key manager"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the authorization server (the default). Creates the database,
    /// the master key and the signing keys on first start.
    Serve(ServeArgs),
    /// Create the database or bring it up to date, then exit.
    Migrate {
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Manage workspaces and their application tokens.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage resource servers: the clients resource APIs check credentials as.
    #[command(subcommand)]
    ResourceServer(ResourceServerCommand),
    /// Manage a workspace's API keys, locally or on a remote keyflow (--url).
    Apikey(ApikeyArgs),
    /// Manage users who sign in to connect integrations.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage third-party OAuth clients (authorization code with PKCE).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage users' memberships in workspaces.
    #[command(subcommand)]
    Membership(MembershipCommand),
    /// Manage a workspace's members on a remote keyflow (--url).
    #[command(subcommand)]
    Member(MemberCommand),
    /// Invite people to a workspace on a remote keyflow (--url).
    #[command(subcommand)]
    Invitation(InvitationCommand),
    /// Read a workspace's audit log on a remote keyflow (--url).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Sign in to the keyflow at --url; the session is kept in
    /// ~/.keyflow/credentials.toml for the commands that follow.
    Login(LoginArgs),
    /// Revoke and forget the session for --url.
    Logout {
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Show who the credential for --url acts as, and where.
    Whoami {
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
}

/// Where a management command acts: on a remote keyflow over `/v1` with
/// `--url`, else on the local database.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// Act on this keyflow over HTTP (its `/v1` API) instead of opening the
    /// database.
    #[arg(long, env = "KEYFLOW_URL", global = true)]
    pub url: Option<String>,
    /// File with an API key for --url. Otherwise keyflow.key at the root of
    /// the current git repository, then $HOME/.keyflow/api.key, then the
    /// session of `keyflow login --url`.
    #[arg(short = 'k', long = "key-file", global = true)]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApikeyArgs {
    #[command(subcommand)]
    pub command: ApikeyCommand,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Use the authorization code flow in this machine's browser, which
    /// returns to a loopback port, instead of a code to type in.
    #[arg(long)]
    pub web: bool,
    /// Only print the URL; do not open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Print one JSON object on stdout and nothing else.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Create an API key; prints the key once.
    Create {
        /// The workspace's id or unique name; with --url, the key file's
        /// workspace when left out.
        #[arg(long)]
        workspace: Option<String>,
        /// A label for the key.
        #[arg(long)]
        name: String,
        /// secret, client or read_only.
        #[arg(long = "type", default_value = "secret")]
        key_type: String,
        /// A scope the key carries; repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// When the key stops working, as an RFC 3339 time such as
        /// 2027-03-01T00:00:00Z.
        #[arg(long)]
        expires_at: Option<String>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// List a workspace's keys (never the keys themselves).
    List {
        /// The workspace's id or unique name; with --url, the key file's
        /// workspace when left out.
        #[arg(long)]
        workspace: Option<String>,
        /// Only the key with this prefix, for example sk_19656ea.
        #[arg(long)]
        prefix: Option<String>,
        /// Show at most this many keys (all by default); with --url the
        /// pages are fetched as needed.
        #[arg(long)]
        limit: Option<usize>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// A key's verifications per UTC day and outcome (needs --url).
    Usage {
        /// The key's id.
        id: String,
        /// First day, YYYY-MM-DD (UTC); 29 days before --to by default.
        #[arg(long)]
        from: Option<String>,
        /// Last day, included, YYYY-MM-DD (UTC); today by default.
        #[arg(long)]
        to: Option<String>,
        /// The workspace's id or unique name; the credential's own when
        /// left out.
        #[arg(long)]
        workspace: Option<String>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Change a key's name, scopes or state (needs --url); what is not
    /// given stays as it is.
    Change {
        /// The key's id.
        id: String,
        /// A new label.
        #[arg(long)]
        name: Option<String>,
        /// A scope the key carries; repeat for several. Replaces the list.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// false deactivates the key, true reactivates it.
        #[arg(long)]
        active: Option<bool>,
        /// The workspace's id or unique name; the credential's own when
        /// left out.
        #[arg(long)]
        workspace: Option<String>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Replace a key with a new one of the same settings, shown once
    /// (needs --url).
    Roll {
        /// The key's id.
        id: String,
        /// Keep the old key working this many seconds (0: it stops now).
        #[arg(long, default_value_t = 0)]
        expires_old_in_seconds: i64,
        /// The workspace's id or unique name; the credential's own when
        /// left out.
        #[arg(long)]
        workspace: Option<String>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key for good.
    Revoke {
        /// The workspace's id or unique name; with --url, the key file's
        /// workspace when left out.
        #[arg(long)]
        workspace: Option<String>,
        /// The key's id.
        id: String,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace and its application token; prints the secret key once.
    Create {
        /// A label for the workspace.
        #[arg(long)]
        name: String,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Replace a workspace's secret key; prints the new one once.
    ///
    /// Without a grace period every older secret stops working at once,
    /// including one still inside an earlier grace period. With a grace
    /// period the secret that was current works until the period ends, and
    /// older secrets keep the grace periods they already had, except that
    /// one ending later than the new grace period ends with it.
    /// `GET /v1/workspace/{id}/application-token` lists every old secret
    /// that still works, with its expiry and last use.
    #[command(visible_alias = "regenerate")]
    RotateSecret {
        /// The workspace's id, or its name when no other workspace has it;
        /// with --url, the session's or the key's own when left out.
        #[arg(value_name = "WORKSPACE")]
        workspace: Option<String>,
        /// Keep the secret that was current working this many seconds
        /// (0 to 604800); 0 ends every older secret now.
        #[arg(long, default_value_t = 0)]
        grace_period_seconds: i64,
        /// Also revoke every access token issued to the workspace so far.
        #[arg(long)]
        revoke_issued_tokens: bool,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Accept the application key alone on the legacy appkey path (weaker; off by default).
    AllowAppkeyOnly {
        /// The workspace's id, or its name when no other workspace has it.
        #[arg(value_name = "WORKSPACE")]
        workspace: String,
        /// Turn it off again.
        #[arg(long)]
        off: bool,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// List workspaces (never secrets); with --url, the ones the
    /// credential may act in, with its role.
    List {
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Show a workspace's application token: its key, when its secret
    /// was last rotated, and older secrets that still work (needs --url).
    Show {
        /// The workspace's id or unique name; the credential's own when
        /// left out.
        #[arg(value_name = "WORKSPACE")]
        workspace: Option<String>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new active signing key per algorithm; old keys stay published
    /// until every token they signed has expired.
    Rotate {
        /// Rotate only these algorithms (default: all).
        #[arg(long = "alg")]
        algs: Vec<Algorithm>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Show kid, algorithm, state and dates of every signing key.
    List {
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
}

impl Command {
    /// The command's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Serve(_) => "serve",
            Command::Migrate { .. } => "migrate",
            Command::Workspace(_) => "workspace",
            Command::Keys(_) => "keys",
            Command::ResourceServer(_) => "resource-server",
            Command::Apikey(_) => "apikey",
            Command::User(_) => "user",
            Command::Client(_) => "client",
            Command::Membership(_) => "membership",
            Command::Member(_) => "member",
            Command::Invitation(_) => "invitation",
            Command::Audit(_) => "audit",
            Command::Login(_) => "login",
            Command::Logout { .. } => "logout",
            Command::Whoami { .. } => "whoami",
        }
    }
}

impl Cli {
    /// The validated settings of this invocation: the serve flags when the
    /// command is `serve`, else their environment values and defaults.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        match &self.command {
            Some(Command::Serve(serve)) => Settings::from_args(&self.global, serve),
            _ => Settings::from_args(&self.global, &ServeArgs::from_environment()?),
        }
    }
}
