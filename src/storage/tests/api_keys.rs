//! API keys, on every backend.

use super::*;

#[tokio::test]
async fn api_keys_are_stored_changed_rolled_and_revoked() {
    for db in TestDb::all().await {
        let store = with_w1(&db).await;
        let k1 = api_key("k1", "sk_0000001", 1);
        store.insert_api_key(&k1, &audit()).await.unwrap();
        let dup = store
            .insert_api_key(&api_key("k2", "sk_0000001", 2), &audit())
            .await;
        assert!(
            matches!(dup, Err(StorageError::Conflict)),
            "{:?}",
            db.backend
        );
        assert_eq!(
            store.api_key_by_prefix("sk_0000001").await.unwrap(),
            Some(k1.clone())
        );
        assert_eq!(
            store
                .list_api_keys("w1", Some("sk_0000001"))
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            store
                .list_api_keys("w1", Some("sk_nope"))
                .await
                .unwrap()
                .is_empty()
        );

        let changes = ApiKeyChanges {
            name: Some("renamed".into()),
            deactivated: Some(true),
            rate_limits: Some(Some("{\"read\":10}".into())),
            ..Default::default()
        };
        // A write conditional on scopes the key no longer holds (a
        // concurrent change widened or narrowed it) writes nothing.
        let stale = store
            .update_api_key("w1", "k1", "api:read", &changes, &audit())
            .await;
        assert!(stale.unwrap().is_none());
        assert!(
            !store
                .revoke_api_key("w1", "k1", "api:read", &audit())
                .await
                .unwrap()
        );
        let mut narrower = api_key("k5", "sk_0000005", 5);
        narrower.scopes = ScopeSet::parse("api:read").unwrap();
        assert!(
            !store
                .roll_api_key("w1", "k1", &narrower, 500, &audit())
                .await
                .unwrap()
        );
        assert!(
            store
                .api_key_by_prefix("sk_0000005")
                .await
                .unwrap()
                .is_none()
        );
        let k1 = store
            .api_key_by_prefix("sk_0000001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (k1.name.as_str(), k1.revoked_at, k1.expires_at),
            ("key k1", None, None)
        );

        let changed = store
            .update_api_key("w1", "k1", API_SCOPES, &changes, &audit())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (changed.name.as_str(), changed.deactivated),
            ("renamed", true)
        );
        assert_eq!(changed.scopes.to_string(), "api:read api:write");
        assert_eq!(changed.rate_limits.as_deref(), Some("{\"read\":10}"));
        assert!(
            store
                .update_api_key("w2", "k1", API_SCOPES, &changes, &audit())
                .await
                .unwrap()
                .is_none()
        );

        let new = api_key("k3", "sk_0000003", 3);
        assert!(
            store
                .roll_api_key("w1", "k1", &new, 500, &audit())
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .api_key_by_prefix("sk_0000001")
                .await
                .unwrap()
                .unwrap()
                .expires_at,
            Some(500)
        );
        assert!(
            !store
                .roll_api_key("w1", "nope", &api_key("k4", "sk_0000004", 4), 500, &audit())
                .await
                .unwrap()
        );

        store
            .record_api_key_usage(
                &[ApiKeyUsage {
                    id: "k3".into(),
                    uses: 3,
                    last_used_at: 700,
                }],
                &[],
            )
            .await
            .unwrap();
        let k3 = store
            .api_key_by_prefix("sk_0000003")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((k3.usage_count, k3.last_used_at), (3, Some(700)));

        assert!(
            store
                .revoke_api_key("w1", "k3", API_SCOPES, &audit())
                .await
                .unwrap()
        );
        assert!(
            !store
                .revoke_api_key("w1", "k3", API_SCOPES, &audit())
                .await
                .unwrap()
        );
        assert!(
            store
                .update_api_key("w1", "k3", API_SCOPES, &changes, &audit())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.list_api_keys("w1", None).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn stored_scopes_that_do_not_parse_are_corruption_not_an_empty_set() {
    for db in TestDb::all().await {
        let store = with_w1(&db).await;
        let key = api_key("k1", "sk_0000001", 1);
        store.insert_api_key(&key, &audit()).await.unwrap();
        raw_exec(&db.url, "UPDATE api_keys SET scopes = 'api:read \"broken'")
            .await
            .unwrap();
        for read in [
            store.api_key_by_prefix("sk_0000001").await.map(|_| ()),
            store.list_api_keys("w1", None).await.map(|_| ()),
        ] {
            assert!(
                matches!(read, Err(StorageError::Corrupt(_))),
                "{:?}: {read:?}",
                db.backend
            );
        }
    }
}

#[tokio::test]
async fn usage_by_day_adds_up_per_outcome_and_is_pruned() {
    use crate::domain::usage::{DailyCount, Outcome};
    for db in TestDb::all().await {
        let store = with_w1(&db).await;
        store
            .create_workspace(&workspace("w2"), "app_2", &secret(2), None, &audit())
            .await
            .unwrap();
        store
            .insert_api_key(&api_key("k1", "sk_0000001", 1), &audit())
            .await
            .unwrap();
        let mut other = api_key("k2", "sk_0000002", 2);
        other.workspace_id = "w2".into();
        store.insert_api_key(&other, &audit()).await.unwrap();
        let row = |subject: &str, day, outcome, count| DailyCount {
            subject: subject.into(),
            day,
            outcome,
            count,
        };
        // Two nodes' batches for the same day add up; a deleted key's
        // (here: never existing) counts are dropped, not an error.
        for _ in 0..2 {
            store
                .record_api_key_usage(
                    &[],
                    &[
                        row("k1", 100, Outcome::Success, 5),
                        row("k1", 100, Outcome::RateLimited, 1),
                        row("k1", 101, Outcome::Invalid, 2),
                        row("k2", 100, Outcome::Success, 7),
                        row("gone", 100, Outcome::Success, 1),
                    ],
                )
                .await
                .unwrap();
        }
        let mut w1 = store
            .api_key_usage("w1", &["k1", "k2"], 100, 101)
            .await
            .unwrap();
        w1.sort_by_key(|r| (r.day, r.outcome));
        assert_eq!(
            w1,
            vec![
                row("k1", 100, Outcome::Success, 10),
                row("k1", 100, Outcome::RateLimited, 2),
                row("k1", 101, Outcome::Invalid, 4),
            ],
            "{:?}",
            db.backend
        );
        assert_eq!(
            store
                .api_key_usage("w1", &["k1"], 101, 200)
                .await
                .unwrap()
                .len(),
            1
        );
        // A list of keys reads each one's rows; another workspace's key,
        // listed or alone, has none, and an empty list reads nothing.
        let listed = store
            .api_key_usage("w1", &["k2", "k1", "gone"], 0, 200)
            .await
            .unwrap();
        assert_eq!(listed.len(), 3, "{listed:?}");
        assert!(listed.iter().all(|r| r.subject == "k1"));
        for ids in [&["k2"][..], &[]] {
            assert!(
                store
                    .api_key_usage("w1", ids, 0, 200)
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
        assert!(
            store
                .api_key_usage("w1", &["k1"], 102, 200)
                .await
                .unwrap()
                .is_empty()
        );

        store
            .record_usage(
                &[],
                &[
                    row("app_1", 100, Outcome::Success, 3),
                    row("app_1", 100, Outcome::Invalid, 1),
                ],
            )
            .await
            .unwrap();
        store
            .record_usage(&[], &[row("app_1", 100, Outcome::Success, 4)])
            .await
            .unwrap();
        let mut app = store.client_usage("app_1", 100, 100).await.unwrap();
        app.sort_by_key(|r| r.outcome);
        assert_eq!(
            app,
            vec![
                row("app_1", 100, Outcome::Success, 7),
                row("app_1", 100, Outcome::Invalid, 1)
            ]
        );
        assert!(
            store
                .client_usage("app_2", 0, 1000)
                .await
                .unwrap()
                .is_empty()
        );

        // Everything before day 101 goes: k1's two rows and k2's, app_1's two.
        assert_eq!(store.prune_usage(101).await.unwrap(), 5, "{:?}", db.backend);
        assert_eq!(
            store
                .api_key_usage("w1", &["k1", "k2"], 0, 1000)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            store
                .client_usage("app_1", 0, 1000)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn the_key_table_pages_filters_sorts_and_counts_in_the_database() {
    use crate::domain::usage::{DailyCount, Outcome};
    use crate::storage::{KeyListQuery, KeySort};
    for db in TestDb::all().await {
        let store = with_w1(&db).await;
        // k0..k5: k0 revoked, k1 deactivated, k2 expired at 500, k3
        // expiring at 1_200, k4 and k5 active; k5 read-only, named "Zeta_1".
        for i in 0..6u8 {
            let mut k = api_key(&format!("k{i}"), &format!("sk_000000{i}"), i + 1);
            k.created_at = 100 + i64::from(i);
            k.name = if i == 5 {
                "Zeta_1".into()
            } else {
                format!("key {i}")
            };
            if i == 5 {
                k.key_type = crate::domain::api_key::ApiKeyType::ReadOnly;
            }
            k.expires_at = match i {
                2 => Some(500),
                3 => Some(1_200),
                _ => None,
            };
            k.deactivated = i == 1;
            store.insert_api_key(&k, &audit()).await.unwrap();
        }
        let used = ApiKeyUsage {
            id: "k4".into(),
            uses: 1,
            last_used_at: 900,
        };
        store.record_api_key_usage(&[used], &[]).await.unwrap();
        store
            .revoke_api_key("w1", "k0", API_SCOPES, &audit())
            .await
            .unwrap();
        let q = |status, search: Option<&str>, sort, offset, limit| KeyListQuery {
            search: search.map(str::to_owned),
            status,
            key_type: None,
            sort,
            now: 1_000,
            expiring_before: 1_500,
            offset,
            limit,
        };
        let ids = |page: (Vec<ApiKeyRecord>, u64)| {
            (page.0.into_iter().map(|k| k.id).collect::<Vec<_>>(), page.1)
        };
        let page = |q| {
            let store = Arc::clone(&store);
            async move { ids(store.api_key_page("w1", &q).await.unwrap()) }
        };
        assert_eq!(
            page(q(None, None, KeySort::NewestFirst, 0, 4)).await,
            (vec!["k5".into(), "k4".into(), "k3".into(), "k2".into()], 6),
            "{:?}",
            db.backend
        );
        assert_eq!(
            page(q(None, None, KeySort::OldestFirst, 4, 4)).await.0,
            ["k4", "k5"]
        );
        // Used first; the never used after them, newest first, on both
        // backends (PostgreSQL would put NULLs first by default).
        assert_eq!(
            page(q(None, None, KeySort::LastUsed, 0, 10)).await.0,
            ["k4", "k5", "k3", "k2", "k1", "k0"],
            "{:?}",
            db.backend
        );
        assert_eq!(
            page(q(None, None, KeySort::LastUsed, 1, 2)).await.0,
            ["k5", "k3"]
        );
        for (status, want) in [
            ("revoked", vec!["k0"]),
            ("deactivated", vec!["k1"]),
            ("expired", vec!["k2"]),
            ("expiring", vec!["k3"]),
            ("active", vec!["k5", "k4", "k3"]),
        ] {
            assert_eq!(
                page(q(Some(status), None, KeySort::NewestFirst, 0, 10))
                    .await
                    .0,
                want,
                "{status} on {:?}",
                db.backend
            );
        }
        // Name in any case, a prefix's start, and LIKE's wildcards taken
        // literally.
        assert_eq!(
            page(q(None, Some("zeta"), KeySort::NewestFirst, 0, 10))
                .await
                .0,
            ["k5"]
        );
        assert_eq!(
            page(q(None, Some("sk_0000003"), KeySort::NewestFirst, 0, 10))
                .await
                .0,
            ["k3"]
        );
        assert_eq!(
            page(q(None, Some("a_"), KeySort::NewestFirst, 0, 10))
                .await
                .0,
            ["k5"]
        );
        assert!(
            page(q(None, Some("%"), KeySort::NewestFirst, 0, 10))
                .await
                .0
                .is_empty()
        );
        let mut typed = q(None, None, KeySort::NewestFirst, 0, 10);
        typed.key_type = Some(crate::domain::api_key::ApiKeyType::ReadOnly);
        assert_eq!(page(typed).await, (vec!["k5".into()], 1));

        let (counts, stale) = store.api_key_counts("w1", 1_000, 950, 2).await.unwrap();
        assert_eq!(
            (counts.total, counts.active, counts.never_used, counts.stale),
            (6, 3, 2, 3),
            "{:?}",
            db.backend
        );
        assert_eq!(
            stale.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
            ["k3", "k5"]
        );

        let row = |subject: &str, outcome, count| DailyCount {
            subject: subject.into(),
            day: 10,
            outcome,
            count,
        };
        store
            .record_api_key_usage(
                &[],
                &[
                    row("k4", Outcome::Success, 7),
                    row("k3", Outcome::Success, 9),
                    row("k3", Outcome::RateLimited, 2),
                ],
            )
            .await
            .unwrap();
        let (mut totals, top) = store.api_key_usage_summary("w1", 0, 20, 1).await.unwrap();
        totals.sort();
        assert_eq!(totals, [(Outcome::Success, 16), (Outcome::RateLimited, 2)]);
        assert_eq!(top, [("k3".to_owned(), 9)]);
        assert_eq!(store.api_key("w1", "k3").await.unwrap().unwrap().id, "k3");
        assert_eq!(store.api_key("w2", "k3").await.unwrap(), None);
    }
}
