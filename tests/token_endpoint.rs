//! The token endpoint over real HTTP: a real OAuth client (the `oauth2`
//! crate) against a running node, tokens checked with jsonwebtoken, and
//! every malformed request answered with a precise RFC 6749 §5.2 error.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use keyflow::testing::{TestDb, TestServer};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{AuthType, ClientId, ClientSecret, RequestTokenError, Scope, TokenResponse, TokenUrl};
use serde_json::{Value, json};

async fn node(db: &TestDb) -> TestServer {
    TestServer::start(
        &db.url,
        MASTER,
        &["--resource", "https://reports.example.com"],
    )
    .await
}

#[tokio::test]
async fn oauth2_crate_gets_a_token_found_through_discovery() {
    for db in TestDb::all().await {
        let node = node(&db).await;
        let ws = workspace(&node, "demo").await;
        let meta: Value = get_json(node.url("/.well-known/oauth-authorization-server")).await;
        assert_eq!(meta["issuer"], node.issuer);
        let token_url = TokenUrl::new(meta["token_endpoint"].as_str().unwrap().to_owned()).unwrap();

        for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
            let client = BasicClient::new(ClientId::new(ws.application_key.clone()))
                .set_client_secret(ClientSecret::new(ws.secret_key.expose().to_owned()))
                .set_auth_type(auth)
                .set_token_uri(token_url.clone());
            let res = client
                .exchange_client_credentials()
                .add_scope(Scope::new("api:read".into()))
                .add_scope(Scope::new("workspace:admin".into()))
                .request_async(&http())
                .await
                .expect("token");
            assert_eq!(res.expires_in().unwrap().as_secs(), 3600);
            let scopes: Vec<_> = res
                .scopes()
                .unwrap()
                .iter()
                .map(|s| s.to_string())
                .collect();
            assert_eq!(scopes, vec!["api:read", "workspace:admin"]);

            let jwks_url = meta["jwks_uri"].as_str().unwrap();
            let set = serde_json::from_value(get_json(jwks_url).await).unwrap();
            let token = res.access_token().secret();
            let header = jsonwebtoken::decode_header(token).unwrap();
            assert_eq!(header.typ.as_deref(), Some("at+jwt"));
            assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
            let claims = verify(token, &set, &node.issuer, &format!("{}/v1", node.issuer))
                .unwrap()
                .claims;
            assert_eq!(claims["sub"], ws.application_key.as_str());
            assert_eq!(claims["client_id"], ws.application_key.as_str());
            assert_eq!(claims["workspace_id"], ws.workspace.id.as_str());
            assert_eq!(claims["scope"], "api:read workspace:admin");
            assert_eq!(
                claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
                3600
            );
            assert!(claims["jti"].as_str().unwrap().len() >= 22);
        }

        // A wrong secret comes back as a typed invalid_client error.
        let bad = BasicClient::new(ClientId::new(ws.application_key.clone()))
            .set_client_secret(ClientSecret::new("sec_wrong".into()))
            .set_token_uri(token_url);
        match bad
            .exchange_client_credentials()
            .request_async(&http())
            .await
        {
            Err(RequestTokenError::ServerResponse(e)) => {
                assert_eq!(*e.error(), BasicErrorResponseType::InvalidClient)
            }
            other => panic!("expected invalid_client, got {other:?}"),
        }
        node.stop().await;
    }
}

#[tokio::test]
async fn success_responses_follow_rfc6749_5_1() {
    let db = TestDb::sqlite();
    let node = node(&db).await;
    let ws = workspace(&node, "demo").await;
    let a = post_form(
        &node,
        None,
        &format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            ws.application_key,
            ws.secret_key.expose()
        ),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["cache-control"], "no-store");
    assert_eq!(a.headers["content-type"], "application/json");
    assert_eq!(a.json["token_type"], "Bearer");
    assert_eq!(a.json["expires_in"], 3600);
    // No scope requested: the application token's defaults.
    assert_eq!(a.json["scope"], "api:read api:write");
    let blank = post_form(
        &node,
        Some(&basic(&ws.application_key, ws.secret_key.expose())),
        "grant_type=client_credentials&scope=+++",
    )
    .await;
    assert_eq!(blank.json["scope"], "api:read api:write");
    assert!(a.json.get("refresh_token").is_none());
}

#[tokio::test]
async fn resource_indicators_select_the_audience() {
    let db = TestDb::sqlite();
    let node = node(&db).await;
    let ws = workspace(&node, "demo").await;
    let auth = basic(&ws.application_key, ws.secret_key.expose());
    let a = post_form(
        &node,
        Some(&auth),
        "grant_type=client_credentials&resource=https%3A%2F%2Freports.example.com",
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.json);
    let set = jwks(&node).await;
    let token = a.json["access_token"].as_str().unwrap();
    verify(token, &set, &node.issuer, "https://reports.example.com").unwrap();
    assert!(verify(token, &set, &node.issuer, &format!("{}/v1", node.issuer)).is_err());

    for (body, code) in [
        (
            "grant_type=client_credentials&resource=https%3A%2F%2Fevil.example.com",
            "invalid_target",
        ),
        (
            "grant_type=client_credentials&resource=relative%2Fpath",
            "invalid_target",
        ),
    ] {
        let a = post_form(&node, Some(&auth), body).await;
        assert_eq!(
            (a.status, a.json["error"].as_str().unwrap()),
            (400, code),
            "{body}"
        );
    }
}

/// (authorization header, body, content type, status, error code)
type Case = (Option<String>, String, &'static str, u16, &'static str);

#[tokio::test]
async fn malformed_and_hostile_requests_get_precise_errors() {
    let db = TestDb::sqlite();
    let node = node(&db).await;
    let ws = workspace(&node, "demo").await;
    let id = ws.application_key.clone();
    let secret = ws.secret_key.expose().to_owned();
    let good = Some(basic(&id, &secret));
    let form = "application/x-www-form-urlencoded";
    let cc = "grant_type=client_credentials".to_owned();
    let cases: Vec<Case> = vec![
        (
            Some(basic(&id, "sec_wrong")),
            cc.clone(),
            form,
            401,
            "invalid_client",
        ),
        (
            Some(basic("app_unknown", &secret)),
            cc.clone(),
            form,
            401,
            "invalid_client",
        ),
        (None, cc.clone(), form, 401, "invalid_client"),
        (
            None,
            format!("{cc}&client_id={id}"),
            form,
            401,
            "invalid_client",
        ),
        (
            good.clone(),
            format!("{cc}&client_id={id}&client_secret={secret}"),
            form,
            400,
            "invalid_request",
        ),
        (
            good.clone(),
            format!("{cc}&client_id=app_other"),
            form,
            400,
            "invalid_request",
        ),
        (
            good.clone(),
            format!("{cc}&scope=nope"),
            form,
            400,
            "invalid_scope",
        ),
        (
            good.clone(),
            format!("{cc}&scope=openid"),
            form,
            400,
            "invalid_scope",
        ),
        (
            good.clone(),
            format!("{cc}&scope=api%3Aread%22"),
            form,
            400,
            "invalid_scope",
        ),
        (
            good.clone(),
            format!("{cc}&scope=%zz"),
            form,
            400,
            "invalid_request",
        ),
        (
            good.clone(),
            format!("{cc}&scope=%C3%28"),
            form,
            400,
            "invalid_request",
        ),
        (
            good.clone(),
            format!("{cc}&scope=api%3Aread&scope=api%3Awrite"),
            form,
            400,
            "invalid_request",
        ),
        (
            good.clone(),
            format!("{cc}&{cc}"),
            form,
            400,
            "invalid_request",
        ),
        (
            good.clone(),
            "grant_type=password&username=a&password=b".into(),
            form,
            400,
            "unsupported_grant_type",
        ),
        (
            good.clone(),
            "scope=api%3Aread".into(),
            form,
            400,
            "invalid_request",
        ),
        (
            good.clone(),
            json!({"grant_type": "client_credentials"}).to_string(),
            "application/json",
            400,
            "invalid_request",
        ),
        (
            good.clone(),
            cc.clone(),
            "text/plain",
            400,
            "invalid_request",
        ),
        (
            Some("Basic %%%".into()),
            cc.clone(),
            form,
            400,
            "invalid_request",
        ),
        (
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("no-colon")
            )),
            cc.clone(),
            form,
            400,
            "invalid_request",
        ),
        (
            Some("Bearer abc".into()),
            cc.clone(),
            form,
            401,
            "invalid_client",
        ),
        (
            good.clone(),
            format!("{cc}&scope={}", "a".repeat(20 * 1024)),
            form,
            413,
            "invalid_request",
        ),
    ];
    for (auth, body, content_type, status, code) in cases {
        let mut req = http()
            .post(node.url("/oauth/token"))
            .header("content-type", content_type)
            .body(body.clone());
        if let Some(a) = &auth {
            req = req.header("authorization", a);
        }
        let a = answer(req.send().await.unwrap()).await;
        let shown: String = body.chars().take(80).collect();
        assert_eq!(a.status, status, "{auth:?} {shown}: {}", a.json);
        assert_eq!(a.json["error"], code, "{auth:?} {shown}");
        assert!(
            a.json["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
        assert_eq!(a.headers["cache-control"], "no-store");
        if status == 401 {
            assert!(
                a.headers["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Basic ")
            );
        }
    }
    // Unknown client and wrong secret are indistinguishable.
    let wrong = post_form(&node, Some(&basic(&id, "sec_wrong")), &cc).await;
    let unknown = post_form(&node, Some(&basic("app_unknown", &secret)), &cc).await;
    assert_eq!(wrong.json, unknown.json);

    let get = answer(http().get(node.url("/oauth/token")).send().await.unwrap()).await;
    assert_eq!(
        (get.status, get.json["error"].as_str()),
        (405, Some("invalid_request"))
    );
    assert_eq!(get.headers["allow"], "POST");
    let missing = answer(http().get(node.url("/nope")).send().await.unwrap()).await;
    assert_eq!(missing.status, 404);
}

fn forge(header: Value, claims: &Value, signature: &[u8]) -> String {
    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!(
        "{}.{}.{}",
        enc(&header),
        enc(claims),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

#[tokio::test]
async fn unsigned_and_hmac_forged_tokens_do_not_verify_against_the_jwks() {
    let db = TestDb::sqlite();
    let node = node(&db).await;
    let ws = workspace(&node, "demo").await;
    let real = token(&node, &ws, "api%3Aread").await;
    let set = jwks(&node).await;
    let aud = format!("{}/v1", node.issuer);
    let claims = verify(&real, &set, &node.issuer, &aud).unwrap().claims;
    let kid = jsonwebtoken::decode_header(&real).unwrap().kid.unwrap();

    // The JWKS publishes public keys only, each pinned to one algorithm.
    let raw: Value = get_json(node.url("/oauth/jwks")).await;
    for k in raw["keys"].as_array().unwrap() {
        assert!(
            k.get("d").is_none() && k.get("k").is_none() && k.get("p").is_none(),
            "{k}"
        );
        assert!(["ES256", "RS256", "EdDSA"].contains(&k["alg"].as_str().unwrap()));
        assert_eq!(k["use"], "sig");
    }

    let none = forge(
        json!({"alg": "none", "typ": "at+jwt", "kid": kid}),
        &claims,
        b"",
    );
    assert!(verify(&none, &set, &node.issuer, &aud).is_err());

    // HS256 keyed with the public key's bytes: the classic confusion attack.
    let jwk = raw["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap();
    let hmac_key =
        aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, jwk.to_string().as_bytes());
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": kid});
    let signing_input = {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
        format!("{}.{}", enc(&header), enc(&claims))
    };
    let tag = aws_lc_rs::hmac::sign(&hmac_key, signing_input.as_bytes());
    let hs = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    assert!(verify(&hs, &set, &node.issuer, &aud).is_err());

    // A tampered payload under the real signature fails too.
    let mut parts: Vec<String> = real.split('.').map(str::to_owned).collect();
    let mut tampered = claims.clone();
    tampered["scope"] = json!("workspace:admin");
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered).unwrap());
    assert!(verify(&parts.join("."), &set, &node.issuer, &aud).is_err());
}

#[tokio::test]
async fn other_signing_algorithms_and_lifetimes_are_configurable() {
    for (alg, jwt_alg) in [
        ("RS256", jsonwebtoken::Algorithm::RS256),
        ("EdDSA", jsonwebtoken::Algorithm::EdDSA),
    ] {
        let db = TestDb::sqlite();
        let node = TestServer::start(
            &db.url,
            MASTER,
            &["--access-token-alg", alg, "--access-token-ttl", "600"],
        )
        .await;
        let ws = workspace(&node, "demo").await;
        let t = token(&node, &ws, "api%3Aread").await;
        assert_eq!(jsonwebtoken::decode_header(&t).unwrap().alg, jwt_alg);
        let c = verify(
            &t,
            &jwks(&node).await,
            &node.issuer,
            &format!("{}/v1", node.issuer),
        )
        .unwrap()
        .claims;
        assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 600);
    }
}

#[tokio::test]
async fn discovery_lists_what_is_implemented() {
    let db = TestDb::sqlite();
    let node = node(&db).await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let res = http().get(node.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
        let m: Value = res.json().await.unwrap();
        assert_eq!(m["issuer"], node.issuer);
        assert_eq!(m["token_endpoint"], format!("{}/oauth/token", node.issuer));
        assert_eq!(m["jwks_uri"], format!("{}/oauth/jwks", node.issuer));
        assert_eq!(
            m["device_authorization_endpoint"],
            format!("{}/oauth/device_authorization", node.issuer)
        );
        assert_eq!(
            m["grant_types_supported"],
            json!([
                "authorization_code",
                "refresh_token",
                "client_credentials",
                "urn:ietf:params:oauth:grant-type:token-exchange",
                "urn:ietf:params:oauth:grant-type:device_code"
            ])
        );
        assert_eq!(
            m["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "none"])
        );
        let scopes = m["scopes_supported"].as_array().unwrap();
        assert!(scopes.contains(&json!("api:read")) && scopes.contains(&json!("keys:write")));
    }
    let jwks = http().get(node.url("/oauth/jwks")).send().await.unwrap();
    assert_eq!(jwks.headers()["content-type"], "application/jwk-set+json");
    let set: Value = jwks.json().await.unwrap();
    let mut algs: Vec<_> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap().to_owned())
        .collect();
    algs.sort();
    assert_eq!(algs, vec!["ES256", "EdDSA", "RS256"]);
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let db = TestDb::sqlite();
    let node = node(&db).await;
    let ws = workspace(&node, "demo").await;
    token(&node, &ws, "api%3Aread").await;
    post_form(
        &node,
        Some(&basic(&ws.application_key, "sec_wrong")),
        "grant_type=client_credentials",
    )
    .await;
    for (path, status) in [
        ("/healthz", 200),
        ("/readyz", 200),
        ("/oauth/token", 405),
        ("/no/such/endpoint", 404),
    ] {
        let res = http().get(node.url(path)).send().await.unwrap();
        assert_eq!(res.status(), status);
        assert!(res.headers().contains_key("x-request-id"));
    }
    let text = metrics(&node).await;
    // Every answer counts under its route template; a path no route
    // matches counts as "unmatched", never under its own path.
    for line in [
        r#"keyflow_http_requests_total{endpoint="/oauth/token",method="POST",status="401"} 1"#,
        r#"keyflow_http_requests_total{endpoint="/oauth/token",method="GET",status="405"} 1"#,
        r#"keyflow_http_requests_total{endpoint="/healthz",method="GET",status="200"} 1"#,
        r#"keyflow_http_requests_total{endpoint="unmatched",method="GET",status="404"} 1"#,
        r#"keyflow_http_request_duration_seconds_count{endpoint="/oauth/token"} 3"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    assert!(!text.contains("/no/such/endpoint"), "{text}");
    assert!(
        text.contains(
            r#"keyflow_token_requests_total{grant_type="client_credentials",outcome="issued"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"keyflow_token_requests_total{grant_type="client_credentials",outcome="invalid_client"} 1"#));
    assert!(text.contains(
        r#"keyflow_http_requests_total{endpoint="/oauth/token",method="POST",status="200"} 1"#
    ));
    assert!(text.contains("keyflow_http_request_duration_seconds_bucket"));
    assert!(!text.contains(&ws.application_key), "no per-client labels");
}

#[tokio::test]
async fn usage_is_batched_and_flushed_on_shutdown() {
    let db = TestDb::sqlite();
    let node = node(&db).await;
    let ws = workspace(&node, "demo").await;
    for _ in 0..3 {
        token(&node, &ws, "api%3Aread").await;
    }
    let store = node.app.store.clone();
    let before = store
        .find_client(&ws.application_key, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.client.tokens_issued, 0, "no write per token");
    node.stop().await;
    let after = store
        .find_client(&ws.application_key, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.client.tokens_issued, 3);
    assert!(after.secrets[0].last_used_at.is_some());
}
