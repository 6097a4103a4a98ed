//! `/v1/clients` over real HTTP: a platform administrator's token lists,
//! registers and re-keys third-party clients; nobody else's does.

mod common;

use common::browser::user;
use common::people::{call, call_raw, person_token, platform_admin, refused};
use common::*;
use keyflow::domain::user::Role;
use keyflow::storage::ClientKind;
use keyflow::testing::{TestDb, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

const ROOT: &str = "root@example.com";
const CLIENTS: &str = "/v1/clients";

fn rotate(client_id: &str) -> String {
    format!("/v1/clients/{client_id}/rotate-secret")
}

/// The status of a token request that authenticates as the client and
/// presents a refresh token that does not exist: 400 `invalid_grant` once
/// the client is authenticated, 401 `invalid_client` when it is not.
async fn authenticates(node: &TestServer, client_id: &str, secret: &str) -> u16 {
    post_form(
        node,
        Some(&basic(client_id, secret)),
        "grant_type=refresh_token&refresh_token=nope",
    )
    .await
    .status
}

async fn client_count(node: &TestServer) -> usize {
    node.app
        .store
        .list_clients(ClientKind::ThirdParty)
        .await
        .unwrap()
        .len()
}

/// A node whose platform administrator holds a `/v1` token.
async fn with_admin(db: &TestDb) -> (TestServer, String) {
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ops = workspace(&node, "Operations").await;
    platform_admin(&node, ROOT, &ops.workspace.id, Role::Owner).await;
    let token = person_token(&node, ROOT, &ops.workspace.id).await;
    (node, token)
}

#[tokio::test]
async fn a_platform_admin_registers_lists_and_rekeys_clients() {
    for db in TestDb::all().await {
        let (node, token) = with_admin(&db).await;
        let t = Some(token.as_str());
        let made = call(
            &node,
            Method::POST,
            CLIENTS,
            t,
            Some(json!({
                "name": "Reports",
                "redirectUris": ["https://reports.example/cb"],
                "postLogoutRedirectUris": ["https://reports.example/bye"],
                "scopes": ["openid", "api:read"],
                "logoUri": "https://reports.example/logo.png",
            })),
        )
        .await;
        assert_eq!(made.status, 201, "{}", made.json);
        assert_eq!(made.headers["cache-control"], "no-store");
        assert_eq!(made.json["public"], false);
        let id = made.json["clientId"].as_str().unwrap().to_owned();
        let secret = made.json["clientSecret"].as_str().unwrap().to_owned();
        assert!(id.starts_with("cli_") && secret.starts_with("sec_"));
        assert_eq!(authenticates(&node, &id, &secret).await, 400);

        let public = call(
            &node,
            Method::POST,
            CLIENTS,
            t,
            Some(json!({"name": "Phone", "redirectUris": ["com.example.app:/cb"], "public": true})),
        )
        .await;
        assert_eq!(public.status, 201, "{}", public.json);
        assert_eq!(public.json["public"], true);
        assert!(public.json.get("clientSecret").is_none(), "{}", public.json);
        let public_id = public.json["clientId"].as_str().unwrap().to_owned();

        let list = call(&node, Method::GET, CLIENTS, t, None).await;
        assert_eq!(list.status, 200, "{}", list.json);
        assert!(!list.json.to_string().contains(&secret), "never a secret");
        let items = list.json["items"].as_array().unwrap();
        let reports = items.iter().find(|c| c["clientId"] == id.as_str()).unwrap();
        assert_eq!(reports["name"], "Reports");
        assert_eq!(reports["public"], false);
        assert_eq!(
            reports["redirectUris"],
            json!(["https://reports.example/cb"])
        );
        assert_eq!(
            reports["postLogoutRedirectUris"],
            json!(["https://reports.example/bye"])
        );
        assert_eq!(reports["scopes"], json!(["api:read", "openid"]));
        assert_eq!(reports["logoUri"], "https://reports.example/logo.png");
        assert_eq!(reports["idTokenAlg"], "RS256");
        assert!(reports["createdAt"].as_str().unwrap().ends_with('Z'));
        let phone = items
            .iter()
            .find(|c| c["clientId"] == public_id.as_str())
            .unwrap();
        assert_eq!(phone["public"], true);
        assert_eq!(
            phone["scopes"],
            json!([
                "api:read",
                "api:write",
                "email",
                "offline_access",
                "openid",
                "profile"
            ]),
            "the defaults"
        );

        let rotated = call(&node, Method::POST, &rotate(&id), t, None).await;
        assert_eq!(rotated.status, 200, "{}", rotated.json);
        assert_eq!(rotated.headers["cache-control"], "no-store");
        assert_eq!(rotated.json["clientId"], id.as_str());
        let new = rotated.json["clientSecret"].as_str().unwrap();
        assert_eq!(
            rotated.json["rotatedAt"],
            rotated.json["previousSecretExpiresAt"]
        );
        assert_eq!(authenticates(&node, &id, &secret).await, 401);
        assert_eq!(authenticates(&node, &id, new).await, 400);

        // What cannot be re-keyed here, and why.
        let public_rotation = call(&node, Method::POST, &rotate(&public_id), t, None).await;
        refused(&public_rotation, 400, "invalid_request");
        assert!(
            public_rotation.json["error_description"]
                .as_str()
                .unwrap()
                .contains("public client")
        );
        let nope = call(&node, Method::POST, &rotate("cli_nope"), t, None).await;
        refused(&nope, 404, "not_found");
        assert_eq!(nope.json["error_description"], "no such client: cli_nope");
    }
}

#[tokio::test]
async fn grant_types_register_a_client_for_device_sign_in() {
    for db in TestDb::all().await {
        let (node, token) = with_admin(&db).await;
        let t = Some(token.as_str());
        let register = |name: &str, grants: Option<Value>| {
            let mut body = json!({"name": name, "redirectUris": ["https://tv.example/cb"]});
            if let Some(g) = grants {
                body["grantTypes"] = g;
            }
            call(&node, Method::POST, CLIENTS, t, Some(body))
        };
        let mut ids = Vec::new();
        for (name, grants) in [
            ("Plain", None),
            ("Web", Some(json!(["authorization_code"]))),
            ("TV", Some(json!(["authorization_code", "device_code"]))),
            // The authorization code grant is every client's.
            ("CLI", Some(json!(["device_code"]))),
        ] {
            let made = register(name, grants).await;
            assert_eq!(made.status, 201, "{name}: {}", made.json);
            ids.push(made.json["clientId"].as_str().unwrap().to_owned());
        }

        let list = call(&node, Method::GET, CLIENTS, t, None).await;
        assert_eq!(list.status, 200, "{}", list.json);
        let grants_of = |id: &str| {
            let items = list.json["items"].as_array().unwrap();
            items.iter().find(|c| c["clientId"] == id).unwrap()["grantTypes"].clone()
        };
        let both = json!(["authorization_code", "device_code"]);
        assert_eq!(grants_of(&ids[0]), json!(["authorization_code"]));
        assert_eq!(grants_of(&ids[1]), json!(["authorization_code"]));
        assert_eq!(grants_of(&ids[2]), both);
        assert_eq!(grants_of(&ids[3]), both);
        // As the device grant reads it.
        for (id, device) in ids.iter().zip([false, false, true, true]) {
            let (_, oauth) = node.app.store.oauth_client(id).await.unwrap().unwrap();
            assert_eq!(oauth.device_grant, device, "{id} on {:?}", db.backend);
        }

        let before = client_count(&node).await;
        let bad = register("Fax", Some(json!(["device_code", "urn:nope"]))).await;
        refused(&bad, 400, "invalid_request");
        assert_eq!(
            bad.json["error_description"],
            "grantTypes: unknown grant type \"urn:nope\": use authorization_code or device_code"
        );
        assert_eq!(client_count(&node).await, before, "nothing was registered");
    }
}

#[tokio::test]
async fn bad_registrations_and_rotations_are_precise_400s_that_change_nothing() {
    let db = TestDb::sqlite();
    let (node, token) = with_admin(&db).await;
    let acme = workspace(&node, "Acme").await;
    let t = Some(token.as_str());
    let before = client_count(&node).await;
    let ok = |extra: Value| {
        let mut body = json!({"name": "Reports", "redirectUris": ["https://reports.example/cb"]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (body, needle) in [
        (json!({"name": "Reports"}), "missing field `redirectUris`"),
        (
            json!({"redirectUris": ["https://r.example/cb"]}),
            "missing field `name`",
        ),
        (
            ok(json!({"redirectUris": []})),
            "redirectUris must name at least one URI",
        ),
        (ok(json!({"name": ""})), "1 to 200 characters"),
        (ok(json!({"redirectUris": ["not a uri"]})), ""),
        (
            ok(json!({"redirectUris": ["https://r.example/cb#frag"]})),
            "",
        ),
        (
            ok(json!({"scopes": ["nonsense"]})),
            "\"nonsense\" is not in the scope catalogue",
        ),
        (ok(json!({"logoUri": "http://r.example/logo.png"})), "https"),
        (ok(json!({"idTokenAlg": "HS256"})), "idTokenAlg"),
        (ok(json!({"secret": "mine"})), "unknown field `secret`"),
        (ok(json!({"public": "yes"})), "invalid type"),
        (
            ok(json!({"grantTypes": ["authorization_code", "implicit"]})),
            "grantTypes: unknown grant type \"implicit\"",
        ),
        (ok(json!({"grantTypes": "device_code"})), "invalid type"),
    ] {
        let a = call(&node, Method::POST, CLIENTS, t, Some(body.clone())).await;
        refused(&a, 400, "invalid_request");
        let d = a.json["error_description"].as_str().unwrap();
        assert!(d.contains(needle), "{body}: {d}");
    }
    refused(
        &call_raw(&node, Method::POST, CLIENTS, &token, "{\"name\"").await,
        400,
        "invalid_request",
    );
    assert_eq!(client_count(&node).await, before, "nothing was registered");

    let made = call(&node, Method::POST, CLIENTS, t, Some(ok(json!({})))).await;
    let id = made.json["clientId"].as_str().unwrap().to_owned();
    let secret = made.json["clientSecret"].as_str().unwrap().to_owned();
    for body in [
        json!({"gracePeriodSeconds": 700_000}),
        json!({"gracePeriodSeconds": -1}),
        json!({"revokeIssuedTokens": "yes"}),
        json!({"grace": 1}),
    ] {
        let a = call(&node, Method::POST, &rotate(&id), t, Some(body.clone())).await;
        refused(&a, 400, "invalid_request");
    }
    refused(
        &call_raw(&node, Method::POST, &rotate(&id), &token, "{").await,
        400,
        "invalid_request",
    );
    assert_eq!(
        authenticates(&node, &id, &secret).await,
        400,
        "still the secret"
    );
    // A workspace's application key is re-keyed where the workspace is.
    let app_key = call(&node, Method::POST, &rotate(&acme.application_key), t, None).await;
    refused(&app_key, 400, "invalid_request");
    assert!(
        app_key.json["error_description"]
            .as_str()
            .unwrap()
            .contains("application-token/regenerate")
    );
    let grace = call(
        &node,
        Method::POST,
        &rotate(&id),
        t,
        Some(json!({"gracePeriodSeconds": 600})),
    )
    .await;
    assert_eq!(grace.status, 200, "{}", grace.json);
    assert_eq!(
        authenticates(&node, &id, &secret).await,
        400,
        "in its grace period"
    );
}

#[tokio::test]
async fn only_a_platform_admins_own_token_manages_clients() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let acme = workspace(&node, "Acme").await;
    let ws = acme.workspace.id.as_str();
    // The first user is the platform admin; the owner here is not one.
    platform_admin(&node, ROOT, ws, Role::Member).await;
    user(&node, "ann@example.com", &[(ws, Role::Owner)]).await;
    let owner = person_token(&node, "ann@example.com", ws).await;
    let app = token(&node, &acme, "workspace%3Aadmin").await;
    let before = client_count(&node).await;
    let body = json!({"name": "X", "redirectUris": ["https://x.example/cb"]});
    for (t, needle) in [
        (owner.as_str(), "only a platform administrator"),
        (app.as_str(), "issued to an application"),
    ] {
        for (method, path) in [
            (Method::GET, CLIENTS.to_owned()),
            (Method::POST, CLIENTS.to_owned()),
            (Method::POST, rotate("cli_any")),
        ] {
            let a = call(&node, method, &path, Some(t), Some(body.clone())).await;
            refused(&a, 403, "forbidden");
            let d = a.json["error_description"].as_str().unwrap();
            assert!(d.contains(needle), "{path}: {d}");
        }
    }
    let reader = token(&node, &acme, "api%3Aread").await;
    refused(
        &call(&node, Method::GET, CLIENTS, Some(&reader), None).await,
        403,
        "insufficient_scope",
    );
    assert_eq!(
        call(&node, Method::GET, CLIENTS, None, None).await.status,
        401
    );
    assert_eq!(client_count(&node).await, before, "nothing was registered");
}
