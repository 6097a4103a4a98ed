//! `keyflow client list|create|rotate-secret` with `--url`: third-party
//! clients through `/v1/clients`, for platform administrators.

use reqwest::Method;
use serde_json::{Value, json};

use super::manage::{connect, emit, fields, not_remote};
use crate::cli::commands::{ClientCommand, RemoteArgs};
use crate::cli::table::{Table, text};

pub(crate) async fn run(cmd: ClientCommand, args: &RemoteArgs) -> anyhow::Result<()> {
    match &cmd {
        ClientCommand::Show { .. } => return Err(not_remote("client show")),
        ClientCommand::Update(_) => return Err(not_remote("client update")),
        ClientCommand::Delete { .. } => return Err(not_remote("client delete")),
        _ => {}
    }
    let mut r = connect(args, "client").await?;
    match cmd {
        ClientCommand::List { json } => {
            let v = r.get("/v1/clients", &[]).await?;
            emit(&v, json, print_list);
        }
        ClientCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            scopes,
            logo_uri,
            id_token_alg,
            grants,
            json,
        } => {
            let grant_types: Vec<&str> = grants.iter().map(|g| g.as_str()).collect();
            let body = json!({
                "name": name,
                "redirectUris": redirect_uris,
                "postLogoutRedirectUris": post_logout_redirect_uris,
                "public": public,
                "scopes": scopes,
                "logoUri": logo_uri,
                "idTokenAlg": id_token_alg.as_str(),
                "grantTypes": grant_types,
            });
            let v = r.send(Method::POST, "/v1/clients", Some(body)).await?;
            emit(&v, json, print_created);
        }
        ClientCommand::RotateSecret(a) => {
            let body = json!({
                "gracePeriodSeconds": a.grace_period_seconds,
                "revokeIssuedTokens": a.revoke_issued_tokens,
            });
            let path = format!("/v1/clients/{}/rotate-secret", a.client);
            let v = r.send(Method::POST, &path, Some(body)).await?;
            emit(&v, a.json, print_rotated);
        }
        // Refused above, before any credential is looked for.
        ClientCommand::Show { .. } | ClientCommand::Update(_) | ClientCommand::Delete { .. } => {
            return Err(not_remote("client"));
        }
    }
    Ok(())
}

fn print_list(v: &Value) {
    let mut table = Table::new(["CLIENT ID", "PUBLIC", "GRANTS", "REDIRECT URIS", "NAME"]);
    for c in v["items"].as_array().into_iter().flatten() {
        table.row([
            text(&c["clientId"]),
            text(&c["public"]),
            text(&c["grantTypes"]),
            text(&c["redirectUris"]),
            text(&c["name"]),
        ]);
    }
    table.print();
}

fn print_created(v: &Value) {
    fields(&[("Client ID", &v["clientId"]), ("Public", &v["public"])]);
    if v["clientSecret"].is_string() {
        fields(&[("Client secret", &v["clientSecret"])]);
        println!();
        println!("The secret is shown this once; keyflow stores only a hash of it.");
    }
}

fn print_rotated(v: &Value) {
    fields(&[
        ("Client ID", &v["clientId"]),
        ("Client secret", &v["clientSecret"]),
        ("Previous secret stops", &v["previousSecretExpiresAt"]),
    ]);
    println!();
    println!("The secret is shown this once; keyflow stores only a hash of it.");
}
