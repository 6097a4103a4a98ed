//! Invitations, one-time links, members, passwords and sessions as the
//! console uses them, on every backend.

use super::*;
use crate::domain::invitation::InvitationRecord;
use crate::domain::one_time_link::{LinkPurpose, OneTimeLink};
use crate::storage::{Acceptance, Invitee, LinkUse};

fn invitation(id: &str, byte: u8, email: &str, role: Role) -> InvitationRecord {
    InvitationRecord {
        id: id.into(),
        token_hash: h(byte),
        workspace_id: "w1".into(),
        email: email.into(),
        role,
        invited_by: Some("u1".into()),
        created_at: 1_000,
        expires_at: 2_000,
        accepted_at: None,
        revoked_at: None,
    }
}

fn link(byte: u8, purpose: LinkPurpose, user_id: Option<&str>) -> OneTimeLink {
    OneTimeLink {
        token_hash: h(byte),
        purpose,
        user_id: user_id.map(str::to_owned),
        created_at: 1_000,
        expires_at: 2_000,
        used_at: None,
    }
}

#[tokio::test]
async fn an_invitation_is_taken_up_once_by_a_new_or_an_existing_account() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        let created = entry(AuditEvent::InvitationCreated);
        for (id, byte, email) in [("i1", 1, "bo@example.com"), ("i2", 2, "ann@example.com")] {
            let i = invitation(id, byte, email, Role::Admin);
            store.create_invitation(&i, &created).await.unwrap();
        }
        let pending = store.pending_invitations("w1", 1_500).await.unwrap();
        assert_eq!(pending.len(), 2, "{:?}", db.backend);
        assert!(
            store
                .pending_invitations("w1", 2_000)
                .await
                .unwrap()
                .is_empty()
        );
        let found = store.invitation_by_token(&h(1)).await.unwrap().unwrap();
        assert_eq!((found.id.as_str(), found.role), ("i1", Role::Admin));

        // A new account: created with its membership, in one go.
        let bo = user("u2", "bo@example.com");
        let accepted = entry(AuditEvent::InvitationAccepted);
        let joined = store
            .accept_invitation(&h(1), Invitee::New(&bo), 1_500, &accepted)
            .await
            .unwrap();
        let expected = Acceptance::Joined {
            workspace_id: "w1".into(),
            role: Role::Admin,
        };
        assert_eq!(joined, expected, "{:?}", db.backend);
        assert_eq!(store.memberships("u2").await.unwrap()[0].role, Role::Admin);
        // Twice: refused, and nothing is written.
        let users = count(&db, "users").await;
        let again = store
            .accept_invitation(
                &h(1),
                Invitee::New(&user("u3", "cy@example.com")),
                1_501,
                &accepted,
            )
            .await
            .unwrap();
        assert_eq!(again, Acceptance::Unusable);
        assert_eq!(count(&db, "users").await, users);

        // An existing member keeps the role they have.
        let ann = store
            .accept_invitation(&h(2), Invitee::Existing("u1"), 1_500, &accepted)
            .await
            .unwrap();
        assert!(matches!(ann, Acceptance::Joined { .. }));
        assert_eq!(store.memberships("u1").await.unwrap()[0].role, Role::Owner);

        // Expired, or new with a taken email: nothing changes.
        let late = invitation("i3", 3, "dee@example.com", Role::Member);
        store.create_invitation(&late, &created).await.unwrap();
        let expired = store
            .accept_invitation(&h(3), Invitee::Existing("u1"), 2_000, &accepted)
            .await
            .unwrap();
        assert_eq!(expired, Acceptance::Unusable);
        let taken = store
            .accept_invitation(
                &h(3),
                Invitee::New(&user("u4", "ann@example.com")),
                1_500,
                &accepted,
            )
            .await
            .unwrap();
        assert_eq!(taken, Acceptance::EmailTaken, "{:?}", db.backend);
        let still = store.invitation_by_token(&h(3)).await.unwrap().unwrap();
        assert_eq!(still.accepted_at, None, "rolled back");
    }
}

#[tokio::test]
async fn only_a_pending_invitation_of_the_workspace_is_revoked() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        let i = invitation("i1", 1, "bo@example.com", Role::Member);
        store
            .create_invitation(&i, &entry(AuditEvent::InvitationCreated))
            .await
            .unwrap();
        let revoke = entry(AuditEvent::InvitationRevoked);
        assert!(
            !store
                .revoke_invitation("w2", "i1", 1_100, &revoke)
                .await
                .unwrap()
        );
        assert!(
            store
                .revoke_invitation("w1", "i1", 1_100, &revoke)
                .await
                .unwrap()
        );
        assert!(
            !store
                .revoke_invitation("w1", "i1", 1_100, &revoke)
                .await
                .unwrap()
        );
        assert_eq!(last_event(&store).await, AuditEvent::InvitationRevoked);
        let used = store
            .accept_invitation(&h(1), Invitee::Existing("u1"), 1_200, &revoke)
            .await
            .unwrap();
        assert_eq!(used, Acceptance::Unusable);
    }
}

#[tokio::test]
async fn a_setup_link_creates_one_platform_admin_once() {
    for db in TestDb::all().await {
        let store = db.store().await;
        assert!(!store.has_users().await.unwrap());
        let setup_link = link(5, LinkPurpose::Setup, None);
        store.create_link(&setup_link, None).await.unwrap();
        assert!(
            store
                .usable_link(&h(5), LinkPurpose::PasswordReset, 1_500)
                .await
                .unwrap()
                .is_none(),
            "a link serves its own purpose only"
        );
        let usable = store.usable_link(&h(5), LinkPurpose::Setup, 1_500).await;
        assert_eq!(usable.unwrap(), Some(setup_link));
        let admin = user("u1", "root@example.com");
        let created = AuditEntry::new(AuditEvent::UserCreated, Actor::system(), 1_500);
        let done = store.complete_setup(&h(5), &admin, 1_500, &created).await;
        assert_eq!(
            done.unwrap(),
            LinkUse::Done {
                user_id: "u1".into()
            }
        );
        let stored = store.user_by_id("u1").await.unwrap().unwrap();
        assert!(stored.platform_admin, "{:?}", db.backend);
        assert!(store.has_users().await.unwrap());
        let twice = store
            .complete_setup(&h(5), &user("u2", "two@example.com"), 1_501, &created)
            .await;
        assert_eq!(twice.unwrap(), LinkUse::Unusable);
        assert_eq!(count(&db, "users").await, 1);
    }
}

#[tokio::test]
async fn a_password_reset_sets_the_password_once_and_ends_every_session() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        let login = entry(AuditEvent::LoginSucceeded);
        store.create_session(&session(5_000), &login).await.unwrap();
        store
            .create_link(&link(6, LinkPurpose::PasswordReset, Some("u1")), None)
            .await
            .unwrap();
        let reset = entry(AuditEvent::PasswordReset);
        let done = store.reset_password(&h(6), "new-hash", 1_500, &reset).await;
        assert_eq!(
            done.unwrap(),
            LinkUse::Done {
                user_id: "u1".into()
            }
        );
        let u1 = store.user_by_id("u1").await.unwrap().unwrap();
        assert_eq!(u1.password_hash, "new-hash");
        assert!(store.user_sessions("u1", 1_500).await.unwrap().is_empty());
        let again = store.reset_password(&h(6), "other", 1_501, &reset).await;
        assert_eq!(again.unwrap(), LinkUse::Unusable, "{:?}", db.backend);
    }
}

#[tokio::test]
async fn sessions_are_listed_ended_and_reauthenticated_per_user() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        let login = entry(AuditEvent::LoginSucceeded);
        for byte in [1, 2, 3] {
            let s = SessionRecord {
                id_hash: h(byte),
                auth_time: 1_000 + i64::from(byte),
                ..session(5_000)
            };
            store.create_session(&s, &login).await.unwrap();
        }
        let listed = store.user_sessions("u1", 1_500).await.unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[0].id_hash, h(3), "newest sign-in first");
        assert_eq!(listed[0].user_agent.as_deref(), Some("Firefox"));
        assert!(store.user_sessions("u1", 5_000).await.unwrap().is_empty());

        assert!(store.reauthenticate(&h(1), 1_400).await.unwrap());
        let s1 = store.session(&h(1), 1_500).await.unwrap().unwrap();
        assert_eq!(s1.auth_time, 1_400);

        let ended = entry(AuditEvent::SessionsEnded);
        let n = store.end_sessions("u1", Some(&h(1)), &ended).await.unwrap();
        assert_eq!(n, 2, "{:?}", db.backend);
        assert!(store.session(&h(1), 1_500).await.unwrap().is_some());
        assert_eq!(store.end_sessions("u1", None, &ended).await.unwrap(), 1);
        assert!(!store.reauthenticate(&h(1), 1_400).await.unwrap());
    }
}

#[tokio::test]
async fn members_and_passwords() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        let owned = Workspace {
            id: "w3".into(),
            name: "Gamma".into(),
            created_at: 1_000,
        };
        let created = entry(AuditEvent::WorkspaceCreated);
        store
            .create_workspace(&owned, "app_w3", &secret(3), Some("u1"), &created)
            .await
            .unwrap();
        let bo = user("u2", "bo@example.com");
        let member = [("w3".to_owned(), Role::Member)];
        store
            .create_user(&bo, &member, &entry(AuditEvent::UserCreated))
            .await
            .unwrap();
        let members = store.members("w3").await.unwrap();
        let roles: Vec<_> = members
            .iter()
            .map(|m| (m.user_id.as_str(), m.role))
            .collect();
        assert_eq!(
            roles,
            [("u1", Role::Owner), ("u2", Role::Member)],
            "{:?}",
            db.backend
        );

        let login = entry(AuditEvent::LoginSucceeded);
        for byte in [1, 2] {
            let s = SessionRecord {
                id_hash: h(byte),
                ..session(5_000)
            };
            store.create_session(&s, &login).await.unwrap();
        }
        let changed = entry(AuditEvent::PasswordChanged);
        assert!(
            store
                .set_password("u1", "h2", Some(&h(1)), &changed)
                .await
                .unwrap()
        );
        assert_eq!(
            store.user_by_id("u1").await.unwrap().unwrap().password_hash,
            "h2"
        );
        let left = store.user_sessions("u1", 1_500).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].id_hash, h(1), "the asking session stays");
        assert!(
            !store
                .set_password("nope", "h", None, &changed)
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn a_rotation_notice_is_claimed_once_per_secret() {
    for db in TestDb::all().await {
        let store = with_w1(&db).await;
        // w1's secret was set at 1_000.
        assert!(
            store
                .claim_rotation_notices(1_000, 5_000)
                .await
                .unwrap()
                .is_empty()
        );
        let claimed = store.claim_rotation_notices(1_001, 5_000).await.unwrap();
        assert_eq!(claimed, [("w1".to_owned(), 1_000)], "{:?}", db.backend);
        assert!(
            store
                .claim_rotation_notices(9_000, 9_000)
                .await
                .unwrap()
                .is_empty()
        );
        let rotation = SecretRotation {
            now: 10_000,
            previous_expire_at: 10_000,
            revoke_issued_tokens: false,
        };
        let audit = entry(AuditEvent::SecretRegenerated);
        store
            .rotate_client_secret("app_1", &secret(2), rotation, &audit)
            .await
            .unwrap();
        assert!(
            store
                .claim_rotation_notices(10_000, 10_001)
                .await
                .unwrap()
                .is_empty()
        );
        let again = store.claim_rotation_notices(10_001, 20_000).await.unwrap();
        assert_eq!(again, [("w1".to_owned(), 10_000)]);
    }
}
