//! `keyflow apikey …`: on the local database (the operator holds every
//! scope an application may), or on a remote keyflow with `--url`,
//! authenticated by an API key read from a key file.

use std::sync::Arc;

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::commands::{ApikeyArgs, ApikeyCommand, RemoteArgs};
use super::print_json;
use super::remote::Remote;
use super::table::{Table, text};
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::domain::audit::AuditContext;
use crate::domain::scope::ScopeSet;
use crate::service::api_keys::{ApiKeys, Creator, NewKey};
use crate::service::directory;

pub async fn run(args: ApikeyArgs, remote: &RemoteArgs, settings: &Settings) -> anyhow::Result<()> {
    let (value, as_json) = match &remote.url {
        Some(url) => {
            let mut r = Remote::from_cli(url, remote.key_file.as_deref()).await?;
            self::remote(&mut r, args.command).await?
        }
        None => {
            needs_url(&args.command)?;
            local(args.command, settings).await?
        }
    };
    if as_json {
        print_json(&value);
    } else {
        print_human(&value);
    }
    Ok(())
}

async fn remote(r: &mut Remote, cmd: ApikeyCommand) -> anyhow::Result<(Value, bool)> {
    let workspace = match workspace_of(&cmd) {
        Some(ws) => ws.to_owned(),
        None => r.default_workspace().await?,
    };
    let keys = format!("/v1/workspace/{workspace}/api-keys");
    if let Some(answer) = super::remote::api_keys::more(r, &keys, &cmd).await? {
        return Ok(answer);
    }
    Ok(match cmd {
        ApikeyCommand::Create {
            name,
            key_type,
            scopes,
            expires_at,
            json,
            ..
        } => {
            if let Some(t) = &expires_at {
                parse_expiry(t)?;
            }
            let body = json!({
                "name": name, "type": key_type, "scopes": scopes, "expiresAt": expires_at,
            });
            (r.send(Method::POST, &keys, Some(body)).await?, json)
        }
        ApikeyCommand::List {
            prefix,
            limit,
            json,
            ..
        } => {
            let listed = super::remote::api_keys::list(r, &keys, prefix, limit).await?;
            (listed, json)
        }
        ApikeyCommand::Revoke { id, json, .. } => {
            r.send(Method::DELETE, &format!("{keys}/{id}"), None)
                .await?;
            (json!({ "revoked": true }), json)
        }
        ApikeyCommand::Usage { .. } | ApikeyCommand::Change { .. } | ApikeyCommand::Roll { .. } => {
            unreachable!("answered by remote::api_keys::more")
        }
    })
}

fn workspace_of(cmd: &ApikeyCommand) -> Option<&str> {
    match cmd {
        ApikeyCommand::Create { workspace, .. }
        | ApikeyCommand::List { workspace, .. }
        | ApikeyCommand::Revoke { workspace, .. }
        | ApikeyCommand::Usage { workspace, .. }
        | ApikeyCommand::Change { workspace, .. }
        | ApikeyCommand::Roll { workspace, .. } => workspace.as_deref(),
    }
}

/// `--expires-at`, explained once when it is not RFC 3339.
fn parse_expiry(given: &str) -> anyhow::Result<i64> {
    time::OffsetDateTime::parse(given, &time::format_description::well_known::Rfc3339)
        .map(|d| d.unix_timestamp())
        .map_err(|_| {
            anyhow::anyhow!(
                "--expires-at {given:?} is not an RFC 3339 time: give a date, a time and a \
                 zone, for example 2027-03-01T00:00:00Z"
            )
        })
}

async fn local(cmd: ApikeyCommand, settings: &Settings) -> anyhow::Result<(Value, bool)> {
    let super::Local { store, master } = super::local(settings).await?;
    let Some(given) = workspace_of(&cmd) else {
        bail!(
            "--workspace is required (the workspace's id or name), unless --url names a remote keyflow"
        );
    };
    let workspace = directory::workspace(store.as_ref(), given).await?.id;
    let keys = ApiKeys::new(
        store.clone(),
        master.secret_hasher(),
        Arc::new(SystemClock),
        settings.scopes.clone(),
    )
    .with_limits(settings.api_key_limits);
    let creator = Creator {
        id: "cli".into(),
        scopes: settings.scopes.application_scopes(),
        audit: AuditContext::cli(),
    };
    Ok(match cmd {
        ApikeyCommand::Create {
            name,
            key_type,
            scopes,
            expires_at,
            json,
            ..
        } => {
            let new = new_key(name, &key_type, &scopes, expires_at.as_deref())?;
            let made = keys.create(&workspace, new, &creator).await?;
            let mut v = keys.describe(&made.record);
            v["key"] = made.key.expose().into();
            (v, json)
        }
        ApikeyCommand::List {
            prefix,
            limit,
            json,
            ..
        } => {
            let items: Vec<Value> = keys
                .list(&workspace, prefix.as_deref())
                .await?
                .iter()
                .take(limit.unwrap_or(usize::MAX))
                .map(|k| keys.describe(k))
                .collect();
            (json!({ "items": items }), json)
        }
        ApikeyCommand::Revoke { id, json, .. } => {
            keys.revoke(&workspace, &id, &creator).await?;
            (json!({ "revoked": true }), json)
        }
        _ => unreachable!("refused by needs_url"),
    })
}

/// `usage`, `change` and `roll` exist only in the `/v1` API.
fn needs_url(cmd: &ApikeyCommand) -> anyhow::Result<()> {
    if let ApikeyCommand::Usage { .. } | ApikeyCommand::Change { .. } | ApikeyCommand::Roll { .. } =
        cmd
    {
        bail!("apikey usage, change and roll need --url: they go through a keyflow's /v1 API");
    }
    Ok(())
}

fn new_key(
    name: String,
    key_type: &str,
    scopes: &[String],
    expires_at: Option<&str>,
) -> anyhow::Result<NewKey> {
    Ok(NewKey {
        name,
        key_type: key_type
            .parse()
            .map_err(anyhow::Error::msg)
            .context("--type")?,
        scopes: ScopeSet::parse(&scopes.join(" ")).context("--scope")?,
        expires_at: expires_at.map(parse_expiry).transpose()?,
        rate_limits: None,
    })
}

fn print_human(v: &Value) {
    if super::remote::api_keys::print_human(v) {
        return;
    }
    if let Some(key) = v["key"].as_str() {
        println!("API key  {key}");
        println!("Prefix   {}", v["prefix"].as_str().unwrap_or(""));
        println!();
        println!("The key is shown this once; keyflow stores only a hash of it.");
    } else if let Some(items) = v["items"].as_array() {
        let mut table = Table::new([
            "ID",
            "PREFIX",
            "TYPE",
            "STATUS",
            "LAST USED",
            "USES",
            "EXPIRES",
            "SCOPES",
            "NAME",
        ]);
        for k in items {
            table.row([
                text(&k["id"]),
                text(&k["prefix"]),
                text(&k["type"]),
                text(&k["status"]),
                text(&k["lastUsedAt"]),
                text(&k["usageCount"]),
                text(&k["expiresAt"]),
                text(&k["scopes"]),
                text(&k["name"]),
            ]);
        }
        table.print();
    } else if v["revoked"] == true {
        println!("revoked");
    }
}
