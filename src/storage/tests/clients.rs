//! Clients, their secrets and usage, on every backend.

use super::*;
use crate::domain::client::{CLI_CLIENT_ID, ClientGrant};

#[tokio::test]
async fn rotation_keeps_the_previous_secret_only_for_the_grace_period() {
    for db in TestDb::all().await {
        let store = with_w1(&db).await;
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
        let store = with_w1(&db).await;
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
        store.record_usage(&[usage(5, 1_500)], &[]).await.unwrap();
        store.record_usage(&[usage(2, 1_400)], &[]).await.unwrap();
        store.record_usage(&[], &[]).await.unwrap();
        let c = store.find_client("app_1", 0).await.unwrap().unwrap();
        assert_eq!(c.client.tokens_issued, 7);
        assert_eq!(c.client.last_used_at, Some(1_500));
        assert_eq!(c.secrets[0].last_used_at, Some(1_500));
    }
}

#[tokio::test]
async fn resource_servers_appkey_only_and_previous_secrets() {
    for db in TestDb::all().await {
        let store = with_w1(&db).await;
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
                .create_workspace(&workspace(ws), app, &secret(1), None, &audit())
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
        store.record_usage(&[usage], &[]).await.unwrap();
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

#[tokio::test]
async fn oauth_clients_round_trip_with_and_without_a_secret() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        assert_eq!(last_event(&store).await, AuditEvent::ClientCreated);
        let tp_1 = store.oauth_client("tp_1").await.unwrap();
        assert_eq!(tp_1, Some(third_party("tp_1", false)));
        let found = store.find_client("tp_1", 1_000).await.unwrap().unwrap();
        assert_eq!(found.client.kind, ClientKind::ThirdParty);
        let hashes: Vec<_> = found.secrets.iter().map(|s| s.hash).collect();
        assert_eq!(hashes, vec![h(7)]);

        let before = store.epochs().await.unwrap().credentials;
        let tp_2 = add_public_client(&store).await;
        assert_eq!(store.epochs().await.unwrap().credentials, before + 1);
        assert_eq!(store.oauth_client("tp_2").await.unwrap(), Some(tp_2));
        let found = store.find_client("tp_2", 1_000).await.unwrap().unwrap();
        assert!(found.secrets.is_empty());

        // Application clients have no OAuth settings.
        assert_eq!(store.oauth_client("app_w1").await.unwrap(), None);
        assert_eq!(store.oauth_client("nope").await.unwrap(), None);
    }
}

#[tokio::test]
async fn the_device_grant_is_registered_at_creation_and_changed_by_an_update() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let (client, mut oauth) = third_party("tp_3", true);
        oauth.device_grant = true;
        let created = entry(AuditEvent::ClientCreated);
        store
            .create_oauth_client(&client, &oauth, None, &created)
            .await
            .unwrap();
        let read = store.oauth_client("tp_3").await.unwrap().unwrap().1;
        assert!(read.device_grant, "{:?}", db.backend);
        assert_eq!(read, oauth);

        let updated = entry(AuditEvent::ClientUpdated);
        for on in [false, true] {
            oauth.device_grant = on;
            let done = store.update_oauth_client(&client.name, &oauth, &updated);
            assert!(done.await.unwrap());
            let read = store.oauth_client("tp_3").await.unwrap().unwrap().1;
            assert_eq!(read.device_grant, on, "{:?}", db.backend);
        }
    }
}

/// Runs `statements` behind the store's back, on a connection of its own.
async fn execute(db: &TestDb, statements: &[&'static str]) {
    use sqlx::Connection;
    if db.backend == Backend::Sqlite {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        for s in statements {
            sqlx::query(*s).execute(&mut c).await.unwrap();
        }
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        for s in statements {
            sqlx::query(*s).execute(&mut c).await.unwrap();
        }
    }
}

#[tokio::test]
async fn clients_registered_before_the_device_grant_existed_do_not_have_it() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        // The row as migration 0009 finds it: written without the column.
        execute(
            &db,
            &[
                "DELETE FROM oauth_clients WHERE client_id = 'tp_1'",
                "INSERT INTO oauth_clients (client_id, public, redirect_uris, post_logout_redirect_uris, \
                 scopes, logo_uri, id_token_alg) \
                 VALUES ('tp_1', FALSE, '[\"https://app.example/cb\"]', '[]', 'openid', NULL, 'RS256')",
            ],
        )
        .await;
        let (_, oauth) = store.oauth_client("tp_1").await.unwrap().unwrap();
        assert!(!oauth.device_grant, "{:?}", db.backend);
        assert_eq!(oauth.grant_types(), [ClientGrant::AuthorizationCode]);
    }
}

#[tokio::test]
async fn users_and_clients_are_listed_by_kind_oldest_first() {
    for db in TestDb::all().await {
        let store = db.store().await;
        assert!(store.list_users().await.unwrap().is_empty());
        setup(&store).await;
        let mut later = user("u2", "bob@example.com");
        later.created_at = 2_000;
        store
            .create_user(&later, &[], &entry(AuditEvent::UserCreated))
            .await
            .unwrap();
        let ids: Vec<String> = store
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.id)
            .collect();
        assert_eq!(ids, ["u1", "u2"], "{:?}", db.backend);

        let (mut public, oauth) = third_party("tp_0", true);
        public.created_at = 500;
        store
            .create_oauth_client(&public, &oauth, None, &entry(AuditEvent::ClientCreated))
            .await
            .unwrap();
        let third: Vec<String> = store
            .list_clients(ClientKind::ThirdParty)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.client_id)
            .filter(|id| id != CLI_CLIENT_ID)
            .collect();
        assert_eq!(third, ["tp_0", "tp_1"]);
        let apps = store.list_clients(ClientKind::Application).await.unwrap();
        assert_eq!(apps.len(), 2);
        assert!(apps.iter().all(|c| c.workspace_id.is_some()));
        assert!(
            store
                .list_clients(ClientKind::ResourceServer)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// Migration 0010 registers keyflow's own CLI as a public client for the
/// device grant and loopback redirects, the same on both backends.
#[tokio::test]
async fn the_cli_client_is_registered_by_a_migration() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let (client, oauth) = store
            .oauth_client(CLI_CLIENT_ID)
            .await
            .unwrap()
            .expect("registered");
        assert_eq!(client.kind, ClientKind::ThirdParty, "{:?}", db.backend);
        assert!(client.workspace_id.is_none());
        assert!(oauth.public && oauth.device_grant);
        assert_eq!(
            oauth.redirect_uris,
            ["http://127.0.0.1/callback", "http://[::1]/callback"]
        );
        for s in [
            "openid",
            "email",
            "offline_access",
            "workspace:admin",
            "keys:write",
        ] {
            assert!(oauth.scopes.contains(s), "{s} on {:?}", db.backend);
        }
        assert!(!store.holds_data().await.unwrap(), "it holds no secret");
    }
}
