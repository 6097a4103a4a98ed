//! Users, memberships, sessions and rate-limit refunds, on every backend.

use super::*;

#[tokio::test]
async fn users_and_memberships_are_written_atomically() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        let ann = user("u1", "ann@example.com");
        let by_email = store.user_by_email("ann@example.com").await.unwrap();
        assert_eq!(by_email, Some(ann.clone()));
        assert_eq!(store.user_by_id("u1").await.unwrap(), Some(ann));
        assert_eq!(store.user_by_id("nope").await.unwrap(), None);
        let owner = Membership {
            workspace_id: "w1".into(),
            workspace_name: "Beta".into(),
            role: Role::Owner,
        };
        assert_eq!(store.memberships("u1").await.unwrap(), vec![owner.clone()]);

        // A taken email, or a membership in a missing workspace, writes nothing.
        let audited = count(&db, "audit_log").await;
        let created = entry(AuditEvent::UserCreated);
        let w2 = [("w2".to_owned(), Role::Member)];
        let dup = store
            .create_user(&user("u2", "ann@example.com"), &w2, &created)
            .await;
        assert!(
            matches!(dup, Err(StorageError::Conflict)),
            "{:?}",
            db.backend
        );
        let missing = [w2[0].clone(), ("nope".to_owned(), Role::Admin)];
        let bad = store
            .create_user(&user("u3", "bo@example.com"), &missing, &created)
            .await;
        assert!(
            matches!(bad, Err(StorageError::Database(_))),
            "{:?}",
            db.backend
        );
        assert_eq!(store.user_by_id("u3").await.unwrap(), None);
        assert_eq!(count(&db, "users").await, 1);
        assert_eq!(count(&db, "memberships").await, 1);

        let changed = entry(AuditEvent::MembershipChanged);
        for (user_id, workspace_id) in [("nope", "w1"), ("u1", "nope")] {
            let set = store.set_membership(user_id, workspace_id, Role::Admin, &changed);
            assert_eq!(set.await.unwrap(), MembershipChange::Missing);
        }
        assert_eq!(count(&db, "audit_log").await, audited);
        for role in [Role::Member, Role::Admin] {
            let set = store.set_membership("u1", "w2", role, &changed);
            assert_eq!(set.await.unwrap(), MembershipChange::Done);
        }
        // u1 is w1's only owner: not demoted, and nothing written.
        let set = store.set_membership("u1", "w1", Role::Admin, &changed);
        assert_eq!(set.await.unwrap(), MembershipChange::LastOwner);
        let set = store.set_membership("u1", "w1", Role::Owner, &changed);
        assert_eq!(set.await.unwrap(), MembershipChange::Done);
        let alpha = Membership {
            workspace_id: "w2".into(),
            workspace_name: "Alpha".into(),
            role: Role::Admin,
        };
        assert_eq!(
            store.memberships("u1").await.unwrap(),
            vec![alpha.clone(), owner.clone()]
        );
        assert_eq!(last_event(&store).await, AuditEvent::MembershipChanged);

        // The user and their memberships in one read, in the same order;
        // a user of no workspace still comes back.
        let (ann, theirs) = store.user_with_memberships("u1").await.unwrap().unwrap();
        assert_eq!(ann, user("u1", "ann@example.com"));
        assert_eq!(theirs, vec![alpha, owner]);
        let bo = user("u4", "bo@example.com");
        store.create_user(&bo, &[], &created).await.unwrap();
        assert_eq!(
            store.user_with_memberships("u4").await.unwrap(),
            Some((bo, vec![]))
        );
        assert_eq!(store.user_with_memberships("nope").await.unwrap(), None);
    }
}

#[tokio::test]
async fn sessions_expire_and_are_deleted() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        let login = entry(AuditEvent::LoginSucceeded);
        store.create_session(&session(2_000), &login).await.unwrap();
        assert_eq!(last_event(&store).await, AuditEvent::LoginSucceeded);
        let live = store.session(&h(1), 1_999).await.unwrap();
        assert_eq!(live, Some(session(2_000)));
        assert_eq!(store.session(&h(1), 2_000).await.unwrap(), None);
        assert_eq!(store.session(&h(2), 1_500).await.unwrap(), None);
        store.delete_session(&h(1)).await.unwrap();
        assert_eq!(store.session(&h(1), 1_500).await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_refund_gives_back_one_step() {
    for db in TestDb::all().await {
        let store = db.store().await;
        // A burst of two (tolerance one step of 100).
        let step = |store: &std::sync::Arc<dyn crate::storage::Store>| {
            let store = store.clone();
            async move {
                store
                    .rate_limit_advance("login:x", 1_000, 100, 100)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(step(&store).await, Ok(1_100));
        assert_eq!(step(&store).await, Ok(1_200));
        assert_eq!(step(&store).await, Err(1_200));
        store.rate_limit_refund("login:x", 100).await.unwrap();
        assert_eq!(step(&store).await, Ok(1_200));
        // Refunding a bucket that does not exist is harmless.
        store.rate_limit_refund("login:none", 100).await.unwrap();
    }
}
