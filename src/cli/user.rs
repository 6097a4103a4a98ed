//! `keyflow user …`.

use std::io::BufRead;

use anyhow::{Context, bail};
use serde_json::json;

use super::commands::UserCommand;
use super::table::{Table, text};
use super::{local, print_json};
use crate::clock::{Clock, SystemClock, rfc3339};
use crate::config::Settings;
use crate::domain::audit::AuditContext;
use crate::domain::user::Role;
use crate::service::accounts::{self, NewUser};
use crate::service::directory;
use crate::storage::Store;
use zeroize::Zeroizing;

pub async fn run(cmd: UserCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = local(settings).await?.store;
    let store = store.as_ref();
    match cmd {
        UserCommand::List { json } => list(store, json).await,
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
            let workspace = match workspace {
                Some(w) => Some(directory::workspace(store, &w).await?.id),
                None => None,
            };
            let new = NewUser {
                email: &email,
                password: &read_password()?,
                name: name.as_deref(),
                memberships: workspace.map(|w| (w, role)).into_iter().collect(),
            };
            let user_id =
                accounts::create_user(store, new, SystemClock.now(), &AuditContext::cli()).await?;
            say(
                json,
                json!({"userId": user_id}),
                format!("User ID  {user_id}"),
            );
            Ok(())
        }
        UserCommand::AddToWorkspace {
            user,
            workspace,
            role,
            json,
        } => add_to_workspace(store, &user, &workspace, role, json).await,
        UserCommand::Disable { user, json } => disable(store, &user, json).await,
        UserCommand::Enable { user, json } => {
            let user = directory::user(store, &user).await?;
            accounts::enable_user(store, &user.id, SystemClock.now(), &AuditContext::cli()).await?;
            let line = format!("{} ({}) can sign in again.", user.email, user.id);
            say(json, json!({"userId": user.id, "disabledAt": null}), line);
            Ok(())
        }
    }
}

/// Prints `value` with `--json`, else `line`.
fn say(as_json: bool, value: serde_json::Value, line: String) {
    if as_json {
        print_json(&value);
    } else {
        println!("{line}");
    }
}

async fn add_to_workspace(
    store: &dyn Store,
    user: &str,
    workspace: &str,
    role: Role,
    as_json: bool,
) -> anyhow::Result<()> {
    let user = directory::user(store, user).await?.id;
    let workspace = directory::workspace(store, workspace).await?.id;
    let now = SystemClock.now();
    accounts::set_membership(store, &user, &workspace, role, now, &AuditContext::cli()).await?;
    let value = json!({"userId": user, "workspaceId": workspace, "role": role.as_str()});
    say(
        as_json,
        value,
        format!("{user} is now {role} of {workspace}"),
    );
    Ok(())
}

async fn disable(store: &dyn Store, user: &str, as_json: bool) -> anyhow::Result<()> {
    let user = directory::user(store, user).await?;
    let now = SystemClock.now();
    accounts::disable_user(store, &user.id, now, &AuditContext::cli()).await?;
    let line = format!(
        "{} ({}) is disabled: signed out, and every grant they made is revoked.",
        user.email, user.id
    );
    say(
        as_json,
        json!({"userId": user.id, "disabledAt": rfc3339(now)}),
        line,
    );
    Ok(())
}

async fn list(store: &dyn Store, as_json: bool) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for (u, memberships) in directory::users(store).await? {
        let memberships: Vec<_> = memberships
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
