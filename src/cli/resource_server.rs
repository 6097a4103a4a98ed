//! `keyflow resource-server …`.

use serde_json::json;

use super::table::{Table, text};
use super::{confirmed, local, print_deleted, print_json, print_rotated_client};
use crate::clock::{Clock, SystemClock, rfc3339};
use crate::config::{ResourceServerCommand, Settings};
use crate::domain::audit::AuditContext;
use crate::integrations;
use crate::storage::ClientKind;
use crate::workspaces;
use crate::workspaces::RotationOptions;

pub async fn run(cmd: ResourceServerCommand, settings: &Settings) -> anyhow::Result<()> {
    match cmd {
        ResourceServerCommand::List { json } => {
            let store = local(settings).await?.store;
            let rows: Vec<_> = store
                .list_clients(ClientKind::ResourceServer)
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
        ResourceServerCommand::RotateSecret {
            client,
            grace_period_seconds,
            revoke_issued_tokens,
            json,
        } => {
            let super::Local { store, master } = local(settings).await?;
            let options = RotationOptions {
                grace_seconds: grace_period_seconds,
                revoke_issued_tokens,
            };
            let rotated = crate::workspaces::rotate_client_secret(
                store.as_ref(),
                &master.secret_hasher(),
                &client,
                options,
                SystemClock.now(),
                &AuditContext::cli(),
            )
            .await?;
            print_rotated_client(&rotated, json);
            Ok(())
        }
        ResourceServerCommand::Delete { client, yes, json } => {
            confirmed(yes, &client)?;
            let store = local(settings).await?.store;
            integrations::delete_client(
                store.as_ref(),
                &client,
                ClientKind::ResourceServer,
                SystemClock.now(),
                &AuditContext::cli(),
            )
            .await?;
            print_deleted(&client, json);
            Ok(())
        }
        ResourceServerCommand::Create { name, json } => {
            let super::Local { store, master } = local(settings).await?;
            let created = workspaces::create_resource_server(
                store.as_ref(),
                &master.secret_hasher(),
                &name,
                SystemClock.now(),
                &AuditContext::cli(),
            )
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
                    "The secret is shown this once. Use it to call the introspection endpoint."
                );
            }
            Ok(())
        }
    }
}
