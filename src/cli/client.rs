//! `keyflow client …`.

use serde_json::json;

use super::{load_master_key, open_store, print_json};
use crate::accounts::{self, NewClient};
use crate::clock::{Clock, SystemClock};
use crate::config::{ClientCommand, Settings};
use crate::domain::audit::AuditContext;

pub async fn run(cmd: ClientCommand, settings: &Settings) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            scopes,
            logo_uri,
            id_token_alg,
            json,
        } => {
            let store = open_store(settings).await?;
            let (master, _) = load_master_key(settings)?;
            let new = NewClient {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                public,
                scopes,
                logo_uri,
                id_token_alg,
            };
            let created = accounts::create_client(
                store.as_ref(),
                &master.secret_hasher(),
                &settings.scopes,
                new,
                SystemClock.now(),
                &AuditContext::cli(),
            )
            .await?;
            let secret = created.secret.as_ref().map(|s| s.expose());
            if json {
                let mut out = json!({"clientId": created.client_id});
                if let Some(s) = secret {
                    out["clientSecret"] = json!(s);
                }
                print_json(&out);
            } else {
                println!("Client ID      {}", created.client_id);
                match secret {
                    Some(s) => {
                        println!("Client secret  {s}");
                        println!();
                        println!("The secret is shown this once.");
                    }
                    None => println!("Public client: no secret; it must use PKCE."),
                }
            }
            Ok(())
        }
    }
}
