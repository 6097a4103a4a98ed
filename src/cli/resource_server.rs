//! `keyflow resource-server …`.

use serde_json::json;

use super::{load_master_key, open_store, print_json};
use crate::clock::{Clock, SystemClock};
use crate::config::{ResourceServerCommand, Settings};
use crate::domain::audit::AuditContext;
use crate::workspaces;

pub async fn run(cmd: ResourceServerCommand, settings: &Settings) -> anyhow::Result<()> {
    match cmd {
        ResourceServerCommand::Create { name, json } => {
            let store = open_store(settings).await?;
            let (master, _) = load_master_key(settings)?;
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
