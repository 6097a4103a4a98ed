//! Storage behaviour, run against every backend (SQLite always, PostgreSQL
//! when `KEYFLOW_TEST_POSTGRES_URL` is set, which CI requires).

use super::*;
use crate::crypto::signing::Algorithm;
use crate::domain::audit::AuditEntry;
use crate::domain::audit::{Actor, AuditContext, AuditEvent, AuditQuery, Origin};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::SecretHash;
use crate::domain::workspace::Workspace;
use crate::testing::TestDb;

fn workspace(id: &str) -> Workspace {
    Workspace {
        id: id.into(),
        name: format!("ws {id}"),
        created_at: 1_000,
    }
}

fn audit() -> AuditEntry {
    AuditEntry::new(AuditEvent::WorkspaceCreated, Actor::system(), 1_000)
}

fn secret(byte: u8) -> NewSecret {
    NewSecret::new(SecretHash([byte; 32]))
}

#[tokio::test]
async fn creates_a_workspace_with_its_application_client_atomically() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let before = store.epochs().await.unwrap();
        store
            .create_workspace(&workspace("w1"), "app_1", &secret(1), &audit())
            .await
            .unwrap();
        assert_eq!(
            store.get_workspace("w1").await.unwrap(),
            Some(workspace("w1"))
        );
        let found = store.find_client("app_1", 1_000).await.unwrap().unwrap();
        assert_eq!(found.client.workspace_id.as_deref(), Some("w1"));
        assert_eq!(found.client.kind, ClientKind::Application);
        assert_eq!(found.client.secret_rotated_at, Some(1_000));
        assert_eq!(found.secrets.len(), 1);
        assert_eq!(found.secrets[0].hash, SecretHash([1; 32]));
        assert_eq!(
            store.epochs().await.unwrap().credentials,
            before.credentials + 1
        );
        assert_eq!(
            store
                .application_client("w1")
                .await
                .unwrap()
                .unwrap()
                .client_id,
            "app_1"
        );

        // A second workspace reusing the client id fails and leaves nothing behind.
        let err = store
            .create_workspace(&workspace("w2"), "app_1", &secret(2), &audit())
            .await;
        assert!(err.is_err(), "{:?}", db.backend);
        assert_eq!(store.get_workspace("w2").await.unwrap(), None);
        assert_eq!(store.list_workspaces().await.unwrap().len(), 1);
        assert!(store.find_client("nope", 0).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn rotation_keeps_the_previous_secret_only_for_the_grace_period() {
    for db in TestDb::all().await {
        let store = db.store().await;
        store
            .create_workspace(&workspace("w1"), "app_1", &secret(1), &audit())
            .await
            .unwrap();
        let rotation = SecretRotation {
            now: 2_000,
            previous_expire_at: 2_060,
            revoke_issued_tokens: false,
        };
        assert!(
            store
                .rotate_client_secret("app_1", &secret(2), rotation, &audit())
                .await
                .unwrap()
        );
        let at = |t| {
            let store = Arc::clone(&store);
            async move {
                let c = store.find_client("app_1", t).await.unwrap().unwrap();
                c.secrets.iter().map(|s| s.hash.0[0]).collect::<Vec<_>>()
            }
        };
        assert_eq!(at(2_030).await, vec![2, 1]);
        assert_eq!(at(2_060).await, vec![2]);

        // An immediate rotation cuts the grace of the earlier one short.
        let now = SecretRotation {
            now: 2_010,
            previous_expire_at: 2_010,
            revoke_issued_tokens: false,
        };
        assert!(
            store
                .rotate_client_secret("app_1", &secret(3), now, &audit())
                .await
                .unwrap()
        );
        assert_eq!(at(2_011).await, vec![3]);
        let c = store.find_client("app_1", 2_011).await.unwrap().unwrap();
        assert_eq!(c.client.secret_rotated_at, Some(2_010));
        assert!(
            !store
                .rotate_client_secret("missing", &secret(4), now, &audit())
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn usage_batches_add_up_and_keep_the_latest_time() {
    for db in TestDb::all().await {
        let store = db.store().await;
        store
            .create_workspace(&workspace("w1"), "app_1", &secret(1), &audit())
            .await
            .unwrap();
        let secret_id = store
            .find_client("app_1", 0)
            .await
            .unwrap()
            .unwrap()
            .secrets[0]
            .id
            .clone();
        let usage = |n, t| ClientUsage {
            client_id: "app_1".into(),
            secret_id: secret_id.clone(),
            tokens_issued: n,
            last_used_at: t,
        };
        store.record_usage(&[usage(5, 1_500)]).await.unwrap();
        store.record_usage(&[usage(2, 1_400)]).await.unwrap();
        store.record_usage(&[]).await.unwrap();
        let c = store.find_client("app_1", 0).await.unwrap().unwrap();
        assert_eq!(c.client.tokens_issued, 7);
        assert_eq!(c.client.last_used_at, Some(1_500));
        assert_eq!(c.secrets[0].last_used_at, Some(1_500));
    }
}

#[tokio::test]
async fn signing_keys_retire_per_algorithm_and_bump_the_epoch() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let key = |kid: &str, alg, at| StoredSigningKey {
            kid: kid.into(),
            alg,
            sealed_private_key: vec![1, 2, 3],
            created_at: at,
            retired_at: None,
        };
        let e0 = store.epochs().await.unwrap().signing_keys;
        store
            .insert_signing_key(&key("es-1", Algorithm::ES256, 10), false, &audit())
            .await
            .unwrap();
        store
            .insert_signing_key(&key("rs-1", Algorithm::RS256, 10), false, &audit())
            .await
            .unwrap();
        store
            .insert_signing_key(&key("es-2", Algorithm::ES256, 20), true, &audit())
            .await
            .unwrap();
        let keys = store.list_signing_keys().await.unwrap();
        let retired: Vec<_> = keys
            .iter()
            .map(|k| (k.kid.as_str(), k.retired_at))
            .collect();
        assert_eq!(
            retired,
            vec![("es-1", Some(20)), ("rs-1", None), ("es-2", None)]
        );
        assert_eq!(keys[0].sealed_private_key, vec![1, 2, 3]);
        assert_eq!(store.epochs().await.unwrap().signing_keys, e0 + 3);
        assert!(
            store
                .insert_signing_key(&key("es-2", Algorithm::ES256, 30), true, &audit())
                .await
                .is_err()
        );
        // The failed insert rolled back its retirement of es-2.
        let keys = store.list_signing_keys().await.unwrap();
        assert_eq!(
            keys.iter().find(|k| k.kid == "es-2").unwrap().retired_at,
            None
        );
    }
}

#[tokio::test]
async fn migrations_are_idempotent_and_ping_works() {
    for db in TestDb::all().await {
        let store = db.store().await;
        store.migrate().await.unwrap();
        store.ping().await.unwrap();
        assert_eq!(store.backend(), db.backend);
    }
}

#[test]
fn urls_are_redacted_and_unknown_schemes_refused() {
    assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
    assert_eq!(redact_url("sqlite://keyflow.db"), "sqlite://keyflow.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert!(matches!(
        rt.block_on(connect("mysql://x")),
        Err(StorageError::UnsupportedUrl(_))
    ));
}

#[tokio::test]
async fn revocations_list_unexpired_tokens_and_recent_client_cutoffs() {
    for db in TestDb::all().await {
        let store = db.store().await;
        store
            .create_workspace(&workspace("w1"), "app_1", &secret(1), &audit())
            .await
            .unwrap();
        let e0 = store.epochs().await.unwrap().revocations;
        store
            .revoke_token("j1", "app_1", 2_000, &audit())
            .await
            .unwrap();
        store
            .revoke_token("j1", "app_1", 2_000, &audit())
            .await
            .unwrap();
        store
            .revoke_token("j2", "app_1", 1_500, &audit())
            .await
            .unwrap();
        assert_eq!(
            store.epochs().await.unwrap().revocations,
            e0 + 2,
            "a repeat is a no-op"
        );
        let rotation = SecretRotation {
            now: 1_200,
            previous_expire_at: 1_200,
            revoke_issued_tokens: true,
        };
        store
            .rotate_client_secret("app_1", &secret(2), rotation, &audit())
            .await
            .unwrap();
        let list = store.revocations(1_600, 3_600).await.unwrap();
        assert_eq!(list.tokens, vec![("j1".to_owned(), 2_000)]);
        assert_eq!(list.clients, vec![("app_1".to_owned(), 1_201)]);
        assert!(
            store
                .revocations(5_000, 3_600)
                .await
                .unwrap()
                .clients
                .is_empty()
        );
        assert_eq!(store.purge_revocations(1_600).await.unwrap(), 1);
        assert_eq!(store.revocations(0, 3_600).await.unwrap().tokens.len(), 1);
        let c = store.find_client("app_1", 1_600).await.unwrap().unwrap();
        assert_eq!(c.client.tokens_revoked_before, Some(1_201));
    }
}

#[tokio::test]
async fn the_audit_log_is_append_only_filterable_and_paged() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let ctx = AuditContext {
            actor: Actor::client("app_1"),
            origin: Origin {
                ip: Some("10.0.0.1".into()),
                user_agent: Some("ua".into()),
            },
        };
        for (i, event) in [
            AuditEvent::WorkspaceCreated,
            AuditEvent::SecretRegenerated,
            AuditEvent::TokenRevoked,
        ]
        .into_iter()
        .enumerate()
        {
            let e = ctx
                .entry(event, 100 + i as i64)
                .workspace("w1")
                .details(serde_json::json!({"n": i}));
            store.append_audit(&e).await.unwrap();
        }
        store
            .append_audit(&ctx.entry(AuditEvent::TokenRevoked, 100).workspace("w2"))
            .await
            .unwrap();
        let q = |event, since, before_id, limit| AuditQuery {
            workspace_id: "w1".into(),
            event,
            since,
            until: None,
            before_id,
            limit,
        };
        let all = store.list_audit(&q(None, None, None, 10)).await.unwrap();
        let events: Vec<_> = all.iter().map(|r| r.entry.event).collect();
        assert_eq!(
            events,
            vec![
                AuditEvent::TokenRevoked,
                AuditEvent::SecretRegenerated,
                AuditEvent::WorkspaceCreated
            ]
        );
        assert_eq!(all[0].entry.origin.ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(all[0].entry.details, serde_json::json!({"n": 2}));
        assert_eq!(all[0].entry.actor, Actor::client("app_1"));
        let page = store
            .list_audit(&q(None, None, Some(all[0].id), 1))
            .await
            .unwrap();
        assert_eq!(page[0].entry.event, AuditEvent::SecretRegenerated);
        let only = store
            .list_audit(&q(Some(AuditEvent::WorkspaceCreated), None, None, 10))
            .await
            .unwrap();
        assert_eq!(only.len(), 1);
        assert_eq!(
            store
                .list_audit(&q(None, Some(101), None, 10))
                .await
                .unwrap()
                .len(),
            2
        );

        // Neither UPDATE nor DELETE gets through.
        let pool_url = db.url.clone();
        assert!(
            raw_exec(&pool_url, "UPDATE audit_log SET event = 'x'")
                .await
                .is_err(),
            "{:?}",
            db.backend
        );
        assert!(
            raw_exec(&pool_url, "DELETE FROM audit_log").await.is_err(),
            "{:?}",
            db.backend
        );
    }
}

async fn raw_exec(url: &str, sql: &'static str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query(sql).execute(&mut c).await.map(|_| ())
    } else {
        let mut c = sqlx::PgConnection::connect(url).await?;
        sqlx::query(sql).execute(&mut c).await.map(|_| ())
    }
}

#[tokio::test]
async fn resource_servers_appkey_only_and_previous_secrets() {
    for db in TestDb::all().await {
        let store = db.store().await;
        store
            .create_workspace(&workspace("w1"), "app_1", &secret(1), &audit())
            .await
            .unwrap();
        assert!(
            !store
                .find_client("app_1", 0)
                .await
                .unwrap()
                .unwrap()
                .allow_appkey_only
        );
        assert!(
            store
                .set_allow_appkey_only("w1", true, &audit())
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_allow_appkey_only("nope", true, &audit())
                .await
                .unwrap()
        );
        assert!(
            store
                .find_client("app_1", 0)
                .await
                .unwrap()
                .unwrap()
                .allow_appkey_only
        );

        let rs = ClientRecord {
            client_id: "rs_1".into(),
            workspace_id: None,
            kind: ClientKind::ResourceServer,
            name: "reports".into(),
            secret_rotated_at: Some(5),
            tokens_issued: 0,
            last_used_at: None,
            created_at: 5,
            tokens_revoked_before: None,
        };
        store
            .create_client(&rs, &secret(9), &audit())
            .await
            .unwrap();
        let found = store.find_client("rs_1", 0).await.unwrap().unwrap();
        assert_eq!(found.client, rs);
        assert!(!found.allow_appkey_only);

        assert_eq!(store.previous_secrets("app_1", 1_000).await.unwrap(), []);
        let rotation = SecretRotation {
            now: 1_000,
            previous_expire_at: 1_060,
            revoke_issued_tokens: false,
        };
        store
            .rotate_client_secret("app_1", &secret(2), rotation, &audit())
            .await
            .unwrap();
        let prev = store.previous_secrets("app_1", 1_030).await.unwrap();
        assert_eq!(
            prev.iter()
                .map(|p| (p.hash, p.expires_at))
                .collect::<Vec<_>>(),
            [(SecretHash([1; 32]), Some(1_060))]
        );
        assert_eq!(store.previous_secrets("app_1", 1_060).await.unwrap(), []);
    }
}

#[tokio::test]
async fn previous_secrets_lists_every_secret_in_its_grace_period_newest_first() {
    for db in TestDb::all().await {
        let store = db.store().await;
        for (ws, app) in [("w1", "app_1"), ("w2", "app_2")] {
            store
                .create_workspace(&workspace(ws), app, &secret(1), &audit())
                .await
                .unwrap();
        }
        let rotate = |now, grace| SecretRotation {
            now,
            previous_expire_at: now + grace,
            revoke_issued_tokens: false,
        };
        let listed = |t| {
            let store = Arc::clone(&store);
            async move {
                let prev = store.previous_secrets("app_1", t).await.unwrap();
                prev.iter()
                    .map(|s| (s.hash.0[0], s.expires_at.unwrap(), s.last_used_at))
                    .collect::<Vec<_>>()
            }
        };
        // Secret 2 is made in the same second as secret 1 (1_000), and
        // superseded later, so it still comes first.
        let second = secret(2);
        for (s, now, grace) in [(&second, 1_000, 600), (&secret(3), 1_100, 600)] {
            assert!(
                store
                    .rotate_client_secret("app_1", s, rotate(now, grace), &audit())
                    .await
                    .unwrap()
            );
        }
        store
            .rotate_client_secret("app_2", &secret(9), rotate(1_100, 600), &audit())
            .await
            .unwrap();
        let usage = ClientUsage {
            client_id: "app_1".into(),
            secret_id: second.id.clone(),
            tokens_issued: 1,
            last_used_at: 1_150,
        };
        store.record_usage(&[usage]).await.unwrap();
        // The second rotation left the first one's grace period as it was.
        assert_eq!(
            listed(1_200).await,
            [(2, 1_700, Some(1_150)), (1, 1_600, None)]
        );
        assert_eq!(listed(1_600).await, [(2, 1_700, Some(1_150))]);
        assert_eq!(listed(1_700).await, []);

        // A shorter grace period ends longer ones with it; none ends them all.
        store
            .rotate_client_secret("app_1", &secret(4), rotate(1_200, 100), &audit())
            .await
            .unwrap();
        let expiries: Vec<i64> = listed(1_250).await.iter().map(|s| s.1).collect();
        assert_eq!(expiries, [1_300, 1_300, 1_300]);
        store
            .rotate_client_secret("app_1", &secret(5), rotate(1_250, 0), &audit())
            .await
            .unwrap();
        assert_eq!(listed(1_250).await, []);
        assert_eq!(
            store.previous_secrets("app_2", 1_200).await.unwrap().len(),
            1,
            "another client's secrets are its own"
        );
    }
}

const API_SCOPES: &str = "api:read api:write";

fn api_key(id: &str, prefix: &str, byte: u8) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        workspace_id: "w1".into(),
        name: format!("key {id}"),
        key_type: crate::domain::api_key::ApiKeyType::Secret,
        prefix: prefix.into(),
        hash: SecretHash([byte; 32]),
        scopes: ScopeSet::parse(API_SCOPES).unwrap(),
        rate_limits: None,
        created_at: 100,
        created_by: "app_1".into(),
        expires_at: None,
        deactivated: false,
        revoked_at: None,
        last_used_at: None,
        usage_count: 0,
    }
}

#[tokio::test]
async fn api_keys_are_stored_changed_rolled_and_revoked() {
    for db in TestDb::all().await {
        let store = db.store().await;
        store
            .create_workspace(&workspace("w1"), "app_1", &secret(1), &audit())
            .await
            .unwrap();
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
            .record_api_key_usage(&[ApiKeyUsage {
                id: "k3".into(),
                uses: 3,
                last_used_at: 700,
            }])
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
        let store = db.store().await;
        store
            .create_workspace(&workspace("w1"), "app_1", &secret(1), &audit())
            .await
            .unwrap();
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

mod auth;
