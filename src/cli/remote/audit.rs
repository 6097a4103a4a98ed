//! `keyflow audit list`: a workspace's audit log, paged, and with
//! `--follow` its new entries as they are recorded.

use std::time::Duration;

use serde_json::{Value, json};

use super::manage::{connect, emit, pages, workspace};
use super::{Remote, http};
use crate::cli::commands::{AuditCommand, AuditListArgs, RemoteArgs};
use crate::cli::table::{Table, text};

/// The largest page `GET …/audit-logs` serves.
const PAGE_MAX: usize = 200;
/// How often `--follow` asks for new entries.
const POLL: Duration = Duration::from_secs(2);

pub(crate) async fn run(cmd: AuditCommand, args: &RemoteArgs) -> anyhow::Result<()> {
    let mut r = connect(args, "audit").await?;
    let AuditCommand::List(a) = cmd;
    let ws = workspace(&mut r, a.workspace.as_deref()).await?;
    let path = format!("/v1/workspace/{ws}/audit-logs");
    let want = usize::try_from(a.limit).unwrap_or(usize::MAX);
    let query = filters(&a);
    let (items, next) = pages(&mut r, &path, &query, Some(want), PAGE_MAX, a.cursor).await?;
    if a.follow {
        return follow(&mut r, &path, &query, items, a.json).await;
    }
    let v = json!({ "items": items, "nextCursor": next });
    emit(&v, a.json, print_table);
    Ok(())
}

fn filters(a: &AuditListArgs) -> Vec<(&'static str, String)> {
    [
        ("event", &a.event),
        ("actor", &a.actor),
        ("since", &a.since),
        ("until", &a.until),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
    .collect()
}

/// Prints `shown` oldest first, then every newer entry each [`POLL`],
/// until the process is stopped. A poll that fails for a reason that may
/// pass is retried with a growing wait (2 s up to 32 s), said on stderr.
async fn follow(
    r: &mut Remote,
    path: &str,
    query: &[(&str, String)],
    shown: Vec<Value>,
    json: bool,
) -> anyhow::Result<()> {
    let mut newest = Newest::default();
    let mut failures = 0;
    for e in shown.iter().rev() {
        print_entry(e, json);
        newest.saw(e);
    }
    loop {
        tokio::time::sleep(next_poll(failures)).await;
        let mut q: Vec<(&str, String)> = query
            .iter()
            .filter(|(k, _)| *k != "since")
            .cloned()
            .collect();
        if let Some(at) = &newest.at {
            q.push(("since", at.clone()));
        } else if let Some(s) = query.iter().find(|(k, _)| *k == "since") {
            q.push(s.clone());
        }
        let fresh = match pages(r, path, &q, None, PAGE_MAX, None).await {
            Ok((fresh, _)) => fresh,
            // Like `tail -F`: an outage or a restart of the server is waited
            // out; a refusal (the session ended, the role was lowered) ends
            // the command.
            Err(e) if http::is_transient(&e) => {
                failures += 1;
                eprintln!(
                    "keyflow: {e:#}; trying again in {} s (press Ctrl-C to stop)",
                    next_poll(failures).as_secs()
                );
                continue;
            }
            Err(e) => return Err(e),
        };
        for e in fresh.iter().rev() {
            if newest.older_than(e) {
                print_entry(e, json);
                newest.saw(e);
            }
        }
        if failures > 0 {
            failures = 0;
            eprintln!("keyflow: {} answers again; following", r.base());
        }
    }
}

/// The wait before the next poll: [`POLL`], and after `failures` failed
/// polls in a row the backoff of [`http::retry_delay`] (2, 2, 4 … 32 s).
fn next_poll(failures: u32) -> Duration {
    if failures == 0 {
        POLL
    } else {
        POLL.max(http::retry_delay(failures, None))
    }
}

/// The newest entry printed: ids grow with time, and `since` is inclusive,
/// so entries of the same second are told apart by id.
#[derive(Default)]
struct Newest {
    id: i64,
    at: Option<String>,
}

impl Newest {
    fn saw(&mut self, e: &Value) {
        let id = entry_id(e);
        if id > self.id {
            self.id = id;
            self.at = e["occurredAt"].as_str().map(str::to_owned);
        }
    }

    fn older_than(&self, e: &Value) -> bool {
        entry_id(e) > self.id
    }
}

fn entry_id(e: &Value) -> i64 {
    e["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// One line: a JSON object with `--json` (JSON Lines), else text.
fn print_entry(e: &Value, json: bool) {
    if json {
        crate::cli::print_json(e);
    } else {
        println!(
            "{}  {}  {}  {}",
            text(&e["occurredAt"]),
            text(&e["event"]),
            actor(&e["actor"]),
            details(&e["details"])
        );
    }
}

fn print_table(v: &Value) {
    let mut table = Table::new(["ID", "TIME", "EVENT", "ACTOR", "IP", "DETAILS"]);
    for e in v["items"].as_array().into_iter().flatten() {
        table.row([
            text(&e["id"]),
            text(&e["occurredAt"]),
            text(&e["event"]),
            actor(&e["actor"]),
            text(&e["ip"]),
            details(&e["details"]),
        ]);
    }
    table.print();
    if let Some(next) = v["nextCursor"].as_str() {
        println!();
        println!("More entries: --cursor {next}");
    }
}

fn actor(a: &Value) -> String {
    match (a["type"].as_str(), a["id"].as_str()) {
        (Some(t), Some(id)) => format!("{t}:{id}"),
        (Some(t), None) => t.to_owned(),
        _ => text(a),
    }
}

fn details(d: &Value) -> String {
    match d {
        Value::Null => "-".to_owned(),
        Value::Object(o) if o.is_empty() => "-".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_back_off_after_failures_and_return_to_the_interval() {
        let waits: Vec<u64> = (0..8).map(|f| next_poll(f).as_secs()).collect();
        assert_eq!(waits, [2, 2, 2, 4, 8, 16, 32, 32]);
    }
}
