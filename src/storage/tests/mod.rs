//! Storage behaviour, run against every backend (SQLite always, PostgreSQL
//! when `KEYFLOW_TEST_POSTGRES_URL` is set, and always in CI): one file per
//! aggregate, sharing the fixtures here.

use super::*;
use crate::crypto::signing::Algorithm;

use crate::domain::audit::{Actor, AuditContext, AuditEntry, AuditEvent, AuditQuery, Origin};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::SecretHash;
use crate::domain::user::Role;
use crate::domain::workspace::Workspace;
use crate::testing::TestDb;

mod api_keys;
mod audit;
mod clients;
mod console;
mod device_codes;
mod grants;
mod keys_and_revocations;
mod users;
mod workspaces;

pub(super) fn workspace(id: &str) -> Workspace {
    Workspace {
        id: id.into(),
        name: format!("ws {id}"),
        created_at: 1_000,
    }
}

/// A store holding workspace `w1`, whose application client is `app_1`.
pub(super) async fn with_w1(db: &TestDb) -> Arc<dyn Store> {
    let store = db.store().await;
    store
        .create_workspace(&workspace("w1"), "app_1", &secret(1), None, &audit())
        .await
        .unwrap();
    store
}

pub(super) fn audit() -> AuditEntry {
    AuditEntry::new(AuditEvent::WorkspaceCreated, Actor::system(), 1_000)
}

pub(super) fn secret(byte: u8) -> NewSecret {
    NewSecret::new(SecretHash([byte; 32]))
}

pub(super) async fn raw_exec(url: &str, sql: &'static str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query(sql).execute(&mut c).await.map(|_| ())
    } else {
        let mut c = sqlx::PgConnection::connect(url).await?;
        sqlx::query(sql).execute(&mut c).await.map(|_| ())
    }
}

pub(super) const API_SCOPES: &str = "api:read api:write";

pub(super) fn api_key(id: &str, prefix: &str, byte: u8) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        workspace_id: "w1".into(),
        name: format!("key {id}"),
        key_type: crate::domain::api_key::ApiKeyType::Secret,
        prefix: prefix.into(),
        hash: SecretHash([byte; 32]),
        scopes: ScopeSet::parse(API_SCOPES).unwrap(),
        rate_limits: None,
        created_at: 100,
        created_by: "app_1".into(),
        expires_at: None,
        deactivated: false,
        revoked_at: None,
        last_used_at: None,
        usage_count: 0,
    }
}

pub(super) fn h(byte: u8) -> SecretHash {
    SecretHash([byte; 32])
}

pub(super) fn entry(event: AuditEvent) -> AuditEntry {
    AuditEntry::new(event, Actor::user("u1"), 1_000).workspace("w1")
}

pub(super) fn user(id: &str, email: &str) -> UserRecord {
    UserRecord {
        id: id.into(),
        email: email.into(),
        name: Some(format!("User {id}")),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: 1_000,
        disabled_at: None,
        platform_admin: false,
    }
}

pub(super) fn third_party(id: &str, public: bool) -> (ClientRecord, OAuthClientRecord) {
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
        device_grant: false,
    };
    (client, oauth)
}

pub(super) fn code(byte: u8, family: &str, expires_at: UnixTime) -> AuthCodeRecord {
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

pub(super) fn refresh(byte: u8, family: &str, expires_at: UnixTime) -> RefreshTokenRecord {
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
pub(super) fn issue(jti: &str, family: &str, refresh: Option<RefreshTokenRecord>) -> Issuance {
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
pub(super) async fn setup(store: &Arc<dyn Store>) {
    for (id, name) in [("w1", "Beta"), ("w2", "Alpha")] {
        let ws = Workspace {
            id: id.into(),
            name: name.into(),
            created_at: 1_000,
        };
        let created = entry(AuditEvent::WorkspaceCreated);
        let app = format!("app_{id}");
        store
            .create_workspace(&ws, &app, &NewSecret::new(h(90)), None, &created)
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
pub(super) async fn pending(store: &Arc<dyn Store>, byte: u8, family: &str) {
    let code = code(byte, family, 1_060);
    store.insert_auth_code(&code).await.unwrap();
}

/// A pending code for tp_1 (expiring at 1_060) redeemed at 1_010 for access
/// token `at-<byte>` and, with `refresh_exp`, refresh token `<byte + 10>`.
pub(super) async fn redeemed(
    store: &Arc<dyn Store>,
    byte: u8,
    family: &str,
    refresh_exp: Option<UnixTime>,
) {
    pending(store, byte, family).await;
    let refresh = refresh_exp.map(|exp| refresh(byte + 10, family, exp));
    let tokens = issue(&format!("at-{byte}"), family, refresh);
    let redeemed = store.redeem_auth_code(&h(byte), 1_010, &tokens).await;
    assert!(redeemed.unwrap());
}

pub(super) fn session(expires_at: UnixTime) -> SessionRecord {
    SessionRecord {
        id_hash: h(1),
        user_id: "u1".into(),
        auth_time: 1_000,
        created_at: 1_000,
        expires_at,
        ip: Some("203.0.113.9".into()),
        user_agent: Some("Firefox".into()),
    }
}

pub(super) async fn add_public_client(store: &Arc<dyn Store>) -> (ClientRecord, OAuthClientRecord) {
    let (client, oauth) = third_party("tp_2", true);
    let created = entry(AuditEvent::ClientCreated);
    store
        .create_oauth_client(&client, &oauth, None, &created)
        .await
        .unwrap();
    (client, oauth)
}

pub(super) async fn last_event(store: &Arc<dyn Store>) -> AuditEvent {
    let q = AuditQuery::workspace("w1", 1);
    store.list_audit(&q).await.unwrap()[0].entry.event
}

/// Rows in `table`, read behind the store's back to prove nothing was written.
pub(super) async fn count(db: &TestDb, table: &str) -> i64 {
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
async fn migrations_are_idempotent_and_ping_works() {
    for db in TestDb::all().await {
        let store = db.store().await;
        store.migrate().await.unwrap();
        store.ping().await.unwrap();
        assert_eq!(store.backend(), db.backend);
    }
}

/// A PostgreSQL connection that the server ended while it sat idle in the
/// pool is found out and replaced before the next query uses it: the pool
/// pings connections idle for more than a second before handing them out.
#[tokio::test]
async fn an_idle_postgres_connection_the_server_ended_is_replaced() {
    use sqlx::Connection;
    for db in TestDb::all().await {
        if db.backend != Backend::Postgres {
            continue;
        }
        let store = db.store().await;
        store.ping().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let ended: Vec<(bool,)> = sqlx::query_as(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert!(!ended.is_empty(), "the store's connections were ended");
        for _ in 0..3 {
            store.ping().await.unwrap();
            store.epochs().await.unwrap();
        }
    }
}

#[test]
fn urls_are_redacted_and_unknown_schemes_refused() {
    assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
    assert_eq!(redact_url("sqlite://keyflow.db"), "sqlite://keyflow.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert!(matches!(
        rt.block_on(connect("mysql://x")),
        Err(StorageError::UnsupportedUrl(_))
    ));
}
