//! The console's API Keys tab over real HTTP: creating each type through
//! the form, the key shown once and working, the table's search, filters
//! and paging, deactivating, rolling with an overlap, revoking, the key's
//! page and its usage counted exactly by day and outcome, and bad input.

mod common;

use common::browser::Browser;
use common::console::{T0, node, person, secret, submit};
use common::{http, workspace};
use keyflow::domain::user::Role;
use keyflow::testing::TestServer;
use serde_json::Value;

/// Rows per page of the key table.
const PAGE_SIZE: usize = 50;

struct Fixture {
    _db: keyflow::testing::TestDb,
    node: TestServer,
    clock: keyflow::clock::MockClock,
    ws: String,
    created: keyflow::service::workspaces::CreatedWorkspace,
    owner: Browser,
}

async fn fixture() -> Fixture {
    let (db, node, clock) = node(&[]).await;
    let created = workspace(&node, "Reports").await;
    let ws = created.workspace.id.clone();
    let owner = person(&node, "owner@example.com", &[(&ws, Role::Owner)]).await;
    Fixture {
        _db: db,
        node,
        clock,
        ws,
        created,
        owner,
    }
}

impl Fixture {
    fn tab(&self) -> String {
        format!("/console/workspaces/{}/api-keys", self.ws)
    }

    /// Creates a key through the form; returns (key, its page's path).
    async fn create(&self, fields: &[(&str, &str)]) -> (String, String) {
        let p = submit(&self.owner, &self.node, &self.tab(), &self.tab(), fields).await;
        assert_eq!(p.status, 200, "{}", p.html);
        assert!(p.html.contains("cannot be shown again"), "{}", p.html);
        assert!(p.html.contains("download=\"keyflow.key\""), "{}", p.html);
        let marker = format!("/console/workspaces/{}/api-keys/", self.ws);
        let at = p.html.rfind(&marker).expect("a link to the key's page");
        let end = at + p.html[at..].find('"').expect("link end");
        (secret(&p), p.html[at..end].to_owned())
    }

    async fn whoami(&self, key: &str) -> u16 {
        http()
            .get(self.node.url("/v1/whoami"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn post(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> common::browser::Page {
        submit(&self.owner, &self.node, page, action, fields).await
    }
}

impl Fixture {
    /// `n` keys named `key 000`… created through the service by `user_id`
    /// a second apart, alternately secret and read-only; their prefixes.
    async fn bulk(&self, user_id: &str, n: usize) -> Vec<String> {
        use keyflow::domain::api_key::ApiKeyType;
        let app = &self.node.app;
        let access = app
            .members()
            .access_for_application(&self.ws)
            .await
            .unwrap();
        let by = app
            .api_keys
            .person_creator(
                user_id,
                &access,
                keyflow::domain::audit::AuditContext::system(),
            )
            .unwrap();
        let mut prefixes = Vec::new();
        for i in 0..n {
            self.clock.advance(1);
            let new = keyflow::service::api_keys::NewKey {
                name: format!("key {i:03}"),
                key_type: if i % 2 == 0 {
                    ApiKeyType::Secret
                } else {
                    ApiKeyType::ReadOnly
                },
                scopes: keyflow::domain::scope::ScopeSet::parse("api:read").unwrap(),
                expires_at: None,
                rate_limits: None,
            };
            let made = app.api_keys.create(&self.ws, new, &by).await.unwrap();
            prefixes.push(made.record.prefix);
        }
        prefixes
    }
}

fn key_id(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}

#[tokio::test]
async fn each_type_is_created_through_the_form_shown_once_and_works() {
    let f = fixture().await;
    let (sk, sk_page) = f
        .create(&[
            ("name", "reports backend"),
            ("type", "secret"),
            ("scope-api:read", "1"),
            ("scope-keys:read", "1"),
            ("expires", "30"),
            ("limit-read", "120"),
        ])
        .await;
    assert!(sk.starts_with("sk_"), "{sk}");
    assert_eq!(f.whoami(&sk).await, 200);
    let (ck, _) = f
        .create(&[
            ("name", "web app"),
            ("type", "client"),
            ("scope-events:write", "1"),
        ])
        .await;
    assert!(ck.starts_with("ck_"));
    let (rk, _) = f
        .create(&[
            ("name", "dashboards"),
            ("type", "read_only"),
            ("scope-api:read", "1"),
            ("expires", "date"),
            ("expires_on", "2027-02-01"),
        ])
        .await;
    assert!(rk.starts_with("rk_"));

    // The key's page never shows the key again, but its settings.
    let p = f.owner.get(&f.node.url(&sk_page)).await;
    assert_eq!(p.status, 200, "{}", p.html);
    assert!(!p.html.contains(&sk), "the key is shown only once");
    assert!(!p.html.contains("data-secret"));
    assert!(p.html.contains("reports backend"));
    assert!(p.html.contains("Set for this key (default"), "{}", p.html);
    assert!(p.html.contains(">120<"), "the read limit: {}", p.html);

    // The table lists all three with their prefix, type and expiry.
    let list = f.owner.get(&f.node.url(&f.tab())).await;
    for (key, ty) in [(&sk, "Secret"), (&ck, "Client"), (&rk, "Read-only")] {
        let prefix = key.split('.').next().unwrap();
        assert!(
            list.html.contains(&format!("data-key=\"{prefix}\"")),
            "{prefix}"
        );
        assert!(list.html.contains(&format!("<td>{ty}</td>")), "{ty}");
    }
    assert!(
        list.html.contains("2027-02-02 00:00 UTC"),
        "through the chosen day"
    );
    assert!(list.html.contains("owner@example.com"), "created by");
    // Within 7 days of its expiry a key "expires soon".
    f.create(&[
        ("name", "short lived"),
        ("type", "secret"),
        ("scope-api:read", "1"),
        ("expires", "date"),
        ("expires_on", "2027-01-20"),
    ])
    .await;
    let soon = f
        .owner
        .get(&f.node.url(&format!("{}?status=expiring", f.tab())))
        .await;
    assert!(soon.html.contains("short lived"), "{}", soon.html);
    assert!(soon.html.contains("Expires soon"));
    assert!(!soon.html.contains("reports backend"), "30 days away");
    assert!(!soon.html.contains("dashboards"));
}

#[tokio::test]
async fn a_refused_form_says_why_keeps_what_was_typed_and_creates_nothing() {
    let f = fixture().await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("name", "x"), ("type", "secret")],
            "Choose at least one scope",
        ),
        (
            &[("name", "x"), ("type", "weird"), ("scope-api:read", "1")],
            "Choose the type of the key",
        ),
        (
            &[("name", "x"), ("type", "client"), ("scope-api:read", "1")],
            "may not carry",
        ),
        (
            &[
                ("name", "x"),
                ("type", "read_only"),
                ("scope-api:write", "1"),
            ],
            "may not carry",
        ),
        (
            &[
                ("name", "x"),
                ("type", "secret"),
                ("scope-api:read", "1"),
                ("limit-read", "lots"),
            ],
            "whole number",
        ),
        (
            &[
                ("name", "x"),
                ("type", "secret"),
                ("scope-api:read", "1"),
                ("limit-write", "0"),
            ],
            "1 to 1000000",
        ),
        (
            &[
                ("name", "x"),
                ("type", "secret"),
                ("scope-api:read", "1"),
                ("expires", "date"),
                ("expires_on", "2020-01-01"),
            ],
            "must be in the future",
        ),
        (
            &[
                ("name", "x"),
                ("type", "secret"),
                ("scope-api:read", "1"),
                ("expires", "date"),
            ],
            "Choose the date",
        ),
        (
            &[("name", "   "), ("type", "secret"), ("scope-api:read", "1")],
            "Name must be 1 to",
        ),
    ];
    for (fields, why) in cases {
        let p = f.post(&f.tab(), &f.tab(), fields).await;
        assert_eq!(p.status, 400, "{fields:?}: {}", p.html);
        assert!(
            p.html.contains(why),
            "{fields:?} should say {why:?}: {}",
            p.html
        );
        assert!(!p.html.contains("data-secret"));
    }
    // What was typed comes back.
    let p = f
        .post(
            &f.tab(),
            &f.tab(),
            &[
                ("name", "kept name"),
                ("type", "read_only"),
                ("scope-api:write", "1"),
            ],
        )
        .await;
    assert!(p.html.contains("value=\"kept name\""), "{}", p.html);
    assert!(
        p.html.contains("value=\"read_only\" selected"),
        "{}",
        p.html
    );
    assert!(
        f.node
            .app
            .api_keys
            .list(&f.ws, None)
            .await
            .unwrap()
            .is_empty()
    );
    // A forged form does nothing.
    let forged = f
        .owner
        .post(
            &f.node.url(&f.tab()),
            &[
                ("csrf", "forged"),
                ("name", "x"),
                ("type", "secret"),
                ("scope-api:read", "1"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(
        f.node
            .app
            .api_keys
            .list(&f.ws, None)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn members_read_the_table_but_change_nothing() {
    let f = fixture().await;
    let (_, page) = f
        .create(&[("name", "k"), ("type", "secret"), ("scope-api:read", "1")])
        .await;
    let member = person(&f.node, "member@example.com", &[(&f.ws, Role::Member)]).await;
    let list = member.get(&f.node.url(&f.tab())).await;
    assert_eq!(list.status, 200);
    assert!(list.html.contains(">k</a>"));
    assert!(!list.html.contains("Create API key"));
    assert!(!list.html.contains(">Deactivate<"));
    let id = key_id(&page);
    for action in ["active", "revoke", "roll", "edit"] {
        let p = submit(
            &member,
            &f.node,
            &f.tab(),
            &format!("{page}/{action}"),
            &[
                ("active", "0"),
                ("overlap", "0"),
                ("name", "x"),
                ("scope-api:read", "1"),
            ],
        )
        .await;
        assert_eq!(p.status, 403, "{action}: {}", p.html);
    }
    let created = submit(
        &member,
        &f.node,
        &f.tab(),
        &f.tab(),
        &[("name", "m"), ("type", "secret"), ("scope-api:read", "1")],
    )
    .await;
    assert_eq!(created.status, 403);
    let k = f.node.app.api_keys.get(&f.ws, id).await.unwrap();
    assert!(!k.deactivated && k.revoked_at.is_none() && k.name == "k");
    // Another workspace's person does not see this one at all.
    let other = workspace(&f.node, "Other").await.workspace.id;
    let stranger = person(&f.node, "s@example.com", &[(&other, Role::Owner)]).await;
    assert_eq!(stranger.get(&f.node.url(&page)).await.status, 404);
    let p = submit(
        &stranger,
        &f.node,
        "/console",
        &format!("{page}/revoke"),
        &[],
    )
    .await;
    assert_eq!(p.status, 404);
}

#[tokio::test]
async fn deactivate_activate_edit_roll_and_revoke_take_effect() {
    let f = fixture().await;
    let (key, page) = f
        .create(&[("name", "ops"), ("type", "secret"), ("scope-api:read", "1")])
        .await;
    let off = f
        .post(&f.tab(), &format!("{page}/active"), &[("active", "0")])
        .await;
    assert_eq!(off.status, 303, "{}", off.html);
    assert_eq!(
        off.location.as_deref(),
        Some(format!("{}?done=deactivated", f.tab()).as_str())
    );
    assert_eq!(f.whoami(&key).await, 401);
    let on = f
        .post(
            &page,
            &format!("{page}/active"),
            &[("active", "1"), ("return", "key")],
        )
        .await;
    assert_eq!(
        on.location.as_deref(),
        Some(format!("{page}?done=activated").as_str())
    );
    assert_eq!(f.whoami(&key).await, 200);

    // Edit: a new name, scopes and a token limit; then back to defaults.
    let saved = f
        .post(
            &page,
            &format!("{page}/edit"),
            &[
                ("name", "ops 2"),
                ("scope-api:read", "1"),
                ("scope-keys:read", "1"),
                ("limit-token", "7"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.html);
    let k = f.node.app.api_keys.get(&f.ws, key_id(&page)).await.unwrap();
    assert_eq!(k.name, "ops 2");
    assert_eq!(k.scopes.to_string(), "api:read keys:read");
    assert_eq!(f.node.app.api_keys.limits_of(&k).token, 7);
    let bad = f
        .post(&page, &format!("{page}/edit"), &[("name", "ops 3")])
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.html.contains("Choose at least one scope"));
    f.post(
        &page,
        &format!("{page}/edit"),
        &[("name", "ops 2"), ("scope-api:read", "1")],
    )
    .await;
    let k = f.node.app.api_keys.get(&f.ws, key_id(&page)).await.unwrap();
    assert_eq!(
        (k.rate_limits.as_deref(), k.scopes.to_string().as_str()),
        (None, "api:read")
    );

    // Roll with a one-hour overlap: both work, then only the new one.
    let confirm = f.owner.get(&f.node.url(&format!("{page}/roll"))).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.html.contains("After 1 hour"));
    let rolled = f
        .post(&page, &format!("{page}/roll"), &[("overlap", "3600")])
        .await;
    assert_eq!(rolled.status, 200, "{}", rolled.html);
    let new_key = secret(&rolled);
    assert_ne!(new_key, key);
    assert!(
        rolled.html.contains("The previous key keeps working until"),
        "{}",
        rolled.html
    );
    assert_eq!(f.whoami(&key).await, 200);
    assert_eq!(f.whoami(&new_key).await, 200);
    f.clock.advance(3601);
    assert_eq!(f.whoami(&key).await, 401);
    assert_eq!(f.whoami(&new_key).await, 200);
    assert_eq!(
        f.post(&page, &format!("{page}/roll"), &[("overlap", "5")])
            .await
            .status,
        400
    );

    // Revoke the new key through its confirmation.
    let new_id = f
        .node
        .app
        .api_keys
        .list(&f.ws, Some(new_key.split('.').next().unwrap()))
        .await
        .unwrap()[0]
        .id
        .clone();
    let new_page = format!("{}/{new_id}", f.tab());
    let confirm = f
        .owner
        .get(&f.node.url(&format!("{new_page}/revoke")))
        .await;
    assert!(confirm.html.contains("cannot be undone"));
    let gone = f.post(&new_page, &format!("{new_page}/revoke"), &[]).await;
    assert_eq!(gone.status, 303);
    assert_eq!(f.whoami(&new_key).await, 401);
    let again = f.post(&f.tab(), &format!("{new_page}/revoke"), &[]).await;
    assert_eq!(again.status, 409, "{}", again.html);
    let revoked = f
        .owner
        .get(&f.node.url(&format!("{}?status=revoked", f.tab())))
        .await;
    assert!(revoked.html.contains("Revoked"));
    assert!(
        !revoked.html.contains(&format!("/{new_id}/roll")),
        "a revoked key has no actions"
    );
    assert_eq!(
        f.owner
            .get(&f.node.url(&format!("{}/nope", f.tab())))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn the_table_searches_filters_sorts_and_pages() {
    let f = fixture().await;
    let prefixes = f.bulk("u", PAGE_SIZE + 5).await;
    let owner = &f.owner;
    let get = |q: &str| {
        let url = f.node.url(&format!("{}?{q}", f.tab()));
        async move { owner.get(&url).await }
    };
    let first = get("").await;
    assert!(
        first.html.contains("55 of 55 keys · page 1 of 2"),
        "{}",
        first.html
    );
    assert!(first.html.contains("key 054"), "newest first");
    assert!(!first.html.contains("key 004"));
    assert!(first.html.contains("rel=\"next\""));
    let second = get("page=2").await;
    assert!(second.html.contains("key 000") && !second.html.contains("key 054"));
    let oldest = get("sort=created_asc").await;
    assert!(oldest.html.contains("key 000") && !oldest.html.contains("key 054"));
    let byname = get("q=KEY+01").await;
    assert!(byname.html.contains("10 of 55 keys"), "{}", byname.html);
    let byprefix = get(&format!("q={}", prefixes[7])).await;
    assert!(byprefix.html.contains("1 of 55 keys"), "{}", byprefix.html);
    let readonly = get("type=read_only&q=key+00").await;
    assert!(readonly.html.contains("5 of 55 keys"), "{}", readonly.html);
    // The next link keeps the filters; a page past the end shows the last.
    let filtered = get("type=secret").await;
    assert!(filtered.html.contains("28 of 55 keys"), "{}", filtered.html);
    assert_eq!(get("page=99").await.status, 200);
    assert!(
        get("status=nonsense&sort=x")
            .await
            .html
            .contains("55 of 55")
    );
}

#[tokio::test]
async fn usage_is_counted_by_day_and_outcome_and_charted() {
    let f = fixture().await;
    let (key, page) = f
        .create(&[
            ("name", "counted"),
            ("type", "secret"),
            ("scope-api:read", "1"),
            ("limit-read", "3"),
        ])
        .await;
    let id = key_id(&page).to_owned();
    // Day 1: 3 successes, then the read limit refuses the 4th; one wrong
    // secret under the key's prefix; one request lacking keys:read.
    for _ in 0..3 {
        assert_eq!(f.whoami(&key).await, 200);
    }
    assert_eq!(f.whoami(&key).await, 429);
    // The key's page shows the budget as it stands, spending none of it.
    for _ in 0..2 {
        let p = f.owner.get(&f.node.url(&page)).await;
        assert!(
            p.html
                .contains("<th scope=\"row\">Read</th><td>3</td><td>0 <span class=\"muted small\">(whole again in 60 s)"),
            "{}",
            p.html
        );
        assert!(
            p.html.contains("<th scope=\"row\">Write</th><td>"),
            "{}",
            p.html
        );
    }
    let prefix = key.split('.').next().unwrap();
    let forged = keyflow::domain::api_key::with_checksum(&format!("{prefix}.{}", "A".repeat(43)));
    assert_eq!(f.whoami(&forged).await, 401);
    f.clock.advance(86_400);
    // Day 2: the limit has refilled; a scope refusal; then deactivated.
    let list = http()
        .get(f.node.url(&format!("/v1/workspace/{}/api-keys", f.ws)))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 403);
    assert_eq!(f.whoami(&key).await, 200);
    let owner = common::console::signed_in(&f.node, "owner@example.com").await;
    let off = submit(
        &owner,
        &f.node,
        &f.tab(),
        &format!("{page}/active"),
        &[("active", "0")],
    )
    .await;
    assert_eq!(off.status, 303);
    assert_eq!(f.whoami(&key).await, 401);
    f.node.app.flush_usage().await;

    let day = |t: i64| keyflow::domain::usage::day_label(keyflow::domain::usage::day_of(t));
    let (d1, d2) = (day(T0), day(T0 + 86_400));
    // The API's report, through the application's token.
    let usage: Value = {
        let ws = &f.ws;
        let admin_token = common::token(&f.node, &f.created, "keys:read").await;
        http()
            .get(f.node.url(&format!(
                "/v1/workspace/{ws}/api-keys/{id}/usage?from={d1}&to={d2}"
            )))
            .bearer_auth(admin_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    assert_eq!(usage["days"][0]["date"], d1.as_str(), "{usage}");
    let counts = |i: usize| {
        let d = &usage["days"][i];
        [
            d["success"].as_i64().unwrap(),
            d["invalid"].as_i64().unwrap(),
            d["expired"].as_i64().unwrap(),
            d["disabled"].as_i64().unwrap(),
            d["insufficient_scope"].as_i64().unwrap(),
            d["rate_limited"].as_i64().unwrap(),
        ]
    };
    assert_eq!(counts(0), [3, 1, 0, 0, 0, 1], "{usage}");
    assert_eq!(counts(1), [1, 0, 0, 1, 1, 0], "{usage}");
    assert_eq!(usage["totals"]["success"], 4);
    // The key's page draws the same numbers and tabulates them.
    let p = owner.get(&f.node.url(&page)).await;
    assert!(p.html.contains("<svg"), "{}", p.html);
    assert!(p.html.contains(&format!("{d1}: 3 success")), "{}", p.html);
    assert!(
        p.html.contains(&format!("{d2}: 1 insufficient scope")),
        "{}",
        p.html
    );
    assert!(p.html.contains(&format!("<th scope=\"row\">{d1}</th><td>3</td><td>1</td><td>0</td><td>0</td><td>0</td><td>1</td><td>5</td>")), "{}", p.html);
    // The table's sparkline and the overview count every outcome.
    let list = owner.get(&f.node.url(&f.tab())).await;
    assert!(
        list.html
            .contains("aria-label=\"8 requests in the last 30 days\""),
        "{}",
        list.html
    );
    assert!(
        list.html
            .contains("<dt>Verifications, last 30 days</dt><dd>8</dd>"),
        "{}",
        list.html
    );

    // Past the retention (90 days by default) the next flush prunes them.
    let range = keyflow::service::usage::DayRange::parse(Some(&d1), Some(&d2), T0).unwrap();
    let kept = || async {
        let reports = f.node.app.usage_reports();
        reports.api_key(&f.ws, &id, range).await
    };
    f.clock.advance(89 * 86_400);
    f.node.app.flush_usage().await;
    assert_eq!(
        kept().await.unwrap().all_outcomes_total(),
        8,
        "day 2 is 89 days old"
    );
    f.clock.advance(86_400);
    f.node.app.flush_usage().await;
    let left = kept().await.unwrap();
    assert_eq!(
        (
            left.days[0].iter().sum::<i64>(),
            left.days[1].iter().sum::<i64>()
        ),
        (0, 3),
        "day 1 is 91 days old, day 2 90"
    );
}

#[tokio::test]
async fn application_token_requests_are_counted_by_outcome() {
    let (_db, node, clock) = node(&["--token-rate-limit", "4"]).await;
    let created = workspace(&node, "Reports").await;
    let ws = created.workspace.id.clone();
    let owner = person(&node, "owner@example.com", &[(&ws, Role::Owner)]).await;
    let good = common::basic(&created.application_key, created.secret_key.expose());
    let wrong = common::basic(&created.application_key, "not-the-secret");
    let status = |auth: String, body: &'static str| {
        let node = &node;
        async move { common::post_form(node, Some(&auth), body).await.status }
    };
    let cc = "grant_type=client_credentials";
    assert_eq!(status(good.clone(), cc).await, 200);
    assert_eq!(status(wrong.clone(), cc).await, 401);
    assert_eq!(
        status(good.clone(), "grant_type=client_credentials&scope=openid").await,
        400
    );
    assert_eq!(status(good.clone(), cc).await, 200);
    clock.advance(86_400);
    // The next day: the limit of 4 a minute lets 4 through (one of them
    // the report's own token below), and refuses the next.
    for _ in 0..3 {
        assert_eq!(status(good.clone(), cc).await, 200);
    }
    let token = common::token(&node, &created, "workspace:admin").await;
    assert_eq!(status(good.clone(), cc).await, 429);
    node.app.flush_usage().await;

    let report: Value = http()
        .get(node.url(&format!("/v1/workspace/{ws}/application-token/usage")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let days = report["days"].as_array().unwrap();
    assert_eq!(days.len(), 30, "the last 30 days by default");
    let (d1, d2) = (&days[28], &days[29]);
    assert_eq!(
        (
            d1["success"].as_i64(),
            d1["invalid"].as_i64(),
            d1["insufficient_scope"].as_i64()
        ),
        (Some(2), Some(1), Some(1)),
        "{report}"
    );
    assert_eq!(
        (d2["success"].as_i64(), d2["rate_limited"].as_i64()),
        (Some(4), Some(1)),
        "{report}"
    );
    assert_eq!(report["applicationKey"], created.application_key.as_str());
    for bad in [
        "from=2027-13-01",
        "from=2027-01-20&to=2027-01-10",
        "from=2020-01-01",
        "at=1",
    ] {
        let res = http()
            .get(node.url(&format!("/v1/workspace/{ws}/application-token/usage?{bad}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
    }
    // The Integration tab charts the same numbers.
    let _ = owner;
    let owner = common::console::signed_in(&node, "owner@example.com").await;
    let tab = owner
        .get(&node.url(&format!("/console/workspaces/{ws}/integration")))
        .await;
    assert!(
        tab.html
            .contains("Token requests with this application key: 9 requests"),
        "{}",
        tab.html
    );
    assert!(tab.html.contains(": 1 rate limited"), "{}", tab.html);
}

#[tokio::test]
async fn the_audit_log_is_filtered_paged_and_names_its_targets() {
    let f = fixture().await;
    let (_, page) = f
        .create(&[
            ("name", "audited"),
            ("type", "secret"),
            ("scope-api:read", "1"),
        ])
        .await;
    f.post(&page, &format!("{page}/revoke"), &[]).await;
    let audit = format!("/console/workspaces/{}/audit", f.ws);
    let log = f.owner.get(&f.node.url(&audit)).await;
    assert_eq!(log.status, 200, "{}", log.html);
    assert!(log.html.contains("API key created") && log.html.contains("API key revoked"));
    assert!(log.html.contains("owner@example.com"), "the actor by name");
    // The target links to the key's page (a revoked key still has one).
    assert!(
        log.html
            .contains(&format!("<a href=\"{page}\">API key audited (")),
        "{}",
        log.html
    );

    let get = |q: String| {
        let url = f.node.url(&format!("{audit}?{q}"));
        let owner = &f.owner;
        async move { owner.get(&url).await }
    };
    let revoked = get("event=api_key_revoked".into()).await;
    assert!(revoked.html.contains("API key revoked"));
    assert!(
        !revoked.html.contains("<td>API key created</td>"),
        "{}",
        revoked.html
    );
    let owner_id = f.node.app.store.members(&f.ws).await.unwrap()[0]
        .user_id
        .clone();
    let by_owner = get(format!("actor={owner_id}")).await;
    assert!(by_owner.html.contains("API key created"));
    assert!(
        !by_owner.html.contains("<td>Workspace created</td>"),
        "by keyflow, not the owner"
    );
    let tomorrow = get("from=2027-01-16".into()).await;
    assert!(tomorrow.html.contains("No entries."));
    let today = get("from=2027-01-15&to=2027-01-15".into()).await;
    assert!(today.html.contains("API key created"));
    for bad in [
        "from=yesterday",
        "event=nope",
        "from=2027-01-16&to=2027-01-15",
    ] {
        let p = get(bad.into()).await;
        assert_eq!(p.status, 400, "{bad}");
        assert!(p.html.contains("role=\"alert\""), "{bad}");
    }

    // 60 more entries: 50 a page, then the rest behind "Older".
    f.bulk(&owner_id, 60).await;
    let first = get("event=api_key_created".into()).await;
    assert_eq!(first.html.matches("<td>API key created</td>").count(), 50);
    let at = first.html.find("rel=\"next\"").expect("an Older link");
    let href = &first.html[first.html[..at].rfind("href=\"").unwrap() + 6..];
    let href = href[..href.find('"').unwrap()]
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(
        href.contains("event=api_key_created") && href.contains("before="),
        "{href}"
    );
    let second = f.owner.get(&f.node.url(&href)).await;
    assert_eq!(second.html.matches("<td>API key created</td>").count(), 11);
    assert!(second.html.contains(">Newest</a>"));
    assert!(!second.html.contains("rel=\"next\""));

    // Members see no tab and get 403; the platform admin sees everything.
    let member = person(&f.node, "member@example.com", &[(&f.ws, Role::Member)]).await;
    let tab = member.get(&f.node.url(&f.tab())).await;
    assert!(!tab.html.contains(&audit));
    assert_eq!(member.get(&f.node.url(&audit)).await.status, 403);
    assert_eq!(
        member.get(&f.node.url("/console/admin/audit")).await.status,
        403
    );
}

#[tokio::test]
async fn platform_admins_see_every_workspace_in_the_audit_log() {
    let (_db, node, _clock) = node(&[]).await;
    common::console::make_platform_admin(&node).await;
    let a = workspace(&node, "A").await.workspace.id;
    let b = workspace(&node, "B").await.workspace.id;
    let root = common::console::signed_in(&node, "root@example.com").await;
    let all = root
        .get(&node.url("/console/admin/audit?event=workspace_created"))
        .await;
    assert_eq!(all.status, 200, "{}", all.html);
    for ws in [&a, &b] {
        assert!(
            all.html.contains(&format!("<code>{ws}</code>")),
            "{}",
            all.html
        );
    }
    let owner = person(&node, "o@example.com", &[(&a, Role::Owner)]).await;
    assert_eq!(
        owner.get(&node.url("/console/admin/audit")).await.status,
        403
    );
}

#[tokio::test]
async fn an_owner_disconnects_an_integration_for_everyone() {
    let c = common::connected::connected().await;
    let home = c.browser.get(&c.node.url("/console")).await;
    let ws = common::console::workspace_id(&home);
    let tab = format!("/console/workspaces/{ws}/connections");
    let p = c.browser.get(&c.node.url(&tab)).await;
    assert_eq!(p.status, 200, "{}", p.html);
    assert!(p.html.contains("Make") && p.html.contains(common::connected::EMAIL));
    assert!(
        p.html
            .contains("<code class=\"scope\">offline_access</code>"),
        "{}",
        p.html
    );
    assert!(p.html.contains("Disconnect for everyone"));

    // A member sees who is connected but may not disconnect.
    let member = person(&c.node, "m@example.com", &[(&ws, Role::Member)]).await;
    let seen = member.get(&c.node.url(&tab)).await;
    assert!(seen.html.contains("Make") && !seen.html.contains("Disconnect for everyone"));
    let refused = submit(
        &member,
        &c.node,
        &tab,
        &format!("{tab}/disconnect"),
        &[("client_id", &c.client_id)],
    )
    .await;
    assert_eq!(refused.status, 403);
    assert_eq!(c.refresh().await.status, 200, "still connected");
    let confirm = format!("{tab}/disconnect?client_id={}", c.client_id);
    assert_eq!(member.get(&c.node.url(&confirm)).await.status, 403);

    // Without script, the button leads to a confirmation page that says
    // what is lost; an app that is not connected has none.
    let asked = c.browser.get(&c.node.url(&confirm)).await;
    assert_eq!(asked.status, 200, "{}", asked.html);
    assert!(
        asked.html.contains("Disconnect Make")
            && asked.html.contains("(one person)")
            && asked.html.contains("name=\"client_id\""),
        "{}",
        asked.html
    );
    let unknown = c
        .browser
        .get(&c.node.url(&format!("{tab}/disconnect?client_id=nobody")))
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(c.refresh().await.status, 200, "asking changes nothing");

    let done = submit(
        &c.browser,
        &c.node,
        &tab,
        &format!("{tab}/disconnect"),
        &[("client_id", &c.client_id)],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.html);
    let after = c
        .browser
        .get(&c.node.url(done.location.as_deref().unwrap()))
        .await;
    assert!(after.html.contains("No app is connected"), "{}", after.html);
    assert!(after.html.contains("disconnected for everyone"));
    assert_eq!(
        c.refresh().await.status,
        400,
        "the refresh token is revoked"
    );
    let again = submit(
        &c.browser,
        &c.node,
        &tab,
        &format!("{tab}/disconnect"),
        &[("client_id", &c.client_id)],
    )
    .await;
    assert_eq!(again.status, 404);
}
