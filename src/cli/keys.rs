//! `keyflow keys …`.

use serde_json::json;

use super::commands::KeysCommand;
use super::{local, print_json};
use crate::clock::{Clock, SystemClock, rfc3339};
use crate::config::Settings;
use crate::crypto::keyring::{KeyState, create_key};
use crate::crypto::signing::Algorithm;
use crate::domain::audit::AuditContext;

pub async fn run(cmd: KeysCommand, settings: &Settings) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Rotate { algs, json } => rotate(settings, algs, json).await,
        KeysCommand::List { json } => list(settings, json).await,
    }
}

async fn rotate(
    settings: &Settings,
    mut algs: Vec<Algorithm>,
    as_json: bool,
) -> anyhow::Result<()> {
    if algs.is_empty() {
        algs = Algorithm::ALL.to_vec();
    }
    algs.sort();
    algs.dedup();
    let super::Local { store, master } = local(settings).await?;
    let now = SystemClock.now();
    let mut rotated = Vec::new();
    for alg in algs {
        let key = create_key(
            store.as_ref(),
            &master,
            alg,
            now,
            true,
            &AuditContext::cli(),
        )
        .await?;
        rotated.push(json!({"kid": key.kid, "alg": alg.as_str(), "createdAt": rfc3339(now)}));
    }
    if as_json {
        print_json(&json!({ "rotated": rotated }));
    } else {
        for r in &rotated {
            println!(
                "new active {} key {}",
                r["alg"].as_str().unwrap_or(""),
                r["kid"].as_str().unwrap_or("")
            );
        }
        println!(
            "Running servers pick the new keys up within a second; retired keys stay in the JWKS for {} s.",
            settings.key_publish_window()
        );
    }
    Ok(())
}

async fn list(settings: &Settings, as_json: bool) -> anyhow::Result<()> {
    let store = local(settings).await?.store;
    let now = SystemClock.now();
    let keys: Vec<_> = store
        .list_signing_keys()
        .await?
        .into_iter()
        .map(|k| {
            let state = KeyState::of(&k, now, settings.key_publish_window());
            let published_until = match state {
                KeyState::Retired { published_until } => Some(rfc3339(published_until)),
                _ => None,
            };
            json!({
                "kid": k.kid,
                "alg": k.alg.as_str(),
                "state": state.label(),
                "createdAt": rfc3339(k.created_at),
                "retiredAt": k.retired_at.map(rfc3339),
                "publishedUntil": published_until,
            })
        })
        .collect();
    if as_json {
        print_json(&json!({ "keys": keys }));
    } else {
        println!(
            "{:<45} {:<6} {:<8} {:<21} RETIRED",
            "KID", "ALG", "STATE", "CREATED"
        );
        for k in &keys {
            println!(
                "{:<45} {:<6} {:<8} {:<21} {}",
                k["kid"].as_str().unwrap_or(""),
                k["alg"].as_str().unwrap_or(""),
                k["state"].as_str().unwrap_or(""),
                k["createdAt"].as_str().unwrap_or(""),
                k["retiredAt"].as_str().unwrap_or("-"),
            );
        }
    }
    Ok(())
}
