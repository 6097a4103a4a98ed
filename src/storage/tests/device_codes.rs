//! Device authorizations (RFC 8628), on every backend.

use super::*;
use crate::domain::device_code::{DeviceApproval, DeviceCodeRecord, DeviceCodeState};
use crate::storage::DeviceDecision;

/// A pending device authorization of tp_1: device code `h(byte)`, user
/// code `h(byte + 100)`, expiring at 1_600.
fn device(byte: u8, family: &str) -> DeviceCodeRecord {
    DeviceCodeRecord {
        device_code_hash: h(byte),
        user_code_hash: h(byte + 100),
        family_id: family.into(),
        client_id: "tp_1".into(),
        scope: ScopeSet::parse("openid offline_access").unwrap(),
        resources: vec!["https://api.example/".into()],
        created_at: 1_000,
        expires_at: 1_600,
        interval: 5,
        last_polled_at: None,
        state: DeviceCodeState::Pending,
        approval: None,
    }
}

fn approval() -> DeviceApproval {
    DeviceApproval {
        user_id: "u1".into(),
        workspace_id: "w1".into(),
        scope: ScopeSet::parse("openid").unwrap(),
        auth_time: 990,
    }
}

fn consent() -> ConsentRecord {
    ConsentRecord {
        user_id: "u1".into(),
        client_id: "tp_1".into(),
        workspace_id: "w1".into(),
        scope: ScopeSet::parse("openid").unwrap(),
        granted_at: 1_000,
    }
}

/// Allows the device code whose user code is `h(byte + 100)` at `now`,
/// recording the consent with it.
async fn allow(store: &Arc<dyn Store>, byte: u8, now: UnixTime) -> bool {
    let (approval, consent) = (approval(), consent());
    let granted = entry(AuditEvent::ConsentGranted);
    let decision = DeviceDecision::Allow {
        approval: &approval,
        consent: &consent,
        consent_audit: &granted,
    };
    let authorized = entry(AuditEvent::DeviceAuthorized);
    store
        .decide_device_code(&h(byte + 100), decision, now, &authorized)
        .await
        .unwrap()
}

async fn deny(store: &Arc<dyn Store>, byte: u8, now: UnixTime) -> bool {
    let denied = entry(AuditEvent::DeviceDenied);
    store
        .decide_device_code(&h(byte + 100), DeviceDecision::Deny, now, &denied)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_device_code_is_decided_once_and_redeemed_once() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        store.insert_device_code(&device(1, "fam")).await.unwrap();
        assert_eq!(
            store.device_code(&h(1)).await.unwrap(),
            Some(device(1, "fam"))
        );
        assert_eq!(
            store.device_code_by_user_code(&h(101)).await.unwrap(),
            Some(device(1, "fam"))
        );
        assert_eq!(store.device_code(&h(101)).await.unwrap(), None);
        // A user code is unique among the stored ones.
        let clash = DeviceCodeRecord {
            device_code_hash: h(2),
            ..device(1, "fam-2")
        };
        assert!(matches!(
            store.insert_device_code(&clash).await,
            Err(StorageError::Conflict)
        ));

        // Not allowed yet: nothing to redeem.
        let tokens = issue("at-1", "fam", Some(refresh(11, "fam", 9_000)));
        assert!(
            !store
                .redeem_device_code(&h(1), 1_010, &tokens)
                .await
                .unwrap()
        );

        // Allowed with its consent and both audit entries, together.
        let audited = count(&db, "audit_log").await;
        assert!(allow(&store, 1, 1_020).await);
        assert_eq!(count(&db, "audit_log").await, audited + 2);
        assert_eq!(last_event(&store).await, AuditEvent::DeviceAuthorized);
        assert_eq!(
            store.consent("u1", "tp_1", "w1").await.unwrap(),
            Some(consent())
        );
        // Decided once: a second decision changes nothing.
        assert!(!deny(&store, 1, 1_021).await);
        assert_eq!(last_event(&store).await, AuditEvent::DeviceAuthorized);
        let stored = store.device_code(&h(1)).await.unwrap().unwrap();
        assert_eq!(
            (stored.state, stored.approval),
            (DeviceCodeState::Allowed, Some(approval())),
            "{:?}",
            db.backend
        );

        // Redeemed once, with its tokens in the same transaction.
        assert!(
            store
                .redeem_device_code(&h(1), 1_030, &tokens)
                .await
                .unwrap()
        );
        assert_eq!(
            store.refresh_token(&h(11)).await.unwrap(),
            Some(refresh(11, "fam", 9_000))
        );
        let again = issue("at-2", "fam", Some(refresh(12, "fam", 9_000)));
        assert!(
            !store
                .redeem_device_code(&h(1), 1_031, &again)
                .await
                .unwrap()
        );
        assert_eq!(store.refresh_token(&h(12)).await.unwrap(), None);
        let stored = store.device_code(&h(1)).await.unwrap().unwrap();
        assert_eq!(stored.state, DeviceCodeState::Redeemed);
        assert_eq!(count(&db, "issued_access_tokens").await, 1);
    }
}

#[tokio::test]
async fn denied_and_expired_device_codes_issue_nothing() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        store.insert_device_code(&device(1, "fam-1")).await.unwrap();
        store.insert_device_code(&device(2, "fam-2")).await.unwrap();
        assert!(deny(&store, 1, 1_010).await);
        let denied = store.device_code(&h(1)).await.unwrap().unwrap();
        assert_eq!(
            (denied.state, denied.approval),
            (DeviceCodeState::Denied, None)
        );
        let tokens = issue("at-1", "fam-1", None);
        assert!(
            !store
                .redeem_device_code(&h(1), 1_020, &tokens)
                .await
                .unwrap()
        );

        // Past its expiry, a code can be neither decided nor redeemed, and
        // allowing it records no consent either.
        assert!(!allow(&store, 2, 1_600).await);
        assert_eq!(store.consent("u1", "tp_1", "w1").await.unwrap(), None);
        assert_eq!(
            store.device_code(&h(2)).await.unwrap().unwrap().state,
            DeviceCodeState::Pending
        );
        assert_eq!(count(&db, "issued_access_tokens").await, 0);
    }
}

#[tokio::test]
async fn of_two_polls_judged_by_the_same_last_poll_one_records() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        store.insert_device_code(&device(1, "fam")).await.unwrap();
        assert!(
            store
                .record_device_poll(&h(1), None, 1_005, 5)
                .await
                .unwrap()
        );
        // The other poll saw no earlier poll either: too late.
        assert!(
            !store
                .record_device_poll(&h(1), None, 1_005, 5)
                .await
                .unwrap()
        );
        // A slow_down grows the interval for the polls after it.
        assert!(
            store
                .record_device_poll(&h(1), Some(1_005), 1_007, 10)
                .await
                .unwrap()
        );
        let stored = store.device_code(&h(1)).await.unwrap().unwrap();
        assert_eq!(
            (stored.last_polled_at, stored.interval),
            (Some(1_007), 10),
            "{:?}",
            db.backend
        );
        // Once decided, polls are no longer recorded.
        assert!(allow(&store, 1, 1_010).await);
        assert!(
            !store
                .record_device_poll(&h(1), Some(1_007), 1_020, 10)
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn device_codes_are_purged_after_the_replay_window() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        store.insert_device_code(&device(1, "fam")).await.unwrap();
        // Expired at 1_600, kept an hour for late polls.
        assert_eq!(store.purge_expired_auth(5_199).await.unwrap(), 0);
        assert!(store.device_code(&h(1)).await.unwrap().is_some());
        assert_eq!(store.purge_expired_auth(5_200).await.unwrap(), 1);
        assert_eq!(store.device_code(&h(1)).await.unwrap(), None);
    }
}

/// A device grant ends with the consent like a code grant: its access
/// token (issued without a refresh token) is denylisted, and a code
/// allowed but not yet redeemed can no longer be.
#[tokio::test]
async fn revoking_the_consent_ends_device_grants() {
    for db in TestDb::all().await {
        let store = db.store().await;
        setup(&store).await;
        for (byte, family) in [(1, "fam-1"), (2, "fam-2")] {
            let code = device(byte, family);
            store.insert_device_code(&code).await.unwrap();
            assert!(allow(&store, byte, 1_010).await);
        }
        let tokens = issue("at-1", "fam-1", None);
        assert!(
            store
                .redeem_device_code(&h(1), 1_020, &tokens)
                .await
                .unwrap()
        );

        let revoked = entry(AuditEvent::ConsentRevoked);
        let revoke = store.revoke_consent("u1", "tp_1", "w1", 1_200, &revoked);
        assert!(revoke.await.unwrap());
        let denied = store.revocations(1_200, 0).await.unwrap().tokens;
        assert_eq!(denied, [("at-1".to_owned(), 5_000)], "{:?}", db.backend);
        let unredeemed = store.device_code(&h(2)).await.unwrap().unwrap();
        assert_eq!(unredeemed.state, DeviceCodeState::Denied);
        let late = issue("at-2", "fam-2", None);
        assert!(!store.redeem_device_code(&h(2), 1_210, &late).await.unwrap());
    }
}
