//! Configuration: flags and environment variables through clap, an optional
//! TOML file for the scope catalogue and resources, and one validation step
//! that fails at start-up with a message naming the setting.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, ValueEnum};
use serde::Deserialize;

mod auth;
mod connections;
mod limits;
mod mail;

pub use auth::{AuthArgs, AuthSettings, SignupPolicy};
pub use connections::{ConnectionArgs, ConnectionLimits};
pub use limits::ApiKeyLimits;
pub use mail::MailArgs;

use crate::crypto::signing::Algorithm;
use crate::domain::resource::ResourcePolicy;
use crate::domain::scope::{ScopeCatalogue, ScopeDefinition};
use crate::domain::workspace::ApiUrlTemplate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings every command shares, so the CLI and a running server point at
/// the same database and keys and agree on the issuer and token lifetime.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Database: `sqlite://PATH` (embedded) or `postgres://USER@HOST/DB`.
    /// `serve` and `migrate` create it; every other command needs it to exist.
    #[arg(
        long,
        env = "KEYFLOW_DATABASE_URL",
        default_value = "sqlite://keyflow.db",
        global = true
    )]
    pub database_url: String,

    /// Directory for key material (the master key), kept at mode 0700.
    #[arg(long, env = "KEYFLOW_KEYS_DIR", default_value = "keys", global = true)]
    pub keys_dir: PathBuf,

    /// Issuer identifier (RFC 8414 §2); defaults to http://<listen address>.
    #[arg(long, env = "KEYFLOW_ISSUER", global = true)]
    pub issuer: Option<String>,

    /// Template for a workspace's apiUrl; `{issuer}` and `{workspaceId}` are replaced.
    #[arg(long, env = "KEYFLOW_WORKSPACE_API_URL", default_value = ApiUrlTemplate::DEFAULT, global = true)]
    pub workspace_api_url: String,

    /// Optional TOML file with extra scopes, resources and API key rate limits.
    #[arg(long, env = "KEYFLOW_CONFIG", global = true)]
    pub config: Option<PathBuf>,

    /// Access token lifetime in seconds (60 to 86400); also how long retired
    /// signing keys stay published.
    #[arg(
        long,
        env = "KEYFLOW_ACCESS_TOKEN_TTL",
        default_value_t = 3600,
        global = true
    )]
    pub access_token_ttl: i64,

    /// Log format: text for people, json for log pipelines.
    #[arg(
        long,
        env = "KEYFLOW_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    /// Log filter in `tracing` EnvFilter syntax; `info` for serve, `warn` for other commands.
    #[arg(long, env = "KEYFLOW_LOG", global = true)]
    pub log: Option<String>,
}

/// The flags of `keyflow serve`, which only a running server reads.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KEYFLOW_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Signing algorithm for access tokens: ES256, RS256 or EdDSA.
    #[arg(long, env = "KEYFLOW_ACCESS_TOKEN_ALG", default_value = "ES256")]
    pub access_token_alg: Algorithm,

    /// Audience of tokens whose request names no `resource`; defaults to `{issuer}/v1`.
    #[arg(long, env = "KEYFLOW_DEFAULT_AUDIENCE")]
    pub default_audience: Option<String>,

    /// Resource indicators (RFC 8707) clients may request, comma-separated.
    #[arg(long = "resource", env = "KEYFLOW_RESOURCES", value_delimiter = ',')]
    pub resources: Vec<String>,

    /// PEM certificate chain; with --tls-key, keyflow serves HTTPS itself.
    #[arg(long, env = "KEYFLOW_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, env = "KEYFLOW_TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// Proxies (IP or CIDR, comma-separated) whose `X-Forwarded-Proto: https` is believed.
    #[arg(
        long = "trusted-proxy",
        env = "KEYFLOW_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Tokens a client may get per minute from the token endpoint (per node).
    #[arg(long, env = "KEYFLOW_TOKEN_RATE_LIMIT", default_value_t = 6000)]
    pub token_rate_limit: u32,

    /// Introspection requests a client (a resource server, most often) may
    /// make per minute (per node): enough for a service that introspects
    /// every request. Resource APIs using keyflow's verifier cache answers,
    /// so they need a fraction of what they serve.
    #[arg(
        long,
        env = "KEYFLOW_INTROSPECTION_RATE_LIMIT",
        default_value_t = 600_000
    )]
    pub introspection_rate_limit: u32,

    /// Days after which an application token's secret is reported as due for rotation.
    #[arg(long, env = "KEYFLOW_ROTATION_DUE_DAYS", default_value_t = 90)]
    pub rotation_due_days: i64,

    /// Days the usage counts per day and outcome (of API keys and
    /// application tokens) are kept.
    #[arg(long, env = "KEYFLOW_USAGE_RETENTION_DAYS", default_value_t = 90)]
    pub usage_retention_days: i64,

    #[command(flatten)]
    pub auth: AuthArgs,

    #[command(flatten)]
    pub mail: MailArgs,

    #[command(flatten)]
    pub connections: ConnectionArgs,
}

/// [`ServeArgs`] from the environment and defaults alone, for commands
/// other than `serve`: they render URLs with the same issuer and scopes.
#[derive(Debug, Parser)]
struct EnvironmentOnly {
    #[command(flatten)]
    serve: ServeArgs,
}

impl ServeArgs {
    pub fn from_environment() -> anyhow::Result<Self> {
        EnvironmentOnly::try_parse_from(["keyflow"])
            .map(|e| e.serve)
            .map_err(|e| anyhow::anyhow!("{}", e.to_string().trim_end()))
            .context("the KEYFLOW_* environment")
    }
}

/// The optional configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub scopes: Vec<ScopeDefinition>,
    #[serde(default)]
    pub resources: ResourcesSection,
    /// Default API key rate limits per key type.
    #[serde(default)]
    pub api_key_rate_limits: Option<ApiKeyLimits>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourcesSection {
    pub default_audience: Option<String>,
    #[serde(default)]
    pub allowed: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub issuer: String,
    pub database_url: String,
    pub keys_dir: PathBuf,
    pub listen: SocketAddr,
    pub api_url: ApiUrlTemplate,
    pub scopes: ScopeCatalogue,
    pub resources: ResourcePolicy,
    pub access_token_ttl: i64,
    pub access_token_alg: Algorithm,
    pub tls: Option<TlsFiles>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub rotation_due_days: i64,
    pub usage_retention_days: i64,
    pub token_rate_limit: u32,
    pub introspection_rate_limit: u32,
    /// Default API key limits per key type.
    pub api_key_limits: ApiKeyLimits,
    pub auth: AuthSettings,
    pub connections: ConnectionLimits,
    /// Outgoing email, when SMTP is configured.
    pub mail: Option<crate::mail::Mailer>,
}

/// Requests per minute an API key may make, by key type; keys may override.
impl Settings {
    /// Retired signing keys stay published this long: the longest token
    /// lifetime plus a margin for clock skew and caches.
    pub fn key_publish_window(&self) -> i64 {
        self.access_token_ttl + 300
    }

    pub fn from_args(args: &GlobalArgs, serve: &ServeArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => load_file(path)?,
            None => ConfigFile::default(),
        };
        let issuer = validate_issuer(
            args.issuer
                .clone()
                .unwrap_or_else(|| default_issuer(serve.listen)),
        )
        .context("--issuer / KEYFLOW_ISSUER")?;
        let api_url = ApiUrlTemplate::new(&args.workspace_api_url, &issuer)
            .map_err(anyhow::Error::msg)
            .context("--workspace-api-url / KEYFLOW_WORKSPACE_API_URL")?;
        let scopes = ScopeCatalogue::new(file.scopes).context("config file: [[scopes]]")?;
        if !(60..=86_400).contains(&args.access_token_ttl) {
            bail!(
                "--access-token-ttl / KEYFLOW_ACCESS_TOKEN_TTL must be between 60 and 86400 seconds"
            );
        }
        let resources = resource_policy(serve, file.resources, &issuer)?;
        if serve.introspection_rate_limit == 0 {
            bail!(
                "--introspection-rate-limit / KEYFLOW_INTROSPECTION_RATE_LIMIT must be at least 1 per minute"
            );
        }
        if serve.token_rate_limit == 0 {
            bail!("--token-rate-limit / KEYFLOW_TOKEN_RATE_LIMIT must be at least 1 per minute");
        }
        if !(1..=3650).contains(&serve.rotation_due_days) {
            bail!("--rotation-due-days / KEYFLOW_ROTATION_DUE_DAYS must be between 1 and 3650");
        }
        if !(1..=3650).contains(&serve.usage_retention_days) {
            bail!(
                "--usage-retention-days / KEYFLOW_USAGE_RETENTION_DAYS must be between 1 and 3650"
            );
        }
        let tls = tls_files(serve)?;
        Ok(Self {
            database_url: args.database_url.clone(),
            keys_dir: args.keys_dir.clone(),
            listen: serve.listen,
            api_url,
            scopes,
            resources,
            access_token_ttl: args.access_token_ttl,
            access_token_alg: serve.access_token_alg,
            tls,
            trusted_proxies: serve.trusted_proxies.clone(),
            rotation_due_days: serve.rotation_due_days,
            usage_retention_days: serve.usage_retention_days,
            token_rate_limit: serve.token_rate_limit,
            introspection_rate_limit: serve.introspection_rate_limit,
            api_key_limits: file.api_key_rate_limits.unwrap_or_default(),
            auth: AuthSettings::from_args(&serve.auth)?,
            connections: ConnectionLimits::from_args(&serve.connections)?,
            mail: mail::mailer(&serve.mail, &issuer)?,
            issuer,
        })
    }

    /// Whether plain-HTTP requests must be refused: the issuer promises
    /// HTTPS and keyflow is not terminating TLS itself.
    pub fn requires_forwarded_https(&self) -> bool {
        self.issuer.starts_with("https://") && self.tls.is_none()
    }

    /// Cookies are `Secure` when the issuer is https.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }
}

/// RFC 8707 §2: every resource keyflow may mint tokens for is an absolute
/// URI without a fragment.
fn resource_policy(
    serve: &ServeArgs,
    file: ResourcesSection,
    issuer: &str,
) -> anyhow::Result<ResourcePolicy> {
    let default_audience = serve
        .default_audience
        .clone()
        .or(file.default_audience)
        .unwrap_or_else(|| format!("{issuer}/v1"));
    let mut allowed = file.allowed;
    allowed.extend(serve.resources.iter().cloned());
    for r in std::iter::once(&default_audience).chain(&allowed) {
        match url::Url::parse(r) {
            Ok(u) if u.fragment().is_none() => {}
            _ => bail!(
                "resource {r:?} (--resource / --default-audience / config file) must be an absolute URI without a fragment (RFC 8707 §2)"
            ),
        }
    }
    Ok(ResourcePolicy::new(default_audience, allowed))
}

fn tls_files(serve: &ServeArgs) -> anyhow::Result<Option<TlsFiles>> {
    match (&serve.tls_cert, &serve.tls_key) {
        (Some(cert), Some(key)) => Ok(Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        })),
        (None, None) => Ok(None),
        _ => bail!(
            "--tls-cert and --tls-key (KEYFLOW_TLS_CERT, KEYFLOW_TLS_KEY) must be given together"
        ),
    }
}

fn load_file(path: &Path) -> anyhow::Result<ConfigFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
}

fn default_issuer(listen: SocketAddr) -> String {
    let ip = if listen.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        listen.ip()
    };
    format!("http://{}", SocketAddr::new(ip, listen.port()))
}

/// RFC 8414 §2: an https URL with no query or fragment. Plain http is
/// accepted only for a loopback host, for development.
pub fn validate_issuer(raw: String) -> anyhow::Result<String> {
    let url = url::Url::parse(&raw).with_context(|| format!("{raw:?} is not a URL"))?;
    if url.query().is_some() || url.fragment().is_some() {
        bail!("{raw:?} must not have a query or fragment (RFC 8414 §2)");
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&url) => {}
        "http" => bail!("{raw:?} must use https; plain http is only allowed for a loopback issuer"),
        other => bail!("{raw:?} has scheme {other:?}; use https"),
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        // RFC 6761 §6.3: localhost and its subdomains are loopback.
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests;
