//! `keyflow workspace …` with `--url`: `/v1/workspaces` and a workspace's
//! application token.

use reqwest::Method;
use serde_json::{Value, json};

use super::manage::{connect, emit, fields, not_remote, workspace};
use crate::cli::commands::{RemoteArgs, WorkspaceCommand};
use crate::cli::table::{Table, text};

pub(crate) async fn run(cmd: WorkspaceCommand, args: &RemoteArgs) -> anyhow::Result<()> {
    if let WorkspaceCommand::AllowAppkeyOnly { .. } = cmd {
        return Err(not_remote("workspace allow-appkey-only"));
    }
    let mut r = connect(args, "workspace").await?;
    match cmd {
        WorkspaceCommand::List { json } => {
            let v = r.get("/v1/workspaces", &[]).await?;
            emit(&v, json, print_list);
        }
        WorkspaceCommand::Create { name, json } => {
            let body = json!({ "name": name });
            let v = r.send(Method::POST, "/v1/workspaces", Some(body)).await?;
            emit(&v, json, print_created);
        }
        WorkspaceCommand::Show {
            workspace: ws,
            json,
        } => {
            let ws = workspace(&mut r, ws.as_deref()).await?;
            let path = format!("/v1/workspace/{ws}/application-token");
            let v = r.get(&path, &[]).await?;
            emit(&v, json, print_token);
        }
        WorkspaceCommand::RotateSecret {
            workspace: ws,
            grace_period_seconds,
            revoke_issued_tokens,
            json,
        } => {
            let ws = workspace(&mut r, ws.as_deref()).await?;
            let path = format!("/v1/workspace/{ws}/application-token/regenerate");
            let body = json!({
                "gracePeriodSeconds": grace_period_seconds,
                "revokeIssuedTokens": revoke_issued_tokens,
            });
            let v = r.send(Method::POST, &path, Some(body)).await?;
            emit(&v, json, print_rotated);
        }
        // Refused above, before any credential is looked for.
        WorkspaceCommand::AllowAppkeyOnly { .. } => {
            return Err(not_remote("workspace allow-appkey-only"));
        }
    }
    Ok(())
}

fn print_list(v: &Value) {
    let mut table = Table::new(["ID", "NAME", "ROLE"]);
    for w in v["items"].as_array().into_iter().flatten() {
        table.row([text(&w["workspaceId"]), text(&w["name"]), text(&w["role"])]);
    }
    table.print();
}

fn print_created(v: &Value) {
    fields(&[
        ("Workspace", &v["workspaceId"]),
        ("Name", &v["name"]),
        ("API URL", &v["apiUrl"]),
        ("Application key", &v["applicationKey"]),
        ("Secret key", &v["secretKey"]),
    ]);
    println!();
    println!("The secret key is shown this once; keyflow stores only a hash of it.");
}

fn print_token(v: &Value) {
    fields(&[
        ("Workspace", &v["workspaceId"]),
        ("API URL", &v["apiUrl"]),
        ("Application key", &v["applicationKey"]),
        ("Last rotated", &v["lastRotatedAt"]),
        ("Rotation due", &v["rotationDue"]),
    ]);
    let previous = v["previousSecrets"].as_array().cloned().unwrap_or_default();
    if !previous.is_empty() {
        println!();
        let mut table = Table::new(["OLDER SECRET CREATED", "EXPIRES", "LAST USED"]);
        for p in &previous {
            table.row([
                text(&p["createdAt"]),
                text(&p["expiresAt"]),
                text(&p["lastUsedAt"]),
            ]);
        }
        table.print();
    }
}

fn print_rotated(v: &Value) {
    fields(&[
        ("Application key", &v["applicationKey"]),
        ("Secret key", &v["secretKey"]),
        ("Previous secret stops", &v["previousSecretExpiresAt"]),
    ]);
    println!();
    println!("The secret key is shown this once; keyflow stores only a hash of it.");
}
