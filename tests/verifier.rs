//! The example resource API, protected by the verifier, against a running
//! keyflow node: every credential kind, and every way to get it wrong.

mod common;
#[allow(dead_code, reason = "the example's main is not used here")]
#[path = "../examples/resource_api.rs"]
mod resource_api;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::*;
use keyflow::clock::{Clock, SystemClock};
use keyflow::crypto::keyring::create_key;
use keyflow::crypto::master_key::MasterKey;
use keyflow::crypto::signing::{Algorithm, JwtType};
use keyflow::domain::audit::{AuditContext, AuditEvent};
use keyflow::domain::scope::ScopeCatalogue;
use keyflow::testing::{TestDb, TestServer};
use keyflow::verifier::{StoreLegacyAuthenticator, Verifier};

use serde_json::{Value, json};

struct Api {
    url: String,
}

/// The example API in front of `node`, as a separate service would run it.
async fn api(node: &TestServer, min_refetch: Duration) -> Api {
    let legacy =
        StoreLegacyAuthenticator::new(Arc::clone(&node.app.clients), &ScopeCatalogue::default());
    let verifier = Verifier::remote(&node.issuer, [format!("{}/v1", node.issuer)])
        .unwrap()
        .min_jwks_refetch(min_refetch)
        .revocations(
            Arc::new(keyflow::verifier::remote::RemoteRevocations::new(
                http(),
                &node.issuer,
            )),
            Duration::from_millis(200),
        )
        .legacy(Arc::new(legacy), Default::default())
        .build();
    verifier.spawn_refresh();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/reports", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, resource_api::router(verifier)).await });
    Api { url }
}

async fn call(api: &Api, post: bool, headers: &[(&str, &str)]) -> Answer {
    let mut req = if post {
        http().post(&api.url)
    } else {
        http().get(&api.url)
    };
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(req.send().await.unwrap()).await
}

fn claims(node: &TestServer, ws: &str, scope: &str) -> Value {
    let now = SystemClock.now();
    json!({
        "iss": node.issuer, "sub": "app_x", "aud": format!("{}/v1", node.issuer),
        "exp": now + 600, "iat": now, "nbf": now, "jti": keyflow::domain::access_token::new_jti(),
        "client_id": "app_x", "scope": scope, "workspace_id": ws,
    })
}

fn sign(node: &TestServer, typ: JwtType, claims: &Value) -> String {
    node.app
        .keyring
        .load()
        .active(Algorithm::ES256)
        .unwrap()
        .sign_jwt(typ, claims)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn assert_bearer_401(a: &Answer, what: &str) {
    assert_eq!(a.status, 401, "{what}: {}", a.json);
    let challenge = a.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer realm=\"keyflow\", error=\"invalid_token\""),
        "{what}: {challenge}"
    );
    assert_eq!(a.json["error"], "invalid_token");
}

#[tokio::test]
async fn access_tokens_are_verified_offline_with_precise_failures() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&node, "demo").await;
    let api = api(&node, Duration::from_secs(30)).await;

    let read = token(&node, &ws, "api%3Aread").await;
    let ok = call(&api, false, &[("authorization", &bearer(&read))]).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    assert_eq!(ok.json["credential"], "access_token");
    assert_eq!(ok.json["workspaceId"], ws.workspace.id.as_str());

    let denied = call(&api, true, &[("authorization", &bearer(&read))]).await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.headers["www-authenticate"],
        "Bearer realm=\"keyflow\", error=\"insufficient_scope\", error_description=\"the api:write scope is required\", scope=\"api:write\""
    );

    let base = claims(&node, &ws.workspace.id, "api:read");
    let now = SystemClock.now();
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c[k] = v;
        c
    };
    let mut cases: Vec<(&str, String)> = vec![
        (
            "expired",
            sign(&node, JwtType::AccessToken, &with("exp", json!(now - 120))),
        ),
        (
            "not yet valid",
            sign(&node, JwtType::AccessToken, &with("nbf", json!(now + 600))),
        ),
        (
            "wrong audience",
            sign(
                &node,
                JwtType::AccessToken,
                &with("aud", json!("https://elsewhere")),
            ),
        ),
        (
            "wrong issuer",
            sign(
                &node,
                JwtType::AccessToken,
                &with("iss", json!("https://evil")),
            ),
        ),
        (
            "an ID token, not an access token",
            sign(&node, JwtType::Jwt, &base),
        ),
        ("not a JWT", "abc.def".into()),
    ];
    let good = sign(&node, JwtType::AccessToken, &base);
    let parts: Vec<&str> = good.split('.').collect();
    let header: Value = serde_json::from_slice(&B64.decode(parts[0]).unwrap()).unwrap();
    let enc = |v: &Value| B64.encode(serde_json::to_vec(v).unwrap());
    let mut tampered = base.clone();
    tampered["scope"] = json!("api:read api:write");
    cases.push((
        "tampered payload",
        format!("{}.{}.{}", parts[0], enc(&tampered), parts[2]),
    ));
    let mut none = header.clone();
    none["alg"] = json!("none");
    cases.push(("alg none", format!("{}.{}.", enc(&none), parts[1])));
    let mut unknown = header.clone();
    unknown["kid"] = json!("no-such-key");
    cases.push((
        "unknown kid",
        format!("{}.{}.{}", enc(&unknown), parts[1], parts[2]),
    ));
    // HS256 keyed with the published public key: the key-confusion attack.
    let jwks = get_json(node.url("/oauth/jwks")).await;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap();
    let mut hs = header.clone();
    hs["alg"] = json!("HS256");
    let input = format!("{}.{}", enc(&hs), parts[1]);
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, jwk.to_string().as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    cases.push((
        "HS256 with the public key",
        format!("{input}.{}", B64.encode(tag.as_ref())),
    ));
    for (what, token) in &cases {
        assert_bearer_401(
            &call(&api, false, &[("authorization", &bearer(token))]).await,
            what,
        );
    }
    assert_eq!(
        call(&api, false, &[("authorization", &bearer(&good))])
            .await
            .status,
        200
    );

    let malformed = call(&api, false, &[("authorization", "Bearer a b")]).await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.json["error"], "invalid_request");
}

#[tokio::test]
async fn the_legacy_appkey_path_answers_in_its_own_shape() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&node, "demo").await;
    let api = api(&node, Duration::from_secs(30)).await;
    let key = ws.application_key.as_str();
    let secret = ws.secret_key.expose();

    let none = call(&api, false, &[]).await;
    assert_eq!(none.status, 412);
    assert_eq!(none.json["statusCode"], 412);
    assert_eq!(none.json["error"], "Precondition Failed");
    assert!(none.json["message"].as_str().unwrap().contains("appkey"));

    // Header names are case-insensitive.
    let ok = call(&api, true, &[("AppKey", key), ("SECRETKEY", secret)]).await;
    assert_eq!(ok.status, 201, "{}", ok.json);
    let ok = call(&api, false, &[("appkey", key), ("secretkey", secret)]).await;
    assert_eq!(ok.json["credential"], "appkey_secretkey");

    for headers in [
        vec![("appkey", key), ("secretkey", "sec_wrong")],
        vec![("appkey", "app_unknown"), ("secretkey", secret)],
        vec![("secretkey", secret)],
        vec![("appkey", key)],
    ] {
        let a = call(&api, false, &headers).await;
        assert_eq!(a.status, 401, "{headers:?}");
        assert_eq!(
            a.json,
            json!({"statusCode": 401, "message": "Invalid appkey or secretkey", "error": "Unauthorized"})
        );
    }

    // An operator allows the key alone for this workspace: reads only.
    let audit = AuditContext::cli().entry(AuditEvent::AppkeyOnlyChanged, SystemClock.now());
    assert!(
        node.app
            .store
            .set_allow_appkey_only(&ws.workspace.id, true, &audit)
            .await
            .unwrap()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let a = call(&api, false, &[("appkey", key)]).await;
        if a.status == 200 {
            assert_eq!(a.json["credential"], "appkey_only");
            break;
        }
        assert!(Instant::now() < deadline, "appkey-only never took effect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let write = call(&api, true, &[("appkey", key)]).await;
    assert_eq!(write.status, 403);
    assert_eq!(write.json["error"], "Forbidden");
    assert_eq!(write.json["statusCode"], 403);
}

#[tokio::test]
async fn unknown_kids_refetch_the_jwks_at_most_once_per_interval() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&node, "demo").await;
    let api = api(&node, Duration::from_millis(800)).await;
    let fetches = || async {
        let text = metrics(&node).await;
        text.lines()
            .filter(|l| l.starts_with("keyflow_http_requests_total{endpoint=\"/oauth/jwks\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum::<u64>()
    };
    let t = token(&node, &ws, "api%3Aread").await;
    assert_eq!(
        call(&api, false, &[("authorization", &bearer(&t))])
            .await
            .status,
        200
    );
    let before = fetches().await;

    let mut forged = claims(&node, &ws.workspace.id, "api:read");
    forged["jti"] = json!("x");
    let good = sign(&node, JwtType::AccessToken, &forged);
    let parts: Vec<&str> = good.split('.').collect();
    for i in 0..20 {
        let header = B64.encode(
            json!({"alg": "ES256", "typ": "at+jwt", "kid": format!("forged-{i}")}).to_string(),
        );
        let token = format!("{header}.{}.{}", parts[1], parts[2]);
        assert_eq!(
            call(&api, false, &[("authorization", &bearer(&token))])
                .await
                .status,
            401
        );
    }
    assert!(
        fetches().await - before <= 1,
        "forged kids made the verifier hammer the issuer"
    );

    // A genuinely new key is picked up once the interval has passed.
    let store = db.store().await;
    create_key(
        store.as_ref(),
        &MasterKey::from_bytes(MASTER),
        Algorithm::ES256,
        SystemClock.now(),
        true,
        &AuditContext::cli(),
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let fresh = token(&node, &ws, "api%3Aread").await;
        if call(&api, false, &[("authorization", &bearer(&fresh))])
            .await
            .status
            == 200
            && jsonwebtoken::decode_header(&fresh).unwrap().kid
                != jsonwebtoken::decode_header(&t).unwrap().kid
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rotated key was never accepted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_revoked_token_is_refused_within_the_polling_bound() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let ws = workspace(&node, "demo").await;
        let api = api(&node, Duration::from_secs(30)).await;
        let t = token(&node, &ws, "api%3Aread").await;
        assert_eq!(
            call(&api, false, &[("authorization", &bearer(&t))])
                .await
                .status,
            200
        );
        let revoked = http()
            .post(node.url("/oauth/revoke"))
            .header(
                "authorization",
                basic(&ws.application_key, ws.secret_key.expose()),
            )
            .form(&[("token", t.as_str()), ("token_type_hint", "access_token")])
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
        let at = Instant::now();
        loop {
            let a = call(&api, false, &[("authorization", &bearer(&t))]).await;
            if a.status == 401 {
                assert!(
                    a.json["error_description"]
                        .as_str()
                        .unwrap()
                        .contains("revoked")
                );
                break;
            }
            // Poll interval 200 ms plus the list's 5 s cache lifetime.
            assert!(
                at.elapsed() < Duration::from_secs(6),
                "revocation never reached the verifier"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
