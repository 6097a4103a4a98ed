//! `keyflow client …`.

use serde_json::{Value, json};

use super::commands::{ClientCommand, ClientUpdateArgs};
use super::table::{Table, text};
use super::{delete, local, print_json, rotate_secret};
use crate::clock::{Clock, SystemClock, rfc3339};
use crate::config::Settings;
use crate::domain::audit::AuditContext;
use crate::domain::client::ClientGrant;
use crate::service::directory;
use crate::service::integrations::{self, ClientChanges, NewClient};
use crate::storage::OAuthClientRecord;
use crate::storage::{ClientKind, ClientRecord, Store};

pub async fn run(cmd: ClientCommand, settings: &Settings) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::List { json } => list(settings, json).await,
        ClientCommand::Show { client, json } => {
            let store = local(settings).await?.store;
            show(store.as_ref(), &client, json).await
        }
        ClientCommand::RotateSecret(args) => rotate_secret(args, settings).await,
        ClientCommand::Update(args) => update(args, settings).await,
        ClientCommand::Delete { client, yes, json } => {
            delete(settings, &client, ClientKind::ThirdParty, yes, json).await
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
            let new = NewClient {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                public,
                scopes,
                logo_uri,
                id_token_alg,
                device_grant: ClientGrant::device_grant(&grants),
            };
            create(settings, new, json).await
        }
    }
}

async fn create(settings: &Settings, new: NewClient, as_json: bool) -> anyhow::Result<()> {
    let super::Local { store, master } = local(settings).await?;
    let grant_types: Vec<&str> = ClientGrant::registered(new.device_grant)
        .into_iter()
        .map(ClientGrant::as_str)
        .collect();
    let created = integrations::create_client(
        store.as_ref(),
        &master.secret_hasher(),
        &settings.scopes,
        new,
        SystemClock.now(),
        &AuditContext::cli(),
    )
    .await?;
    let secret = created.secret.as_ref().map(|s| s.expose());
    if as_json {
        let mut out = json!({"clientId": created.client_id, "grantTypes": grant_types});
        if let Some(s) = secret {
            out["clientSecret"] = json!(s);
        }
        print_json(&out);
        return Ok(());
    }
    println!("Client ID      {}", created.client_id);
    println!("Grant types    {}", grant_types.join(" "));
    match secret {
        Some(s) => {
            println!("Client secret  {s}");
            println!();
            println!("The secret is shown this once.");
        }
        None => println!("Public client: no secret; it must use PKCE."),
    }
    Ok(())
}

async fn list(settings: &Settings, as_json: bool) -> anyhow::Result<()> {
    let store = local(settings).await?.store;
    let mut rows = Vec::new();
    for c in directory::clients(store.as_ref(), ClientKind::ThirdParty).await? {
        let (c, o) = directory::third_party_client(store.as_ref(), &c.client_id).await?;
        rows.push(client_json(&c, &o));
    }
    if as_json {
        print_json(&json!({ "clients": rows }));
    } else {
        let mut table = Table::new([
            "CLIENT",
            "TYPE",
            "LAST USED",
            "SCOPES",
            "GRANTS",
            "REDIRECT URIS",
            "NAME",
        ]);
        for r in &rows {
            table.row([
                text(&r["clientId"]),
                text(&r["type"]),
                text(&r["lastUsedAt"]),
                text(&r["scopes"]),
                text(&r["grantTypes"]),
                text(&r["redirectUris"]),
                text(&r["name"]),
            ]);
        }
        table.print();
    }
    Ok(())
}
async fn update(args: ClientUpdateArgs, settings: &Settings) -> anyhow::Result<()> {
    let store = local(settings).await?.store;
    let given = |list: Vec<String>| (!list.is_empty()).then_some(list);
    let changes = ClientChanges {
        name: args.name,
        redirect_uris: given(args.redirect_uris),
        post_logout_redirect_uris: if args.no_post_logout_redirect_uris {
            Some(Vec::new())
        } else {
            given(args.post_logout_redirect_uris)
        },
        scopes: given(args.scopes),
        logo_uri: if args.no_logo {
            Some(None)
        } else {
            args.logo_uri.map(Some)
        },
        id_token_alg: args.id_token_alg,
        device_grant: (!args.grants.is_empty()).then(|| ClientGrant::device_grant(&args.grants)),
    };
    integrations::update_client(
        store.as_ref(),
        &settings.scopes,
        &args.client,
        changes,
        SystemClock.now(),
        &AuditContext::cli(),
    )
    .await?;
    show(store.as_ref(), &args.client, args.json).await
}

/// Everything registered for a third-party client, never its secret, as
/// JSON or as a table of fields.
async fn show(store: &dyn Store, client: &str, as_json: bool) -> anyhow::Result<()> {
    let (c, o) = directory::third_party_client(store, client).await?;
    let row = client_json(&c, &o);
    if as_json {
        print_json(&row);
    } else if let Value::Object(fields) = &row {
        let mut table = Table::new(["FIELD", "VALUE"]);
        for (k, v) in fields {
            table.row([k.clone(), text(v)]);
        }
        table.print();
    }
    Ok(())
}

fn client_json(c: &ClientRecord, o: &OAuthClientRecord) -> Value {
    json!({
        "clientId": c.client_id,
        "name": c.name,
        "type": if o.public { "public" } else { "confidential" },
        "redirectUris": o.redirect_uris,
        "postLogoutRedirectUris": o.post_logout_redirect_uris,
        "scopes": o.scopes.iter().collect::<Vec<_>>(),
        "logoUri": o.logo_uri,
        "idTokenAlg": o.id_token_alg.as_str(),
        "grantTypes": o.grant_type_names(),
        "createdAt": rfc3339(c.created_at),
        "secretRotatedAt": c.secret_rotated_at.map(rfc3339),
        "lastUsedAt": c.last_used_at.map(rfc3339),
        "tokensIssued": c.tokens_issued,
    })
}
