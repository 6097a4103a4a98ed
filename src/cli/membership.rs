//! `keyflow membership …`.

use serde_json::json;

use super::commands::MembershipCommand;
use super::{local, print_json};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::domain::audit::AuditContext;
use crate::service::accounts;
use crate::service::directory;

pub async fn run(cmd: MembershipCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = local(settings).await?.store;
    match cmd {
        MembershipCommand::Remove {
            user,
            workspace,
            json,
        } => {
            let user = directory::user(store.as_ref(), &user).await?;
            let workspace = directory::workspace(store.as_ref(), &workspace).await?;
            accounts::remove_membership(
                store.as_ref(),
                &user.id,
                &workspace.id,
                SystemClock.now(),
                &AuditContext::cli(),
            )
            .await?;
            if json {
                print_json(
                    &json!({"userId": user.id, "workspaceId": workspace.id, "removed": true}),
                );
            } else {
                println!(
                    "{} is no longer a member of {} ({}); what they granted there is revoked.",
                    user.email, workspace.name, workspace.id
                );
            }
            Ok(())
        }
    }
}
