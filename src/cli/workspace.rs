//! `keyflow workspace …`.

use anyhow::Context;
use serde_json::json;

use super::commands::WorkspaceCommand;
use super::table::{Table, text};
use super::{local, print_json};
use crate::clock::{Clock, SystemClock, rfc3339};
use crate::config::Settings;
use crate::domain::audit::AuditContext;
use crate::service::directory;
use crate::service::workspaces::{self, RotationOptions};

pub async fn run(cmd: WorkspaceCommand, settings: &Settings) -> anyhow::Result<()> {
    match cmd {
        WorkspaceCommand::Create { name, json } => create(settings, &name, json).await,
        WorkspaceCommand::List { json } => list(settings, json).await,
        WorkspaceCommand::RotateSecret {
            workspace,
            grace_period_seconds,
            revoke_issued_tokens,
            json,
        } => {
            let options = RotationOptions {
                grace_seconds: grace_period_seconds,
                revoke_issued_tokens,
            };
            let Some(workspace) = workspace else {
                anyhow::bail!(
                    "name the WORKSPACE (its id or name), unless --url names a remote keyflow"
                );
            };
            rotate_secret(settings, &workspace, options, json).await
        }
        WorkspaceCommand::AllowAppkeyOnly {
            workspace,
            off,
            json,
        } => allow_appkey_only(settings, &workspace, !off, json).await,
        WorkspaceCommand::Show { .. } => anyhow::bail!(
            "workspace show needs --url: it reads the application token through a keyflow's \
             /v1 API"
        ),
    }
}

async fn create(settings: &Settings, name: &str, as_json: bool) -> anyhow::Result<()> {
    let super::Local { store, master } = local(settings).await?;
    let now = SystemClock.now();
    let created = workspaces::Workspaces::new(store.as_ref(), &master.secret_hasher())
        .create(name, now, &AuditContext::cli())
        .await
        .context("--name")?;
    let ws = &created.workspace;
    let api_url = settings.api_url.render(&settings.issuer, &ws.id);
    if as_json {
        print_json(&json!({
            "workspaceId": ws.id,
            "apiUrl": api_url,
            "applicationKey": created.application_key,
            "secretKey": created.secret_key.expose(),
            "lastRotatedAt": rfc3339(now),
        }));
    } else {
        println!("Workspace        {} ({})", ws.id, ws.name);
        println!("API URL          {api_url}");
        println!("Application key  {}", created.application_key);
        println!("Secret key       {}", created.secret_key.expose());
        println!();
        println!("The secret key is shown this once; keyflow stores only a hash of it.");
    }
    Ok(())
}

async fn rotate_secret(
    settings: &Settings,
    workspace: &str,
    options: RotationOptions,
    as_json: bool,
) -> anyhow::Result<()> {
    let super::Local { store, master } = local(settings).await?;
    let workspace = directory::workspace(store.as_ref(), workspace).await?;
    let workspace_id = workspace.id.as_str();
    let rotated = workspaces::Workspaces::new(store.as_ref(), &master.secret_hasher())
        .rotate_secret(
            workspace_id,
            options,
            SystemClock.now(),
            &AuditContext::cli(),
        )
        .await
        .with_context(|| format!("workspace {workspace_id}"))?;
    if as_json {
        print_json(&json!({
            "applicationKey": rotated.application_key,
            "secretKey": rotated.secret_key.expose(),
            "lastRotatedAt": rfc3339(rotated.rotated_at),
            "previousSecretExpiresAt": rfc3339(rotated.previous_expires_at),
        }));
    } else {
        println!("Application key  {}", rotated.application_key);
        println!("Secret key       {}", rotated.secret_key.expose());
        println!(
            "Previous secret  stops working at {}",
            rfc3339(rotated.previous_expires_at)
        );
        println!();
        println!("The secret key is shown this once; keyflow stores only a hash of it.");
    }
    Ok(())
}

async fn list(settings: &Settings, as_json: bool) -> anyhow::Result<()> {
    let store = local(settings).await?.store;
    let mut rows = Vec::new();
    for (ws, app) in directory::workspaces(store.as_ref()).await? {
        rows.push(json!({
            "workspaceId": ws.id,
            "name": ws.name,
            "apiUrl": settings.api_url.render(&settings.issuer, &ws.id),
            "applicationKey": app.as_ref().map(|a| a.client_id.clone()),
            "lastRotatedAt": app.as_ref().and_then(|a| a.secret_rotated_at).map(rfc3339),
            "createdAt": rfc3339(ws.created_at),
        }));
    }
    if as_json {
        print_json(&json!({ "workspaces": rows }));
    } else {
        let mut table = Table::new(["WORKSPACE", "APPLICATION KEY", "SECRET ROTATED", "NAME"]);
        for r in &rows {
            table.row([
                text(&r["workspaceId"]),
                text(&r["applicationKey"]),
                text(&r["lastRotatedAt"]),
                text(&r["name"]),
            ]);
        }
        table.print();
    }
    Ok(())
}

/// Lets (or stops letting) old integrations authenticate with the
/// application key alone on the legacy `appkey` path. Weaker than sending
/// the secret key too, so it is off unless an operator turns it on.
async fn allow_appkey_only(
    settings: &Settings,
    workspace: &str,
    allow: bool,
    as_json: bool,
) -> anyhow::Result<()> {
    let super::Local { store, master } = local(settings).await?;
    let workspace = directory::workspace(store.as_ref(), workspace).await?;
    let workspace_id = workspace.id.as_str();
    workspaces::Workspaces::new(store.as_ref(), &master.secret_hasher())
        .set_allow_appkey_only(workspace_id, allow, SystemClock.now(), &AuditContext::cli())
        .await
        .with_context(|| format!("workspace {workspace_id}"))?;
    if as_json {
        print_json(&json!({ "workspaceId": workspace_id, "allowAppkeyOnly": allow }));
    } else if allow {
        println!(
            "Workspace {workspace_id} now accepts the application key alone on the legacy appkey path."
        );
    } else {
        println!("Workspace {workspace_id} now requires the secret key on the legacy appkey path.");
    }
    Ok(())
}
