//! `keyflow apikey …`: on the local database (the operator holds every
//! scope an application may), or on a remote keyflow with `--url`,
//! authenticated by an API key read from a key file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::commands::{ApikeyArgs, ApikeyCommand};
use super::print_json;
use super::table::{Table, text};
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::domain::audit::AuditContext;
use crate::domain::scope::ScopeSet;
use crate::service::api_keys::{ApiKeys, Creator, NewKey};
use crate::service::directory;

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
    let workspace = match workspace_of(&cmd) {
        Some(ws) => ws.to_owned(),
        None => key_workspace(&http, base, key).await?,
    };
    let keys = format!("{base}/v1/workspace/{workspace}/api-keys");
    let (req, as_json) = match cmd {
        ApikeyCommand::Create {
            name,
            key_type,
            scopes,
            expires_at,
            json,
            ..
        } => {
            if let Some(t) = &expires_at {
                parse_expiry(t)?;
            }
            (
                http.post(&keys).json(&json!({
                    "name": name, "type": key_type, "scopes": scopes, "expiresAt": expires_at,
                })),
                json,
            )
        }
        ApikeyCommand::List { prefix, json, .. } => {
            let mut req = http.get(&keys);
            if let Some(p) = prefix {
                req = req.query(&[("prefix", p)]);
            }
            (req, json)
        }
        ApikeyCommand::Revoke { id, json, .. } => (http.delete(format!("{keys}/{id}")), json),
    };
    let body = call(req.bearer_auth(key), base).await?;
    Ok((body, as_json))
}

fn workspace_of(cmd: &ApikeyCommand) -> Option<&str> {
    match cmd {
        ApikeyCommand::Create { workspace, .. }
        | ApikeyCommand::List { workspace, .. }
        | ApikeyCommand::Revoke { workspace, .. } => workspace.as_deref(),
    }
}

/// The workspace the key acts for, from `GET /v1/whoami`.
async fn key_workspace(http: &reqwest::Client, base: &str, key: &str) -> anyhow::Result<String> {
    let me = call(http.get(format!("{base}/v1/whoami")).bearer_auth(key), base).await?;
    me["workspaceId"]
        .as_str()
        .map(str::to_owned)
        .context("the key acts for no workspace; pass --workspace")
}

/// Sends `req`; a JSON body on success, else an error with the server's
/// description.
async fn call(req: reqwest::RequestBuilder, base: &str) -> anyhow::Result<Value> {
    let res = req
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
    Ok(body)
}

/// `--expires-at`, explained once when it is not RFC 3339.
fn parse_expiry(given: &str) -> anyhow::Result<i64> {
    time::OffsetDateTime::parse(given, &time::format_description::well_known::Rfc3339)
        .map(|d| d.unix_timestamp())
        .map_err(|_| {
            anyhow::anyhow!(
                "--expires-at {given:?} is not an RFC 3339 time: give a date, a time and a \
                 zone, for example 2027-03-01T00:00:00Z"
            )
        })
}

async fn local(cmd: ApikeyCommand, settings: &Settings) -> anyhow::Result<(Value, bool)> {
    let super::Local { store, master } = super::local(settings).await?;
    let Some(given) = workspace_of(&cmd) else {
        bail!(
            "--workspace is required (the workspace's id or name), unless --url names a remote keyflow"
        );
    };
    let workspace = directory::workspace(store.as_ref(), given).await?.id;
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
    Ok(match cmd {
        ApikeyCommand::Create {
            name,
            key_type,
            scopes,
            expires_at,
            json,
            ..
        } => {
            let expires_at = expires_at.as_deref().map(parse_expiry).transpose()?;
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
            let mut v = keys.describe(&made.record);
            v["key"] = made.key.expose().into();
            (v, json)
        }
        ApikeyCommand::List { prefix, json, .. } => {
            let items: Vec<Value> = keys
                .list(&workspace, prefix.as_deref())
                .await?
                .iter()
                .map(|k| keys.describe(k))
                .collect();
            (json!({ "items": items }), json)
        }
        ApikeyCommand::Revoke { id, json, .. } => {
            keys.revoke(&workspace, &id, &creator).await?;
            (json!({ "revoked": true }), json)
        }
    })
}

fn print_human(v: &Value) {
    if let Some(key) = v["key"].as_str() {
        println!("API key  {key}");
        println!("Prefix   {}", v["prefix"].as_str().unwrap_or(""));
        println!();
        println!("The key is shown this once; keyflow stores only a hash of it.");
    } else if let Some(items) = v["items"].as_array() {
        let mut table = Table::new([
            "ID",
            "PREFIX",
            "TYPE",
            "STATUS",
            "LAST USED",
            "USES",
            "EXPIRES",
            "SCOPES",
            "NAME",
        ]);
        for k in items {
            table.row([
                text(&k["id"]),
                text(&k["prefix"]),
                text(&k["type"]),
                text(&k["status"]),
                text(&k["lastUsedAt"]),
                text(&k["usageCount"]),
                text(&k["expiresAt"]),
                text(&k["scopes"]),
                text(&k["name"]),
            ]);
        }
        table.print();
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
