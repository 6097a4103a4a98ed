//! `AuthStore` behaviour, run against every backend like `tests.rs`.

use crate::crypto::signing::Algorithm;
use crate::domain::audit::AuditEntry;
use crate::domain::audit::{Actor, AuditEvent, AuditQuery};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::SecretHash;
use crate::domain::user::Role;
use crate::domain::workspace::Workspace;
use crate::storage::*;
use crate::testing::TestDb;

fn h(byte: u8) -> SecretHash {
    SecretHash([byte; 32])
}

fn entry(event: AuditEvent) -> AuditEntry {
    AuditEntry::new(event, Actor::user("u1"), 1_000).workspace("w1")
}

fn user(id: &str, email: &str) -> UserRecord {
    UserRecord {
        id: id.into(),
        email: email.into(),
        name: Some(format!("User {id}")),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: 1_000,
        disabled_at: None,
    }
}

fn third_party(id: &str, public: bool) -> (ClientRecord, OAuthClientRecord) {
    let client = ClientRecord {
        client_id: id.into(),
        workspace_id: None,
        kind: ClientKind::ThirdParty,
        name: format!("App {id}"),
        secret_rotated_at: (!public).then_some(1_000),
        tokens_issued: 0,
        last_used_at: None,
        created_at: 1_000,
        tokens_revoked_before: None,
    };
    let oauth = OAuthClientRecord {
        client_id: id.into(),
        public,
        redirect_uris: vec![
            "https://app.example/cb".into(),
            "http://127.0.0.1/cb".into(),
        ],
        post_logout_redirect_uris: vec!["https://app.example/bye".into()],
        scopes: ScopeSet::parse("openid profile").unwrap(),
        logo_uri: (!public).then(|| "https://app.example/logo.png".into()),
        id_token_alg: Algorithm::EdDSA,
    };
    (client, oauth)
}

fn code(byte: u8, family: &str, expires_at: UnixTime) -> AuthCodeRecord {
    AuthCodeRecord {
        code_hash: h(byte),
        family_id: family.into(),
        client_id: "tp_1".into(),
        user_id: "u1".into(),
        workspace_id: "w1".into(),
        redirect_uri: "https://app.example/cb".into(),
        scope: ScopeSet::parse("openid").unwrap(),
        resources: vec!["https://api.example/".into()],
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        auth_time: 990,
        created_at: 1_000,
        expires_at,
        state: CodeState::Pending,
    }
}

fn refresh(byte: u8, family: &str, expires_at: UnixTime) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: h(byte),
        family_id: family.into(),
        client_id: "tp_1".into(),
        user_id: "u1".into(),
        workspace_id: "w1".into(),
        scope: ScopeSet::parse("openid").unwrap(),
        resources: vec!["https://api.example/".into()],
        auth_time: 990,
        created_at: 1_000,
        expires_at,
        rotated_at: None,
        revoked_at: None,
    }
}

/// An access token expiring at 5_000 and, maybe, a refresh token.
fn issue(jti: &str, family: &str, refresh: Option<RefreshTokenRecord>) -> Issuance {
    let access = IssuedAccessToken {
        jti: jti.into(),
        family_id: family.into(),
        client_id: "tp_1".into(),
        expires_at: 5_000,
    };
    Issuance { access, refresh }
}

/// Workspaces w1 "Beta" and w2 "Alpha", user u1 owning w1, and tp_1: a
/// confidential third-party client.
async fn setup(store: &Arc<dyn Store>) {
    for (id, name) in [("w1", "Beta"), ("w2", "Alpha")] {
        let ws = Workspace {
            id: id.into(),
            name: name.into(),
            created_at: 1_000,
        };
        let created = entry(AuditEvent::WorkspaceCreated);
        let app = format!("app_{id}");
        store
            .create_workspace(&ws, &app, &NewSecret::new(h(90)), &created)
            .await
            .unwrap();
    }
    let owner = [("w1".to_owned(), Role::Owner)];
    let u1 = user("u1", "ann@example.com");
    store
        .create_user(&u1, &owner, &entry(AuditEvent::UserCreated))
        .await
        .unwrap();
    let (client, oauth) = third_party("tp_1", false);
    let secret = NewSecret::new(h(7));
    let created = entry(AuditEvent::ClientCreated);
    store
        .create_oauth_client(&client, &oauth, Some(&secret), &created)
        .await
        .unwrap();
}

/// Stores a pending code for tp_1 that expires at 1_060.
async fn pending(store: &Arc<dyn Store>, byte: u8, family: &str) {
    let code = code(byte, family, 1_060);
    store.insert_auth_code(&code).await.unwrap();
}

/// A pending code for tp_1 (expiring at 1_060) redeemed at 1_010 for access
/// token `at-<byte>` and, with `refresh_exp`, refresh token `<byte + 10>`.
async fn redeemed(store: &Arc<dyn Store>, byte: u8, family: &str, refresh_exp: Option<UnixTime>) {
    pending(store, byte, family).await;
    let refresh = refresh_exp.map(|exp| refresh(byte + 10, family, exp));
    let tokens = issue(&format!("at-{byte}"), family, refresh);
    let redeemed = store.redeem_auth_code(&h(byte), 1_010, &tokens).await;
    assert!(redeemed.unwrap());
}

fn session(expires_at: UnixTime) -> SessionRecord {
    SessionRecord {
        id_hash: h(1),
        user_id: "u1".into(),
        auth_time: 1_000,
        created_at: 1_000,
        expires_at,
    }
}

async fn add_public_client(store: &Arc<dyn Store>) -> (ClientRecord, OAuthClientRecord) {
    let (client, oauth) = third_party("tp_2", true);
    let created = entry(AuditEvent::ClientCreated);
    store
        .create_oauth_client(&client, &oauth, None, &created)
        .await
        .unwrap();
    (client, oauth)
}

async fn last_event(store: &Arc<dyn Store>) -> AuditEvent {
    let q = AuditQuery {
        workspace_id: "w1".into(),
        event: None,
        since: None,
        until: None,
        before_id: None,
        limit: 1,
    };
    store.list_audit(&q).await.unwrap()[0].entry.event
}

/// Rows in `table`, read behind the store's back to prove nothing was written.
async fn count(db: &TestDb, table: &str) -> i64 {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
    if db.backend == Backend::Sqlite {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    }
}

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
        assert_eq!(store.memberships("u1").await.unwrap(), vec![alpha, owner]);
        assert_eq!(last_event(&store).await, AuditEvent::MembershipChanged);
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
