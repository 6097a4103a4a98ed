//! Signing keys and revocations, on every backend.

use super::*;

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
async fn revocations_list_unexpired_tokens_and_recent_client_cutoffs() {
    for db in TestDb::all().await {
        let store = with_w1(&db).await;
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
