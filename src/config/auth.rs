//! Settings of the user-facing flows: sessions, refresh tokens and who
//! may sign up.

use anyhow::bail;
use clap::{Args, ValueEnum};

/// Who may create an account in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignupPolicy {
    /// Anyone may sign up.
    Open,
    /// Only people holding an invitation into a workspace.
    Invite,
    /// Nobody: accounts come from the CLI or a platform admin.
    Closed,
}

#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// How long a browser stays signed in, in seconds (300 to 2592000).
    #[arg(
        long,
        env = "KEYFLOW_SESSION_TTL",
        default_value_t = 12 * 3600
    )]
    pub session_ttl: i64,

    /// Refresh token lifetime in seconds; each rotation starts a new one (3600 to 31536000).
    #[arg(
        long,
        env = "KEYFLOW_REFRESH_TOKEN_TTL",
        default_value_t = 30 * 86_400
    )]
    pub refresh_token_ttl: i64,

    /// Seconds a rotated refresh token still works, for clients that lost the response (0 to 60).
    #[arg(long, env = "KEYFLOW_REFRESH_REUSE_GRACE", default_value_t = 5)]
    pub refresh_reuse_grace: i64,

    /// Who may create an account in the console: open, invite (only with an invitation) or closed.
    #[arg(long, env = "KEYFLOW_SIGNUP", value_enum, default_value_t = SignupPolicy::Invite)]
    pub signup: SignupPolicy,
}

/// Validated [`AuthArgs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthSettings {
    pub session_ttl: i64,
    pub refresh_token_ttl: i64,
    pub refresh_reuse_grace: i64,
    pub signup: SignupPolicy,
}

impl AuthSettings {
    pub fn from_args(a: &AuthArgs) -> anyhow::Result<Self> {
        if !(300..=30 * 86_400).contains(&a.session_ttl) {
            bail!("--session-ttl / KEYFLOW_SESSION_TTL must be between 300 and 2592000 seconds");
        }
        if !(3600..=365 * 86_400).contains(&a.refresh_token_ttl) {
            bail!(
                "--refresh-token-ttl / KEYFLOW_REFRESH_TOKEN_TTL must be between 3600 and 31536000 seconds"
            );
        }
        if !(0..=60).contains(&a.refresh_reuse_grace) {
            bail!(
                "--refresh-reuse-grace / KEYFLOW_REFRESH_REUSE_GRACE must be between 0 and 60 seconds"
            );
        }
        Ok(Self {
            session_ttl: a.session_ttl,
            refresh_token_ttl: a.refresh_token_ttl,
            refresh_reuse_grace: a.refresh_reuse_grace,
            signup: a.signup,
        })
    }
}
