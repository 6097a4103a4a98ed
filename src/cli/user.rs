//! `keyflow user …`.

use std::io::BufRead;

use anyhow::{Context, bail};
use serde_json::json;

use super::commands::UserCommand;
use super::table::{Table, text};
use super::{local, print_json, resolve_user, resolve_workspace};
use crate::clock::{Clock, SystemClock, rfc3339};
use crate::config::Settings;
use crate::domain::audit::AuditContext;
use crate::service::accounts::{self, NewUser};
use crate::storage::Store;
use zeroize::Zeroizing;

pub async fn run(cmd: UserCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = local(settings).await?.store;
    match cmd {
        UserCommand::List { json } => list(store.as_ref(), json).await,
        UserCommand::Create {
            email,
            password_stdin,
            name,
            workspace,
            role,
            json,
        } => {
            if !password_stdin {
                bail!("pass the password on standard input with --password-stdin");
            }
            let password = read_password()?;
            let workspace = match workspace {
                Some(w) => Some(resolve_workspace(store.as_ref(), &w).await?.id),
                None => None,
            };
            let new = NewUser {
                email: &email,
                password: &password,
                name: name.as_deref(),
                memberships: workspace.map(|w| (w, role)).into_iter().collect(),
            };
            let user_id =
                accounts::create_user(store.as_ref(), new, SystemClock.now(), &AuditContext::cli())
                    .await?;
            if json {
                print_json(&json!({"userId": user_id}));
            } else {
                println!("User ID  {user_id}");
            }
            Ok(())
        }
        UserCommand::AddToWorkspace {
            user,
            workspace,
            role,
            json,
        } => {
            let user = resolve_user(store.as_ref(), &user).await?.id;
            let workspace = resolve_workspace(store.as_ref(), &workspace).await?.id;
            accounts::set_membership(
                store.as_ref(),
                &user,
                &workspace,
                role,
                SystemClock.now(),
                &AuditContext::cli(),
            )
            .await?;
            if json {
                print_json(
                    &json!({"userId": user, "workspaceId": workspace, "role": role.as_str()}),
                );
            } else {
                println!("{user} is now {role} of {workspace}");
            }
            Ok(())
        }
        UserCommand::Disable { user, json } => {
            let user = resolve_user(store.as_ref(), &user).await?;
            let now = SystemClock.now();
            accounts::disable_user(store.as_ref(), &user.id, now, &AuditContext::cli()).await?;
            if json {
                print_json(&json!({"userId": user.id, "disabledAt": rfc3339(now)}));
            } else {
                println!(
                    "{} ({}) is disabled: signed out, and every grant they made is revoked.",
                    user.email, user.id
                );
            }
            Ok(())
        }
        UserCommand::Enable { user, json } => {
            let user = resolve_user(store.as_ref(), &user).await?;
            accounts::enable_user(
                store.as_ref(),
                &user.id,
                SystemClock.now(),
                &AuditContext::cli(),
            )
            .await?;
            if json {
                print_json(&json!({"userId": user.id, "disabledAt": null}));
            } else {
                println!("{} ({}) can sign in again.", user.email, user.id);
            }
            Ok(())
        }
    }
}

async fn list(store: &dyn Store, as_json: bool) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for u in store.list_users().await? {
        let memberships: Vec<_> = store
            .memberships(&u.id)
            .await?
            .into_iter()
            .map(|m| {
                json!({
                    "workspaceId": m.workspace_id,
                    "workspaceName": m.workspace_name,
                    "role": m.role.as_str(),
                })
            })
            .collect();
        rows.push(json!({
            "userId": u.id,
            "email": u.email,
            "name": u.name,
            "createdAt": rfc3339(u.created_at),
            "disabledAt": u.disabled_at.map(rfc3339),
            "memberships": memberships,
        }));
    }
    if as_json {
        print_json(&json!({ "users": rows }));
        return Ok(());
    }
    let mut table = Table::new(["USER", "EMAIL", "STATUS", "CREATED", "WORKSPACES", "NAME"]);
    for r in &rows {
        let workspaces: Vec<String> = r["memberships"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| format!("{}:{}", text(&m["workspaceName"]), text(&m["role"])))
            .collect();
        table.row([
            text(&r["userId"]),
            text(&r["email"]),
            if r["disabledAt"].is_null() {
                "active".to_owned()
            } else {
                "disabled".to_owned()
            },
            text(&r["createdAt"]),
            if workspaces.is_empty() {
                "-".to_owned()
            } else {
                workspaces.join(",")
            },
            text(&r["name"]),
        ]);
    }
    table.print();
    Ok(())
}

/// The first line of stdin, without its line ending.
fn read_password() -> anyhow::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
    if trimmed.is_empty() {
        bail!("standard input held no password");
    }
    Ok(trimmed)
}
