//! `keyflow apikey …`: on the local database (the operator holds every
//! scope an application may), or on a remote keyflow with `--url`,
//! authenticated by an API key read from a key file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::{load_master_key, open_store, print_json};
use crate::api_keys::{self, ApiKeys, Creator, NewKey};
use crate::clock::{SystemClock, rfc3339};
use crate::config::{ApikeyArgs, ApikeyCommand, Settings};
use crate::domain::audit::AuditContext;
use crate::domain::scope::ScopeSet;

pub async fn run(args: ApikeyArgs, settings: &Settings) -> anyhow::Result<()> {
    let (value, as_json) = match &args.url {
        Some(url) => {
            let cwd = std::env::current_dir()?;
            let home = std::env::var_os("HOME").map(PathBuf::from);
            let path = find_key_file(args.key_file.as_deref(), &cwd, home.as_deref())?;
            let key = read_key_file(&path)?;
            remote(url, &key, args.command).await?
        }
        None => local(args.command, settings).await?,
    };
    if as_json {
        print_json(&value);
    } else {
        print_human(&value);
    }
    Ok(())
}

/// The key file: `-k FILE`, else `keyflow.key` at the root of the git
/// repository around `cwd`, else `$HOME/.keyflow/api.key`.
pub fn find_key_file(
    explicit: Option<&Path>,
    cwd: &Path,
    home: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_owned());
    }
    let repo = cwd
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(|root| root.join("keyflow.key"));
    let user = home.map(|h| h.join(".keyflow").join("api.key"));
    for candidate in [&repo, &user].into_iter().flatten() {
        if candidate.is_file() {
            return Ok(candidate.clone());
        }
    }
    bail!(
        "no API key found: pass -k FILE, or put the key in {} or {}",
        repo.map_or(
            "keyflow.key at the root of your git repository".into(),
            |p| p.display().to_string()
        ),
        user.map_or("$HOME/.keyflow/api.key".into(), |p| p.display().to_string()),
    )
}

fn read_key_file(path: &Path) -> anyhow::Result<String> {
    let key =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "keyflow: warning: {} is readable by others; run chmod 600 on it",
                path.display()
            );
        }
    }
    let key = key.trim().to_owned();
    if key.is_empty() {
        bail!("{} is empty", path.display());
    }
    Ok(key)
}

async fn remote(url: &str, key: &str, cmd: ApikeyCommand) -> anyhow::Result<(Value, bool)> {
    let http = crate::verifier::remote::http_client().map_err(anyhow::Error::msg)?;
    let base = url.trim_end_matches('/');
    let keys = |ws: &str| format!("{base}/v1/workspace/{ws}/api-keys");
    let (req, as_json) = match cmd {
        ApikeyCommand::Create {
            workspace,
            name,
            key_type,
            scopes,
            expires_at,
            json,
        } => (
            http.post(keys(&workspace)).json(&json!({
                "name": name, "type": key_type, "scopes": scopes, "expiresAt": expires_at,
            })),
            json,
        ),
        ApikeyCommand::List {
            workspace,
            prefix,
            json,
        } => {
            let mut req = http.get(keys(&workspace));
            if let Some(p) = prefix {
                req = req.query(&[("prefix", p)]);
            }
            (req, json)
        }
        ApikeyCommand::Revoke {
            workspace,
            id,
            json,
        } => (http.delete(format!("{}/{id}", keys(&workspace))), json),
    };
    let res = req
        .bearer_auth(key)
        .send()
        .await
        .with_context(|| format!("calling {base}"))?;
    let status = res.status();
    let body: Value = if status == reqwest::StatusCode::NO_CONTENT {
        json!({ "revoked": true })
    } else {
        res.json().await.unwrap_or_else(|_| json!({}))
    };
    if !status.is_success() {
        let why = body["error_description"]
            .as_str()
            .or(body["message"].as_str())
            .unwrap_or("");
        bail!("{base} answered {status}: {why}");
    }
    Ok((body, as_json))
}

async fn local(cmd: ApikeyCommand, settings: &Settings) -> anyhow::Result<(Value, bool)> {
    let store = open_store(settings).await?;
    let (master, _) = load_master_key(settings)?;
    let keys = ApiKeys::new(
        store.clone(),
        master.secret_hasher(),
        Arc::new(SystemClock),
        settings.scopes.clone(),
    )
    .with_limits(settings.api_key_limits);
    let creator = Creator {
        id: "cli".into(),
        scopes: settings.scopes.application_scopes(),
        audit: AuditContext::cli(),
    };
    let workspace_exists = |ws: String| {
        let store = store.clone();
        async move {
            if store.get_workspace(&ws).await?.is_none() {
                bail!("--workspace {ws}: no such workspace");
            }
            anyhow::Ok(ws)
        }
    };
    Ok(match cmd {
        ApikeyCommand::Create {
            workspace,
            name,
            key_type,
            scopes,
            expires_at,
            json,
        } => {
            let workspace = workspace_exists(workspace).await?;
            let expires_at = expires_at
                .map(|t| {
                    time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                        .map(|d| d.unix_timestamp())
                        .context("--expires-at must be an RFC 3339 time")
                })
                .transpose()?;
            let new = NewKey {
                name,
                key_type: key_type
                    .parse()
                    .map_err(anyhow::Error::msg)
                    .context("--type")?,
                scopes: ScopeSet::parse(&scopes.join(" ")).context("--scope")?,
                expires_at,
                rate_limits: None,
            };
            let made = keys.create(&workspace, new, &creator).await?;
            let mut v = describe(&keys, &made.record);
            v["key"] = made.key.expose().into();
            (v, json)
        }
        ApikeyCommand::List {
            workspace,
            prefix,
            json,
        } => {
            let workspace = workspace_exists(workspace).await?;
            let items: Vec<Value> = keys
                .list(&workspace, prefix.as_deref())
                .await?
                .iter()
                .map(|k| describe(&keys, k))
                .collect();
            (json!({ "items": items }), json)
        }
        ApikeyCommand::Revoke {
            workspace,
            id,
            json,
        } => {
            keys.revoke(&workspace, &id, &creator).await?;
            (json!({ "revoked": true }), json)
        }
    })
}

fn describe(keys: &ApiKeys, k: &crate::storage::ApiKeyRecord) -> Value {
    json!({
        "id": k.id, "name": k.name, "type": k.key_type, "prefix": k.prefix,
        "scopes": k.scopes.split(' ').collect::<Vec<_>>(), "createdAt": rfc3339(k.created_at),
        "expiresAt": k.expires_at.map(rfc3339), "lastUsedAt": k.last_used_at.map(rfc3339),
        "usageCount": k.usage_count, "status": api_keys::status(k, keys.now()),
        "rateLimits": keys.limits_of(k),
    })
}

fn print_human(v: &Value) {
    if let Some(key) = v["key"].as_str() {
        println!("API key  {key}");
        println!("Prefix   {}", v["prefix"].as_str().unwrap_or(""));
        println!();
        println!("The key is shown this once; keyflow stores only a hash of it.");
    } else if let Some(items) = v["items"].as_array() {
        for k in items {
            println!(
                "{:<38} {:<11} {:<10} {:<11} {}",
                k["id"].as_str().unwrap_or(""),
                k["prefix"].as_str().unwrap_or(""),
                k["type"].as_str().unwrap_or(""),
                k["status"].as_str().unwrap_or(""),
                k["name"].as_str().unwrap_or(""),
            );
        }
    } else if v["revoked"] == true {
        println!("revoked");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_looked_up_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let sub = repo.join("a/b");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::create_dir_all(home.join(".keyflow")).unwrap();

        let err = find_key_file(None, &sub, Some(&home))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("-k FILE") && err.contains("keyflow.key") && err.contains("api.key"),
            "{err}"
        );
        std::fs::write(home.join(".keyflow/api.key"), "sk_home").unwrap();
        assert_eq!(
            find_key_file(None, &sub, Some(&home)).unwrap(),
            home.join(".keyflow/api.key")
        );
        std::fs::write(repo.join("keyflow.key"), "sk_repo").unwrap();
        assert_eq!(
            find_key_file(None, &sub, Some(&home)).unwrap(),
            repo.join("keyflow.key")
        );
        let explicit = tmp.path().join("mine.key");
        assert_eq!(
            find_key_file(Some(&explicit), &sub, Some(&home)).unwrap(),
            explicit
        );
        assert_eq!(read_key_file(&repo.join("keyflow.key")).unwrap(), "sk_repo");
    }
}
