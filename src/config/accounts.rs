//! Subcommands for users and third-party OAuth clients.

use clap::Subcommand;

use crate::crypto::signing::Algorithm;
use crate::domain::user::Role;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user who signs in with an email and a password.
    Create {
        /// The email address the user signs in with.
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The user's display name (the `name` claim).
        #[arg(long)]
        name: Option<String>,
        /// Add the user to this workspace (with --role).
        #[arg(long)]
        workspace: Option<String>,
        /// The role in --workspace: owner, admin or member.
        #[arg(long, default_value = "member", requires = "workspace")]
        role: Role,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Add a user to a workspace, or change their role there.
    AddToWorkspace {
        /// The user id (usr_…).
        #[arg(long)]
        user: String,
        /// The workspace id.
        #[arg(long)]
        workspace: String,
        /// owner, admin or member.
        #[arg(long, default_value = "member")]
        role: Role,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a third-party integration; prints its secret once.
    Create {
        /// The name users see on the consent page.
        #[arg(long)]
        name: String,
        /// Where codes are sent, matched exactly; repeat for several.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// Where users may return after signing out; repeat for several.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (native or browser app): no secret, PKCE only.
        #[arg(long)]
        public: bool,
        /// A scope the client may ask for; repeat for several. Defaults to
        /// openid profile email offline_access api:read api:write.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// An https URL of the logo shown on the consent page.
        #[arg(long)]
        logo_uri: Option<String>,
        /// The ID token signing algorithm: RS256, ES256 or EdDSA.
        #[arg(long, default_value = "RS256")]
        id_token_alg: Algorithm,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
}
