//! `keyflow workspace …`.

use serde_json::json;

use super::{load_master_key, open_store, print_json};
use crate::clock::{Clock, SystemClock, rfc3339};
use crate::config::{Settings, WorkspaceCommand};
use crate::domain::workspace::{Workspace, new_application_key, new_secret_key, new_workspace_id};
use crate::storage::NewSecret;

const MAX_NAME_CHARS: usize = 200;

pub async fn run(cmd: WorkspaceCommand, settings: &Settings) -> anyhow::Result<()> {
    match cmd {
        WorkspaceCommand::Create { name, json } => create(settings, &name, json).await,
        WorkspaceCommand::List { json } => list(settings, json).await,
    }
}

async fn create(settings: &Settings, name: &str, as_json: bool) -> anyhow::Result<()> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        anyhow::bail!("--name must be 1 to {MAX_NAME_CHARS} characters");
    }
    let store = open_store(settings).await?;
    let (master, _) = load_master_key(settings)?;
    let now = SystemClock.now();
    let workspace = Workspace {
        id: new_workspace_id(),
        name: name.to_owned(),
        created_at: now,
    };
    let application_key = new_application_key();
    let secret = new_secret_key();
    let stored = NewSecret::new(master.secret_hasher().hash(&secret));
    store.create_workspace(&workspace, &application_key, &stored).await?;
    let api_url = settings.api_url.render(&settings.issuer, &workspace.id);
    if as_json {
        print_json(&json!({
            "workspaceId": workspace.id,
            "apiUrl": api_url,
            "applicationKey": application_key,
            "secretKey": secret.expose(),
            "lastRotatedAt": rfc3339(now),
        }));
    } else {
        println!("Workspace      {} ({})", workspace.id, workspace.name);
        println!("API URL        {api_url}");
        println!("Application key  {application_key}");
        println!("Secret key       {}", secret.expose());
        println!();
        println!("The secret key is shown this once; keyflow stores only a hash of it.");
    }
    Ok(())
}

async fn list(settings: &Settings, as_json: bool) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    let mut rows = Vec::new();
    for ws in store.list_workspaces().await? {
        let app = store.application_client(&ws.id).await?;
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
        for r in rows {
            println!("{}  {}  {}", r["workspaceId"].as_str().unwrap_or(""), r["applicationKey"].as_str().unwrap_or("-"), r["name"].as_str().unwrap_or(""));
        }
    }
    Ok(())
}
