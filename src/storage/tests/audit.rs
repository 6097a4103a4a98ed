//! The audit log, on every backend.

use super::*;

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
