//! `keyflow apikey …`. The operator holds every scope an application may.

use std::sync::Arc;

use anyhow::Context;
use serde_json::json;

use super::{load_master_key, open_store, print_json};
use crate::api_keys::{ApiKeys, Creator, NewKey};
use crate::clock::{SystemClock, rfc3339};
use crate::config::{ApikeyCommand, Settings};
use crate::domain::audit::AuditContext;
use crate::domain::scope::ScopeSet;

pub async fn run(cmd: ApikeyCommand, settings: &Settings) -> anyhow::Result<()> {
    let ApikeyCommand::Create {
        workspace,
        name,
        key_type,
        scopes,
        expires_at,
        json: as_json,
    } = cmd;
    let store = open_store(settings).await?;
    if store.get_workspace(&workspace).await?.is_none() {
        anyhow::bail!("--workspace {workspace}: no such workspace");
    }
    let (master, _) = load_master_key(settings)?;
    let keys = ApiKeys::new(
        store,
        master.secret_hasher(),
        Arc::new(SystemClock),
        settings.scopes.clone(),
    );
    let expires_at = expires_at
        .map(|t| {
            time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                .map(|d| d.unix_timestamp())
                .context("--expires-at must be an RFC 3339 time")
        })
        .transpose()?;
    let new = NewKey {
        name,
        key_type: key_type
            .parse()
            .map_err(anyhow::Error::msg)
            .context("--type")?,
        scopes: ScopeSet::parse(&scopes.join(" ")).context("--scope")?,
        expires_at,
        rate_limits: None,
    };
    let creator = Creator {
        id: "cli".into(),
        scopes: settings.scopes.application_scopes(),
        audit: AuditContext::cli(),
    };
    let made = keys.create(&workspace, new, &creator).await?;
    let r = &made.record;
    if as_json {
        print_json(&json!({
            "id": r.id, "key": made.key.expose(), "name": r.name, "type": r.key_type,
            "prefix": r.prefix, "scopes": r.scopes, "expiresAt": r.expires_at.map(rfc3339),
        }));
    } else {
        println!("API key  {}", made.key.expose());
        println!("Prefix   {} ({}, {})", r.prefix, r.key_type, r.scopes);
        println!();
        println!("The key is shown this once; keyflow stores only a hash of it.");
    }
    Ok(())
}
