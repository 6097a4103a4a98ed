//! `keyflow user …`.

use std::io::BufRead;

use anyhow::{Context, bail};
use serde_json::json;

use super::{open_store, print_json};
use crate::accounts::{self, NewUser};
use crate::clock::{Clock, SystemClock};
use crate::config::{Settings, UserCommand};
use crate::domain::audit::AuditContext;
use zeroize::Zeroizing;

pub async fn run(cmd: UserCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    match cmd {
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
    }
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
