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
            event,
            since,
            before_id,
            ..AuditQuery::workspace("w1", limit)
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
        // By actor, and across workspaces (the platform admin's view).
        store
            .append_audit(&AuditContext::system().entry(AuditEvent::UserCreated, 200))
            .await
            .unwrap();
        let by_actor = |actor: &str| AuditQuery {
            actor_id: Some(actor.into()),
            ..AuditQuery::workspace("w1", 10)
        };
        assert_eq!(store.list_audit(&by_actor("app_1")).await.unwrap().len(), 3);
        assert!(
            store
                .list_audit(&by_actor("app_2"))
                .await
                .unwrap()
                .is_empty()
        );
        let everywhere = AuditQuery {
            limit: 10,
            ..AuditQuery::default()
        };
        let all = store.list_audit(&everywhere).await.unwrap();
        assert_eq!(all.len(), 5, "{:?}", db.backend);
        assert_eq!(all[0].entry.event, AuditEvent::UserCreated);
        assert_eq!(all[1].entry.workspace_id.as_deref(), Some("w2"));

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
