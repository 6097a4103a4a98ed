//! Subcommands for users, third-party OAuth clients and resource servers.

use clap::{Args, Subcommand};

use crate::crypto::signing::Algorithm;
use crate::domain::client::ClientGrant;
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
        /// Add the user to this workspace (its id or unique name), with --role.
        #[arg(long)]
        workspace: Option<String>,
        /// The role in --workspace: owner, admin or member.
        #[arg(long, default_value = "member", requires = "workspace")]
        role: Role,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// List users with their workspaces and roles (never passwords).
    List {
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Add a user to a workspace, or change their role there.
    AddToWorkspace {
        /// The user's id (usr_…) or email address.
        #[arg(long)]
        user: String,
        /// The workspace's id, or its name when no other workspace has it.
        #[arg(long)]
        workspace: String,
        /// owner, admin or member.
        #[arg(long, default_value = "member")]
        role: Role,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Stop a user from signing in, end their sessions, and revoke every
    /// grant they made (consents, refresh and access tokens). Their
    /// memberships stay for `user enable`.
    Disable {
        /// The user's id (usr_…) or email address.
        user: String,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Let a disabled user sign in again (revoked grants stay revoked).
    Enable {
        /// The user's id (usr_…) or email address.
        user: String,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MembershipCommand {
    /// Take a user out of a workspace and revoke what they granted there.
    /// A workspace's last owner cannot be removed.
    Remove {
        /// The user's id (usr_…) or email address.
        #[arg(long)]
        user: String,
        /// The workspace's id, or its name when no other workspace has it.
        #[arg(long)]
        workspace: String,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// List third-party clients (never secrets).
    List {
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Show everything registered for one client (never its secret).
    Show {
        /// The client id (cli_…).
        client: String,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Replace a confidential client's secret; prints the new one once.
    ///
    /// Without a grace period every older secret stops working at once,
    /// including one still inside an earlier grace period; with one, the
    /// secret that was current works until it ends.
    RotateSecret(RotateArgs),
    /// Change a client's registration; options not given stay as they are,
    /// and a repeated option (--redirect-uri, --scope …) replaces the list.
    Update(ClientUpdateArgs),
    /// Delete a client with its secrets, and revoke every grant users made
    /// to it, with its refresh and access tokens.
    Delete {
        /// The client id (cli_…).
        client: String,
        /// Confirm: the client and its grants cannot be restored.
        #[arg(long)]
        yes: bool,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
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
        /// A grant the client may use; repeat for several:
        /// authorization_code (every client has it) or device_code
        /// (RFC 8628: device sign-in, for CLIs and devices without a
        /// browser).
        #[arg(long = "grant", value_name = "GRANT")]
        grants: Vec<ClientGrant>,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ResourceServerCommand {
    /// List resource servers (never secrets).
    List {
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Replace a resource server's secret; prints the new one once.
    ///
    /// Without a grace period every older secret stops working at once;
    /// with one, the secret that was current works until it ends.
    RotateSecret(RotateArgs),
    /// Delete a resource server with its secrets; it can no longer
    /// introspect.
    Delete {
        /// The resource server's client id (rs_…).
        client: String,
        /// Confirm: the resource server cannot be restored.
        #[arg(long)]
        yes: bool,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
    /// Register a resource server; prints its client secret once.
    Create {
        /// A label, for example the API's name.
        #[arg(long)]
        name: String,
        /// Print one JSON object on stdout and nothing else.
        #[arg(long)]
        json: bool,
    },
}

/// A client's secret rotation, as `client` and `resource-server
/// rotate-secret` take it.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The client id (cli_… or rs_…).
    pub client: String,
    /// Keep the secret that was current working this many seconds
    /// (0 to 604800); 0 ends every older secret now.
    #[arg(long, default_value_t = 0)]
    pub grace_period_seconds: i64,
    /// Also revoke every access token issued to the client so far.
    #[arg(long)]
    pub revoke_issued_tokens: bool,
    /// Print one JSON object on stdout and nothing else.
    #[arg(long)]
    pub json: bool,
}

/// `keyflow client update`: options not given stay as they are.
#[derive(Debug, Args)]
pub struct ClientUpdateArgs {
    /// The client id (cli_…).
    pub client: String,
    /// The name users see on the consent page.
    #[arg(long)]
    pub name: Option<String>,
    /// Where codes are sent, matched exactly; repeat for several.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Where users may return after signing out; repeat for several.
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Remove every post-logout redirect URI.
    #[arg(long, conflicts_with = "post_logout_redirect_uris")]
    pub no_post_logout_redirect_uris: bool,
    /// A scope the client may ask for; repeat for several. Narrowing
    /// applies to existing grants at their next refresh.
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// An https URL of the logo shown on the consent page.
    #[arg(long)]
    pub logo_uri: Option<String>,
    /// Remove the logo.
    #[arg(long, conflicts_with = "logo_uri")]
    pub no_logo: bool,
    /// The ID token signing algorithm: RS256, ES256 or EdDSA.
    #[arg(long)]
    pub id_token_alg: Option<Algorithm>,
    /// A grant the client may use, authorization_code (every client has
    /// it) or device_code (RFC 8628); repeat for several. The list given
    /// replaces the registered one: `--grant authorization_code` alone
    /// turns device sign-in off.
    #[arg(long = "grant", value_name = "GRANT")]
    pub grants: Vec<ClientGrant>,
    /// Print one JSON object on stdout and nothing else.
    #[arg(long)]
    pub json: bool,
}
