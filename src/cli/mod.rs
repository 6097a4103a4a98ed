//! The `keyflow` command line.

mod apikey;
mod client;
mod commands;
mod keys;
mod membership;
pub mod remote;
mod resource_server;
mod serve;
mod table;
mod user;
mod workspace;

use std::sync::Arc;

use anyhow::{Context, bail};

use crate::clock::{Clock, SystemClock};
pub use commands::{Cli, Command};

use crate::config::Settings;
use crate::crypto::key_check::{self, Generate};
use crate::crypto::master_key::{MasterKey, MasterKeySource};
use crate::storage::{self, OpenMode, Store};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let serving = matches!(cli.command, None | Some(Command::Serve(_)));
    crate::logging::init(cli.global.log_format, cli.global.log.as_deref(), serving);
    let settings = cli.settings()?;
    let Some(command) = cli.command else {
        return serve::run(settings).await;
    };
    match command {
        Command::Serve(_) => serve::run(settings).await,
        Command::Migrate { json } => migrate(&settings, json).await,
        Command::Workspace(cmd) if cli.remote.url.is_some() => {
            remote::workspaces::run(cmd, &cli.remote).await
        }
        Command::Workspace(cmd) => workspace::run(cmd, &settings).await,
        // Operator commands on the database: with --url they would act on
        // a local database the person did not mean, so they refuse.
        Command::Keys(_) | Command::ResourceServer(_) | Command::User(_)
            if cli.remote.url.is_some() =>
        {
            Err(remote::manage::not_remote(command.name()))
        }
        Command::Membership(_) if cli.remote.url.is_some() => Err(anyhow::anyhow!(
            "{}; remotely, `keyflow member remove` takes a member out of a workspace",
            remote::manage::not_remote("membership")
        )),
        Command::Keys(cmd) => keys::run(cmd, &settings).await,
        Command::ResourceServer(cmd) => resource_server::run(cmd, &settings).await,
        Command::Apikey(args) => apikey::run(args, &cli.remote, &settings).await,
        Command::User(cmd) => user::run(cmd, &settings).await,
        Command::Client(cmd) if cli.remote.url.is_some() => {
            remote::clients::run(cmd, &cli.remote).await
        }
        Command::Client(cmd) => client::run(cmd, &settings).await,
        Command::Membership(cmd) => membership::run(cmd, &settings).await,
        Command::Member(cmd) => remote::members::members(cmd, &cli.remote).await,
        Command::Invitation(cmd) => remote::members::invitations(cmd, &cli.remote).await,
        Command::Audit(cmd) => remote::audit::run(cmd, &cli.remote).await,
        Command::Login(args) => {
            let options = remote::login::LoginOptions {
                web: args.web,
                no_browser: args.no_browser,
                json: args.json,
            };
            remote::login::login(remote_url(&cli.remote)?, options).await
        }
        Command::Logout { json } => remote::login::logout(remote_url(&cli.remote)?, json).await,
        Command::Whoami { json } => {
            let url = remote_url(&cli.remote)?;
            let mut r = remote::Remote::from_cli(url, cli.remote.key_file.as_deref()).await?;
            remote::login::whoami(url, &mut r, json).await
        }
    }
}

/// The `--url` of a command that only works remotely.
fn remote_url(args: &commands::RemoteArgs) -> anyhow::Result<&str> {
    args.url
        .as_deref()
        .context("--url is required: the keyflow to act on, such as https://auth.example.com")
}

/// What a management command works on: the database and its master key,
/// both checked before anything is written.
pub(crate) struct Local {
    pub store: Arc<dyn Store>,
    pub master: MasterKey,
}

/// Opens an existing database and proves the master key is the one it was
/// set up with; a management command never creates either.
pub(crate) async fn local(settings: &Settings) -> anyhow::Result<Local> {
    let store = open_store(settings, OpenMode::Existing).await?;
    let (master, _) = unlock(settings, store.as_ref(), Generate::Never).await?;
    Ok(Local { store, master })
}

/// `keyflow migrate`: creates the database (and, for a new one, the master
/// key) or applies the migrations it lacks.
async fn migrate(settings: &Settings, as_json: bool) -> anyhow::Result<()> {
    let store = open_store(settings, OpenMode::Create).await?;
    let (_, source) = unlock(settings, store.as_ref(), Generate::OnEmptyDatabase).await?;
    let database = storage::redact_url(&settings.database_url);
    let (key, created) = match &source {
        MasterKeySource::Environment => ("KEYFLOW_MASTER_KEY".to_owned(), false),
        MasterKeySource::File { path, created } => (path.display().to_string(), *created),
    };
    if as_json {
        print_json(&serde_json::json!({
            "database": database,
            "masterKey": key,
            "masterKeyCreated": created,
        }));
    } else {
        println!("Database {database} is up to date; its master key is {key}.");
        if created {
            println!("The master key was created now: back it up, every node needs the same one.");
        }
    }
    Ok(())
}

/// The master key from the environment or `--keys-dir`, checked against the
/// database (see [`crate::crypto::key_check`]).
pub(crate) async fn unlock(
    settings: &Settings,
    store: &dyn Store,
    generate: Generate,
) -> anyhow::Result<(MasterKey, MasterKeySource)> {
    let env = std::env::var("KEYFLOW_MASTER_KEY")
        .ok()
        .filter(|v| !v.is_empty());
    key_check::unlock(
        store,
        &storage::redact_url(&settings.database_url),
        env.as_deref(),
        &settings.keys_dir,
        generate,
        SystemClock.now(),
    )
    .await
    .context("loading the master key")
}

pub(crate) async fn open_store(
    settings: &Settings,
    mode: OpenMode,
) -> anyhow::Result<Arc<dyn Store>> {
    storage::open(&settings.database_url, mode)
        .await
        .with_context(|| {
            format!(
                "opening database {}",
                storage::redact_url(&settings.database_url)
            )
        })
}

/// `client delete` and `resource-server delete`. Destructive commands ask
/// for `--yes`, so that a pasted line or a wrong id in shell history does
/// not delete without a second thought.
async fn delete(
    settings: &Settings,
    client_id: &str,
    kind: crate::storage::ClientKind,
    yes: bool,
    as_json: bool,
) -> anyhow::Result<()> {
    if !yes {
        bail!("deleting {client_id} cannot be undone: add --yes to confirm");
    }
    let store = local(settings).await?.store;
    crate::service::integrations::delete_client(
        store.as_ref(),
        client_id,
        kind,
        SystemClock.now(),
        &crate::domain::audit::AuditContext::cli(),
    )
    .await?;
    if as_json {
        print_json(&serde_json::json!({"clientId": client_id, "deleted": true}));
    } else {
        println!("{client_id} is deleted; no node accepts its secret any more.");
    }
    Ok(())
}

/// `client rotate-secret` and `resource-server rotate-secret`: a new
/// secret, printed once.
async fn rotate_secret(args: commands::RotateArgs, settings: &Settings) -> anyhow::Result<()> {
    use crate::clock::rfc3339;
    let Local { store, master } = local(settings).await?;
    let options = crate::service::workspaces::RotationOptions {
        grace_seconds: args.grace_period_seconds,
        revoke_issued_tokens: args.revoke_issued_tokens,
    };
    let rotated =
        crate::service::workspaces::Workspaces::new(store.as_ref(), &master.secret_hasher())
            .rotate_client_secret(
                &args.client,
                options,
                SystemClock.now(),
                &crate::domain::audit::AuditContext::cli(),
            )
            .await?;
    let as_json = args.json;
    let secret = rotated.secret_key.expose();
    if as_json {
        print_json(&serde_json::json!({
            "clientId": rotated.application_key,
            "clientSecret": secret,
            "lastRotatedAt": rfc3339(rotated.rotated_at),
            "previousSecretExpiresAt": rfc3339(rotated.previous_expires_at),
        }));
    } else {
        println!("Client ID        {}", rotated.application_key);
        println!("Client secret    {secret}");
        println!(
            "Previous secret  stops working at {}",
            rfc3339(rotated.previous_expires_at)
        );
        println!();
        println!("The secret is shown this once; keyflow stores only a hash of it.");
    }
    Ok(())
}

/// Prints one JSON object on stdout.
fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string(value).expect("JSON serializes"));
}
