//! Workspaces, on every backend.

use super::*;

#[tokio::test]
async fn creates_a_workspace_with_its_application_client_atomically() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let before = store.epochs().await.unwrap();
        store
            .create_workspace(&workspace("w1"), "app_1", &secret(1), None, &audit())
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
            .create_workspace(&workspace("w2"), "app_1", &secret(2), None, &audit())
            .await;
        assert!(err.is_err(), "{:?}", db.backend);
        assert_eq!(store.get_workspace("w2").await.unwrap(), None);
        assert_eq!(store.list_workspaces().await.unwrap().len(), 1);
        assert!(store.find_client("nope", 0).await.unwrap().is_none());
    }
}
