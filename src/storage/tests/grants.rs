//! Consents, codes and refresh tokens, on every backend.

use super::*;

#[tokio::test]
async fn revoking_consent_revokes_the_grant_and_its_tokens() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        add_public_client(&store).await;
        let consent = |client: &str, scope: &str, at| ConsentRecord {
            user_id: "u1".into(),
            client_id: client.into(),
            workspace_id: "w1".into(),
            scope: ScopeSet::parse(scope).unwrap(),
            granted_at: at,
        };
        let granted = entry(AuditEvent::ConsentGranted);
        let newer = consent("tp_1", "openid profile", 1_100);
        for c in [
            consent("tp_1", "openid", 1_000),
            consent("tp_2", "openid", 1_050),
            newer.clone(),
        ] {
            store.save_consent(&c, &granted).await.unwrap();
        }
        assert_eq!(last_event(&store).await, AuditEvent::ConsentGranted);
        let stored = store.consent("u1", "tp_1", "w1").await.unwrap();
        assert_eq!(stored, Some(newer.clone()), "replaced, not added");
        assert_eq!(count(&db, "consents").await, 2);
        let apps = store.connected_apps("u1").await.unwrap();
        let tp_1 = ConnectedApp {
            consent: newer,
            client_name: "App tp_1".into(),
            logo_uri: Some("https://app.example/logo.png".into()),
            workspace_name: "Beta".into(),
            user_email: "ann@example.com".into(),
        };
        assert_eq!(apps[0], tp_1, "newest first");
        assert_eq!(
            (apps.len(), apps[1].consent.client_id.as_str()),
            (2, "tp_2")
        );

        // Family a has a refresh token, family b only an access token; c is
        // another client's grant and must survive.
        redeemed(&store, 1, "fam-a", Some(9_000)).await;
        redeemed(&store, 2, "fam-b", None).await;
        let other = AuthCodeRecord {
            client_id: "tp_2".into(),
            ..code(3, "fam-c", 1_060)
        };
        store.insert_auth_code(&other).await.unwrap();
        let tokens = issue("at-3", "fam-c", None);
        assert!(store.redeem_auth_code(&h(3), 1_010, &tokens).await.unwrap());

        // A code issued just before the disconnect, not yet redeemed.
        store
            .insert_auth_code(&code(4, "fam-d", 1_260))
            .await
            .unwrap();

        let epoch = store.epochs().await.unwrap().revocations;
        let revoked = entry(AuditEvent::ConsentRevoked);
        let revoke = store.revoke_consent("u1", "tp_1", "w1", 1_200, &revoked);
        assert!(revoke.await.unwrap());
        let rt = store.refresh_token(&h(11)).await.unwrap().unwrap();
        assert_eq!(rt.revoked_at, Some(1_200));
        let denied = store.revocations(1_200, 0).await.unwrap().tokens;
        assert_eq!(
            denied,
            [("at-1".to_owned(), 5_000), ("at-2".to_owned(), 5_000)]
        );
        assert_eq!(store.epochs().await.unwrap().revocations, epoch + 1);
        assert_eq!(store.consent("u1", "tp_1", "w1").await.unwrap(), None);
        let pending = store.auth_code(&h(4)).await.unwrap().unwrap();
        assert_eq!(
            pending.state,
            CodeState::Revoked,
            "pending codes are revoked"
        );
        assert_eq!(store.connected_apps("u1").await.unwrap().len(), 1);
        assert_eq!(last_event(&store).await, AuditEvent::ConsentRevoked);

        let audited = count(&db, "audit_log").await;
        let again = store.revoke_consent("u1", "tp_1", "w1", 1_300, &revoked);
        assert!(!again.await.unwrap());
        assert_eq!(count(&db, "audit_log").await, audited);
    }
}

/// An owner ends a client's grants in the workspace for everybody; other
/// clients and other workspaces keep theirs.
#[tokio::test]
async fn a_client_is_disconnected_from_a_workspace_for_everybody() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        add_public_client(&store).await;
        let members = [
            ("w1".to_owned(), Role::Member),
            ("w2".to_owned(), Role::Member),
        ];
        store
            .create_user(
                &user("u2", "bo@example.com"),
                &members,
                &entry(AuditEvent::UserCreated),
            )
            .await
            .unwrap();
        let consent = |user: &str, client: &str, ws: &str| ConsentRecord {
            user_id: user.into(),
            client_id: client.into(),
            workspace_id: ws.into(),
            scope: ScopeSet::parse("openid").unwrap(),
            granted_at: 1_000,
        };
        for c in [
            consent("u1", "tp_1", "w1"),
            consent("u2", "tp_1", "w1"),
            consent("u2", "tp_2", "w1"),
            consent("u2", "tp_1", "w2"),
        ] {
            store
                .save_consent(&c, &entry(AuditEvent::ConsentGranted))
                .await
                .unwrap();
        }
        redeemed(&store, 1, "fam-a", Some(9_000)).await;
        let apps = store.workspace_connected_apps("w1").await.unwrap();
        let who: Vec<_> = apps
            .iter()
            .map(|a| (a.consent.client_id.as_str(), a.user_email.as_str()))
            .collect();
        assert_eq!(
            who,
            [
                ("tp_1", "ann@example.com"),
                ("tp_1", "bo@example.com"),
                ("tp_2", "bo@example.com")
            ],
            "{:?}",
            db.backend
        );
        let revoked = entry(AuditEvent::ConsentRevoked);
        let ended = store
            .revoke_client_in_workspace("tp_1", "w1", 1_200, &revoked)
            .await
            .unwrap();
        assert_eq!(ended, 2);
        let rt = store.refresh_token(&h(11)).await.unwrap().unwrap();
        assert_eq!(rt.revoked_at, Some(1_200), "their tokens end too");
        let left = store.workspace_connected_apps("w1").await.unwrap();
        assert_eq!(
            (left.len(), left[0].consent.client_id.as_str()),
            (1, "tp_2")
        );
        assert_eq!(store.workspace_connected_apps("w2").await.unwrap().len(), 1);
        let audited = count(&db, "audit_log").await;
        assert_eq!(
            store
                .revoke_client_in_workspace("tp_1", "w1", 1_300, &revoked)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            count(&db, "audit_log").await,
            audited,
            "nothing to end, nothing audited"
        );
    }
}

/// RFC 6749 §4.1.2: a code works once, and only before it expires.
#[tokio::test]
async fn authorization_codes_are_redeemed_once() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        pending(&store, 1, "fam").await;
        let stored = store.auth_code(&h(1)).await.unwrap();
        assert_eq!(stored, Some(code(1, "fam", 1_060)));
        let first = issue("at-1", "fam", Some(refresh(11, "fam", 9_000)));
        assert!(store.redeem_auth_code(&h(1), 1_010, &first).await.unwrap());
        let stored = store.auth_code(&h(1)).await.unwrap().unwrap();
        assert_eq!(stored.state, CodeState::Exchanged);
        let rt = store.refresh_token(&h(11)).await.unwrap();
        assert_eq!(rt, Some(refresh(11, "fam", 9_000)));

        // A replay, an expired code and an unknown one write nothing.
        let replay = issue("at-2", "fam", Some(refresh(12, "fam", 9_000)));
        assert!(!store.redeem_auth_code(&h(1), 1_011, &replay).await.unwrap());
        pending(&store, 2, "fam-2").await;
        assert!(!store.redeem_auth_code(&h(2), 1_060, &replay).await.unwrap());
        assert!(!store.redeem_auth_code(&h(3), 1_010, &replay).await.unwrap());
        let stored = store.auth_code(&h(2)).await.unwrap().unwrap();
        assert_eq!(stored.state, CodeState::Pending);
        assert_eq!(store.refresh_token(&h(12)).await.unwrap(), None);
        assert_eq!(count(&db, "issued_access_tokens").await, 1);
    }
}

/// RFC 9700 §4.14.2: refresh tokens rotate; reuse after the grace period
/// fails (and the caller then revokes the family).
#[tokio::test]
async fn refresh_tokens_rotate_with_a_grace_period_and_families_revoke() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        redeemed(&store, 1, "fam", Some(9_000)).await;
        let rotate = |old: u8, now, not_before, new: u8| {
            let store = Arc::clone(&store);
            async move {
                let next = issue(
                    &format!("at-{new}"),
                    "fam",
                    Some(refresh(new, "fam", 9_000)),
                );
                store
                    .rotate_refresh_token(&h(old), now, not_before, &next)
                    .await
                    .unwrap()
            }
        };
        assert!(rotate(11, 2_000, 1_970, 12).await);
        // A retry inside the grace period works and keeps the first time.
        assert!(rotate(11, 2_020, 1_990, 13).await);
        let rt = store.refresh_token(&h(11)).await.unwrap().unwrap();
        assert_eq!(rt.rotated_at, Some(2_000));
        assert!(!rotate(11, 2_031, 2_001, 14).await, "grace is over");
        assert_eq!(store.refresh_token(&h(14)).await.unwrap(), None);
        assert_eq!(count(&db, "issued_access_tokens").await, 3);

        let epoch = store.epochs().await.unwrap().revocations;
        let revoked = entry(AuditEvent::GrantRevoked);
        let n = store.revoke_family("fam", 2_100, &revoked).await.unwrap();
        assert_eq!(n, 3);
        assert_eq!(last_event(&store).await, AuditEvent::GrantRevoked);
        let denied = store.revocations(2_100, 0).await.unwrap().tokens;
        let jtis: Vec<_> = denied.iter().map(|(jti, _)| jti.as_str()).collect();
        assert_eq!(jtis, ["at-1", "at-12", "at-13"]);
        assert_eq!(store.epochs().await.unwrap().revocations, epoch + 1);
        assert!(!rotate(12, 2_200, 2_170, 15).await, "revoked");
        let n = store.revoke_family("fam", 2_300, &revoked).await.unwrap();
        assert_eq!(n, 0);

        redeemed(&store, 7, "fam-2", Some(3_000)).await;
        assert!(!rotate(17, 3_000, 2_970, 18).await, "expired");
    }
}

/// Of concurrent exchanges of one code or refresh token, exactly one claims
/// it and writes; a claim whose issuance fails to insert is undone with it.
#[tokio::test]
async fn concurrent_exchanges_claim_once_and_failures_write_nothing() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        pending(&store, 1, "fam").await;
        let redemptions = (0..8u8).map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let tokens = issue(
                    &format!("at-c{i}"),
                    "fam",
                    Some(refresh(20 + i, "fam", 9_000)),
                );
                store.redeem_auth_code(&h(1), 1_010, &tokens).await.unwrap()
            })
        });
        assert_eq!(winners(redemptions).await, 1, "{:?}", db.backend);
        assert_eq!(count(&db, "issued_access_tokens").await, 1);
        assert_eq!(count(&db, "refresh_tokens").await, 1);

        // The winner's refresh token, rotated concurrently with no grace
        // period: one successor.
        let mut winner = None;
        for i in 20..28u8 {
            if store.refresh_token(&h(i)).await.unwrap().is_some() {
                winner = Some(i);
            }
        }
        let winner = winner.unwrap();
        let rotations = (0..8u8).map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let next = issue(
                    &format!("at-r{i}"),
                    "fam",
                    Some(refresh(40 + i, "fam", 9_000)),
                );
                store
                    .rotate_refresh_token(&h(winner), 2_000, 2_001, &next)
                    .await
                    .unwrap()
            })
        });
        assert_eq!(winners(rotations).await, 1, "{:?}", db.backend);
        assert_eq!(count(&db, "issued_access_tokens").await, 2);
        assert_eq!(count(&db, "refresh_tokens").await, 2);

        // An access token id already taken: the insert fails, and the code
        // it would have consumed stays pending.
        pending(&store, 2, "fam-2").await;
        let taken = format!("at-c{}", winner - 20);
        let clash = issue(&taken, "fam-2", Some(refresh(60, "fam-2", 9_000)));
        assert!(store.redeem_auth_code(&h(2), 1_010, &clash).await.is_err());
        let stored = store.auth_code(&h(2)).await.unwrap().unwrap();
        assert_eq!(stored.state, CodeState::Pending, "{:?}", db.backend);
        assert_eq!(store.refresh_token(&h(60)).await.unwrap(), None);
        assert_eq!(count(&db, "issued_access_tokens").await, 2);
    }
}

/// How many of the attempts, spawned together, succeeded.
async fn winners(attempts: impl Iterator<Item = tokio::task::JoinHandle<bool>>) -> usize {
    let mut won = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        won += usize::from(attempt.await.unwrap());
    }
    won
}

#[tokio::test]
async fn purging_keeps_codes_for_replay_detection_and_live_families() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        let login = entry(AuditEvent::LoginSucceeded);
        store.create_session(&session(2_000), &login).await.unwrap();
        redeemed(&store, 1, "fam", Some(3_000)).await;
        pending(&store, 2, "fam-2").await;

        // The session; both codes are still inside the replay window.
        assert_eq!(store.purge_expired_auth(2_500).await.unwrap(), 1);
        // The refresh token and the unused code; the used one still leads
        // to a live access token.
        assert_eq!(store.purge_expired_auth(4_700).await.unwrap(), 2);
        assert!(store.auth_code(&h(1)).await.unwrap().is_some());
        assert_eq!(store.auth_code(&h(2)).await.unwrap(), None);
        // The access token and, with it gone, its code.
        assert_eq!(store.purge_expired_auth(5_000).await.unwrap(), 2);
        assert_eq!(store.auth_code(&h(1)).await.unwrap(), None);
        assert_eq!(store.purge_expired_auth(9_000).await.unwrap(), 0);
    }
}
