//! `keyflow member …` and `keyflow invitation …`: a workspace's people,
//! only on a remote keyflow.

use anyhow::Context;
use reqwest::Method;
use serde_json::{Value, json};

use super::Remote;
use super::manage::{connect, emit, fields, workspace};
use crate::cli::commands::{InvitationCommand, MemberCommand, RemoteArgs};
use crate::cli::table::{Table, text};

pub(crate) async fn members(cmd: MemberCommand, args: &RemoteArgs) -> anyhow::Result<()> {
    let mut r = connect(args, "member").await?;
    match cmd {
        MemberCommand::List {
            workspace: ws,
            json,
        } => {
            let path = members_path(&mut r, ws.as_deref()).await?;
            let v = r.get(&path, &[]).await?;
            emit(&v, json, print_members);
        }
        MemberCommand::ChangeRole {
            user,
            role,
            workspace: ws,
            json,
        } => {
            let path = members_path(&mut r, ws.as_deref()).await?;
            let id = user_id(&mut r, &path, &user).await?;
            let body = json!({ "role": role.as_str() });
            let v = r
                .send(Method::PATCH, &format!("{path}/{id}"), Some(body))
                .await?;
            emit(&v, json, |m| {
                println!(
                    "{} is now {} of the workspace.",
                    text(&m["email"]),
                    text(&m["role"])
                );
            });
        }
        MemberCommand::Remove {
            user,
            workspace: ws,
            json,
        } => {
            let path = members_path(&mut r, ws.as_deref()).await?;
            let id = user_id(&mut r, &path, &user).await?;
            r.send(Method::DELETE, &format!("{path}/{id}"), None)
                .await?;
            let v = json!({ "userId": id, "removed": true });
            emit(&v, json, |_| println!("{user} is no longer a member."));
        }
    }
    Ok(())
}

async fn members_path(r: &mut Remote, given: Option<&str>) -> anyhow::Result<String> {
    let ws = workspace(r, given).await?;
    Ok(format!("/v1/workspace/{ws}/members"))
}

/// A member's user id from an id or an email address.
async fn user_id(r: &mut Remote, members: &str, user: &str) -> anyhow::Result<String> {
    if !user.contains('@') {
        return Ok(user.to_owned());
    }
    let listed = r.get(members, &[]).await?;
    listed["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| {
            m["email"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(user))
        })
        .and_then(|m| m["userId"].as_str().map(str::to_owned))
        .with_context(|| format!("{user} is not a member of the workspace"))
}

fn print_members(v: &Value) {
    let mut table = Table::new(["USER", "EMAIL", "ROLE", "JOINED", "NAME"]);
    for m in v["items"].as_array().into_iter().flatten() {
        table.row([
            text(&m["userId"]),
            text(&m["email"]),
            text(&m["role"]),
            text(&m["joinedAt"]),
            text(&m["name"]),
        ]);
    }
    table.print();
}

pub(crate) async fn invitations(cmd: InvitationCommand, args: &RemoteArgs) -> anyhow::Result<()> {
    let mut r = connect(args, "invitation").await?;
    match cmd {
        InvitationCommand::List {
            workspace: ws,
            json,
        } => {
            let path = invitations_path(&mut r, ws.as_deref()).await?;
            let v = r.get(&path, &[]).await?;
            emit(&v, json, print_invitations);
        }
        InvitationCommand::Create {
            email,
            role,
            workspace: ws,
            json,
        } => {
            let path = invitations_path(&mut r, ws.as_deref()).await?;
            let body = json!({ "email": email, "role": role.as_str() });
            let v = r.send(Method::POST, &path, Some(body)).await?;
            emit(&v, json, print_invited);
        }
        InvitationCommand::Revoke {
            id,
            workspace: ws,
            json,
        } => {
            let path = invitations_path(&mut r, ws.as_deref()).await?;
            r.send(Method::DELETE, &format!("{path}/{id}"), None)
                .await?;
            let v = json!({ "id": id, "revoked": true });
            emit(&v, json, |_| {
                println!("{id} is revoked; its link no longer works.")
            });
        }
    }
    Ok(())
}

async fn invitations_path(r: &mut Remote, given: Option<&str>) -> anyhow::Result<String> {
    let ws = workspace(r, given).await?;
    Ok(format!("/v1/workspace/{ws}/invitations"))
}

fn print_invitations(v: &Value) {
    let mut table = Table::new(["ID", "EMAIL", "ROLE", "CREATED", "EXPIRES"]);
    for i in v["items"].as_array().into_iter().flatten() {
        table.row([
            text(&i["id"]),
            text(&i["email"]),
            text(&i["role"]),
            text(&i["createdAt"]),
            text(&i["expiresAt"]),
        ]);
    }
    table.print();
}

fn print_invited(v: &Value) {
    fields(&[
        ("Invitation", &v["id"]),
        ("Email", &v["email"]),
        ("Role", &v["role"]),
        ("Expires", &v["expiresAt"]),
        ("Link", &v["invitationUrl"]),
    ]);
    println!();
    println!("The link is shown this once; send it to the person invited.");
}
