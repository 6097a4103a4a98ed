//! What the remote management commands share: the connection, the
//! workspace they act in, following `nextCursor`, and printing one answer.

use anyhow::{Context, bail};
use serde_json::Value;

use super::Remote;
use crate::cli::commands::RemoteArgs;

/// The remote keyflow of a command that only works with `--url`.
pub(crate) async fn connect(args: &RemoteArgs, command: &str) -> anyhow::Result<Remote> {
    let url = args.url.as_deref().with_context(|| {
        format!(
            "keyflow {command} acts on a remote keyflow: give --url, such as --url \
             https://auth.example.com (or set KEYFLOW_URL)"
        )
    })?;
    Remote::from_cli(url, args.key_file.as_deref()).await
}

/// The error of a subcommand that `/v1` has no operation for.
pub(crate) fn not_remote(command: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "keyflow {command} has no remote equivalent in the /v1 API: run it without --url \
         (and without KEYFLOW_URL) on a machine that opens the server's database"
    )
}

/// The workspace id a command acts in: the one given (an id, or a name
/// the credential's workspaces hold once), else the credential's own.
pub(crate) async fn workspace(r: &mut Remote, given: Option<&str>) -> anyhow::Result<String> {
    let Some(given) = given else {
        return r.default_workspace().await;
    };
    if given.starts_with("ws_") {
        return Ok(given.to_owned());
    }
    let listed = r.get("/v1/workspaces", &[]).await?;
    let items = listed["items"].as_array().cloned().unwrap_or_default();
    let named: Vec<&Value> = items.iter().filter(|w| w["name"] == given).collect();
    match named.as_slice() {
        [one] => Ok(one["workspaceId"].as_str().unwrap_or(given).to_owned()),
        [] => Ok(given.to_owned()),
        _ => bail!("several of your workspaces are named {given:?}: give the workspace's id"),
    }
}

/// Up to `want` items of a paged list (all when `None`), in pages of at
/// most `page_max`, from `cursor` on; the cursor after the last one.
pub(crate) async fn pages(
    r: &mut Remote,
    path: &str,
    query: &[(&str, String)],
    want: Option<usize>,
    page_max: usize,
    mut cursor: Option<String>,
) -> anyhow::Result<(Vec<Value>, Option<String>)> {
    let mut items: Vec<Value> = Vec::new();
    while want.is_none_or(|w| items.len() < w) {
        let left = want.map_or(page_max, |w| w - items.len());
        let mut q = query.to_vec();
        q.push(("limit", left.min(page_max).to_string()));
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let page = r.get(path, &q).await?;
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        cursor = page["nextCursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    if let Some(w) = want {
        items.truncate(w);
    }
    Ok((items, cursor))
}

/// One JSON document on stdout with `--json`, else `human`'s text.
pub(crate) fn emit(value: &Value, json: bool, human: impl FnOnce(&Value)) {
    if json {
        crate::cli::print_json(value);
    } else {
        human(value);
    }
}

/// `key  value` lines, for one object.
pub(crate) fn fields(pairs: &[(&str, &Value)]) {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in pairs {
        println!("{k:width$}  {}", crate::cli::table::text(v));
    }
}
