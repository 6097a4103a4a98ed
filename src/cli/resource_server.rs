//! `keyflow resource-server …`.

use serde_json::json;

use super::commands::ResourceServerCommand;
use super::table::{Table, text};
use super::{delete, local, print_json, rotate_secret};
use crate::clock::{Clock, SystemClock, rfc3339};
use crate::config::Settings;
use crate::domain::audit::AuditContext;
use crate::service::directory;
use crate::service::workspaces;
use crate::storage::ClientKind;

pub async fn run(cmd: ResourceServerCommand, settings: &Settings) -> anyhow::Result<()> {
    match cmd {
        ResourceServerCommand::List { json } => {
            let store = local(settings).await?.store;
            let rows: Vec<_> = directory::clients(store.as_ref(), ClientKind::ResourceServer)
                .await?
                .iter()
                .map(|c| {
                    json!({
                        "clientId": c.client_id,
                        "name": c.name,
                        "createdAt": rfc3339(c.created_at),
                        "secretRotatedAt": c.secret_rotated_at.map(rfc3339),
                        "lastUsedAt": c.last_used_at.map(rfc3339),
                    })
                })
                .collect();
            if json {
                print_json(&json!({ "resourceServers": rows }));
            } else {
                let mut table = Table::new(["CLIENT", "CREATED", "LAST USED", "NAME"]);
                for r in &rows {
                    table.row([
                        text(&r["clientId"]),
                        text(&r["createdAt"]),
                        text(&r["lastUsedAt"]),
                        text(&r["name"]),
                    ]);
                }
                table.print();
            }
            Ok(())
        }
        ResourceServerCommand::RotateSecret(args) => rotate_secret(args, settings).await,
        ResourceServerCommand::Delete { client, yes, json } => {
            delete(settings, &client, ClientKind::ResourceServer, yes, json).await
        }
        ResourceServerCommand::Create { name, json } => {
            let super::Local { store, master } = local(settings).await?;
            let created = workspaces::Workspaces::new(store.as_ref(), &master.secret_hasher())
                .create_resource_server(&name, SystemClock.now(), &AuditContext::cli())
                .await?;
            if json {
                print_json(
                    &json!({"clientId": created.client_id, "clientSecret": created.secret.expose()}),
                );
            } else {
                println!("Client ID      {}", created.client_id);
                println!("Client secret  {}", created.secret.expose());
                println!();
                println!(
                    "The secret is shown this once. A resource API runs with it as\n\
                     RESOURCE_SERVER_ID and RESOURCE_SERVER_SECRET (docs/resource-servers.md)."
                );
            }
            Ok(())
        }
    }
}
