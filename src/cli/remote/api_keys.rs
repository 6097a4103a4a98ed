//! The remote halves of `keyflow apikey list|usage|change|roll`: the list
//! fetched page by page, and what only `/v1` can do.

use reqwest::Method;
use serde_json::{Value, json};

use super::Remote;
use super::manage::pages;
use crate::cli::commands::ApikeyCommand;
use crate::cli::table::{Table, text};

/// The largest page `GET …/api-keys` serves.
const PAGE_MAX: usize = 100;

/// Every key (or the first `limit`), following `nextCursor`.
pub(crate) async fn list(
    r: &mut Remote,
    keys: &str,
    prefix: Option<String>,
    limit: Option<usize>,
) -> anyhow::Result<Value> {
    let query: Vec<(&str, String)> = prefix.into_iter().map(|p| ("prefix", p)).collect();
    let (items, _) = pages(r, keys, &query, limit, PAGE_MAX, None).await?;
    Ok(json!({ "items": items }))
}

/// `usage`, `change` and `roll` on `keys` (`…/api-keys`): the answer and
/// whether it goes out as JSON; `None` for the other subcommands.
pub(crate) async fn more(
    r: &mut Remote,
    keys: &str,
    cmd: &ApikeyCommand,
) -> anyhow::Result<Option<(Value, bool)>> {
    Ok(Some(match cmd {
        ApikeyCommand::Usage {
            id, from, to, json, ..
        } => {
            let query: Vec<(&str, String)> = [("from", from), ("to", to)]
                .into_iter()
                .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
                .collect();
            (r.get(&format!("{keys}/{id}/usage"), &query).await?, *json)
        }
        ApikeyCommand::Change {
            id,
            name,
            scopes,
            active,
            json,
            ..
        } => {
            let mut body = json!({});
            if let Some(n) = name {
                body["name"] = n.clone().into();
            }
            if !scopes.is_empty() {
                body["scopes"] = scopes.clone().into();
            }
            if let Some(a) = active {
                body["active"] = (*a).into();
            }
            let path = format!("{keys}/{id}");
            (r.send(Method::PATCH, &path, Some(body)).await?, *json)
        }
        ApikeyCommand::Roll {
            id,
            expires_old_in_seconds,
            json,
            ..
        } => {
            let body = json!({ "expiresOldInSeconds": expires_old_in_seconds });
            let path = format!("{keys}/{id}/roll");
            (r.send(Method::POST, &path, Some(body)).await?, *json)
        }
        _ => return Ok(None),
    }))
}

/// The text of a usage report or of one changed key; false for other
/// answers.
pub(crate) fn print_human(v: &Value) -> bool {
    if let Some(days) = v["days"].as_array() {
        let mut table = Table::new([
            "DATE", "SUCCESS", "INVALID", "EXPIRED", "DISABLED", "SCOPE", "LIMITED",
        ]);
        for d in days.iter().chain(std::iter::once(&total_row(v))) {
            table.row([
                text(&d["date"]),
                text(&d["success"]),
                text(&d["invalid"]),
                text(&d["expired"]),
                text(&d["disabled"]),
                text(&d["insufficient_scope"]),
                text(&d["rate_limited"]),
            ]);
        }
        table.print();
        return true;
    }
    if v["id"].is_string() && v["key"].is_null() {
        let mut table = Table::new(["ID", "PREFIX", "STATUS", "SCOPES", "NAME"]);
        table.row([
            text(&v["id"]),
            text(&v["prefix"]),
            text(&v["status"]),
            text(&v["scopes"]),
            text(&v["name"]),
        ]);
        table.print();
        return true;
    }
    false
}

fn total_row(v: &Value) -> Value {
    let mut t = v["totals"].clone();
    if t.is_object() {
        t["date"] = "total".into();
    }
    t
}
