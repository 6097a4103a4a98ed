//! The `keyflow` command line.

mod apikey;
mod client;
mod keys;
mod resource_server;
mod serve;
mod user;
mod workspace;

use std::sync::Arc;

use anyhow::Context;

use crate::config::{Cli, Command, LogFormat, Settings};
use crate::crypto::master_key::{MasterKey, MasterKeySource};
use crate::storage::{self, Store};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let serving = matches!(cli.command, None | Some(Command::Serve));
    init_logging(cli.global.log_format, cli.global.log.as_deref(), serving);
    let settings = Settings::from_args(&cli.global)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::run(settings).await,
        Command::Migrate => {
            open_store(&settings).await?;
            eprintln!(
                "migrations applied to {}",
                storage::redact_url(&settings.database_url)
            );
            Ok(())
        }
        Command::Workspace(cmd) => workspace::run(cmd, &settings).await,
        Command::Keys(cmd) => keys::run(cmd, &settings).await,
        Command::ResourceServer(cmd) => resource_server::run(cmd, &settings).await,
        Command::Apikey(args) => apikey::run(args, &settings).await,
        Command::User(cmd) => user::run(cmd, &settings).await,
        Command::Client(cmd) => client::run(cmd, &settings).await,
    }
}

/// Logs go to stderr, so `--json` output on stdout stays one clean object.
fn init_logging(format: LogFormat, filter: Option<&str>, serving: bool) {
    let filter = filter.unwrap_or(if serving { "info" } else { "warn" });
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

pub(crate) async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    storage::connect(&settings.database_url)
        .await
        .with_context(|| {
            format!(
                "opening database {}",
                storage::redact_url(&settings.database_url)
            )
        })
}

pub(crate) fn load_master_key(settings: &Settings) -> anyhow::Result<(MasterKey, MasterKeySource)> {
    let env = std::env::var("KEYFLOW_MASTER_KEY")
        .ok()
        .filter(|v| !v.is_empty());
    MasterKey::load_or_create(env.as_deref(), &settings.keys_dir).context("loading the master key")
}

/// Prints one JSON object on stdout.
fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string(value).expect("JSON serializes"));
}
