//! keyflow's own CLI client (`keyflow-cli`, registered by a migration):
//! what its sign-in pages say, and how far its tokens reach on `/v1`
//! compared with a third-party integration's.

mod common;

use common::browser::{Browser, PASSWORD, authorize_url, client, user};
use common::cli_session::{CLI, cli_tokens, refresh};
use common::*;
use keyflow::domain::audit::AuditContext;
use keyflow::domain::user::Role;
use keyflow::service::accounts;
use keyflow::testing::{TestDb, TestServer};

const ANN: &str = "ann@example.com";

async fn get(node: &TestServer, token: &str, path: &str) -> Answer {
    answer(
        http()
            .get(node.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Ann owns Acme, is an admin of Beta and a member of Gamma; Other is not
/// hers.
async fn workspaces(node: &TestServer) -> [String; 4] {
    let mut ids = Vec::new();
    for name in ["Acme", "Beta", "Gamma", "Other"] {
        ids.push(workspace(node, name).await.workspace.id);
    }
    user(
        node,
        ANN,
        &[
            (&ids[0], Role::Owner),
            (&ids[1], Role::Admin),
            (&ids[2], Role::Member),
        ],
    )
    .await;
    ids.try_into().unwrap()
}

#[tokio::test]
async fn a_cli_session_acts_with_the_persons_role_in_each_workspace() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let [acme, beta, gamma, other] = workspaces(&node).await;
        let tokens = cli_tokens(&node, ANN, Some(&acme)).await;
        let at = tokens["access_token"].as_str().unwrap();
        let scope = tokens["scope"].as_str().unwrap();
        assert!(scope.contains("workspace:admin"), "{scope}");
        // Administering Beta, viewing Gamma's members but not its audit
        // log, and nothing of a workspace she does not belong to.
        let audit = |ws: &str| format!("/v1/workspace/{ws}/audit-logs");
        let members = |ws: &str| format!("/v1/workspace/{ws}/members");
        assert_eq!(get(&node, at, &audit(&beta)).await.status, 200);
        assert_eq!(get(&node, at, &members(&gamma)).await.status, 200);
        assert_eq!(get(&node, at, &audit(&gamma)).await.status, 403);
        assert_eq!(get(&node, at, &members(&other)).await.status, 404);
        let keys = format!("/v1/workspace/{other}/api-keys");
        assert_eq!(get(&node, at, &keys).await.status, 404);
        let listed = get(&node, at, "/v1/workspaces").await;
        assert_eq!(listed.json["items"].as_array().unwrap().len(), 3);
    }
}

#[tokio::test]
async fn a_third_party_token_stays_in_its_workspace() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let [acme, beta, ..] = workspaces(&node).await;
    let redirect = "https://make.example/cb";
    let scopes = ["openid", "workspace:admin"];
    let (id, secret) = client(&node, redirect, false, &scopes).await;
    let verifier = "a-verifier-of-at-least-forty-three-characters-0123456789";
    let b = Browser::new();
    let url = authorize_url(&node, &id, redirect, "openid workspace:admin", verifier);
    let login = b.get(url.as_str()).await;
    let consent = b.sign_in(&node, &login, ANN, PASSWORD).await;
    assert!(
        !consent.html.contains("every workspace"),
        "{}",
        consent.html
    );
    let back = b.decide(&node, &consent, "allow", Some(&acme)).await;
    let code = &back.redirect_params()["code"];
    let body = format!(
        "grant_type=authorization_code&code={code}&code_verifier={verifier}&redirect_uri={}",
        url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
    );
    let a = post_form(&node, Some(&basic(&id, secret.as_deref().unwrap())), &body).await;
    let at = a.json["access_token"].as_str().unwrap();
    let members = |ws: &str| format!("/v1/workspace/{ws}/members");
    assert_eq!(get(&node, at, &members(&acme)).await.status, 200);
    assert_eq!(get(&node, at, &members(&beta)).await.status, 404);
}

#[tokio::test]
async fn the_sign_in_pages_say_the_cli_acts_in_every_workspace() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    workspaces(&node).await;
    let b = Browser::new();
    let url = authorize_url(
        &node,
        CLI,
        "http://127.0.0.1:5000/callback",
        "openid workspace:admin",
        "a-verifier-of-at-least-forty-three-characters-0123456789",
    );
    let login = b.get(url.as_str()).await;
    let consent = b.sign_in(&node, &login, ANN, PASSWORD).await;
    assert!(consent.html.contains("every workspace"), "{}", consent.html);
    assert!(consent.html.contains("keyflow logout"));
    // The same on /device, where the code is confirmed.
    let start = browser::start_device(&node, CLI, "openid workspace:admin").await;
    let form = b.get(&node.url("/device")).await;
    let code = start.json["user_code"].as_str().unwrap();
    let confirm = b
        .post(
            &node.url("/device"),
            &[("csrf", &form.field("csrf")), ("user_code", code)],
        )
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.html);
    assert!(confirm.html.contains("every workspace"), "{}", confirm.html);
}

#[tokio::test]
async fn a_cli_session_is_capped_by_the_persons_highest_role() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let [acme, beta, gamma, _] = workspaces(&node).await;
    // Ann chooses Gamma, where she is a member: she still administers Beta,
    // so her session carries the administrator scopes.
    let tokens = cli_tokens(&node, ANN, Some(&gamma)).await;
    assert!(
        tokens["scope"]
            .as_str()
            .unwrap()
            .contains("workspace:admin")
    );
    let at = tokens["access_token"].as_str().unwrap();
    let audit = |ws: &str| format!("/v1/workspace/{ws}/audit-logs");
    assert_eq!(get(&node, at, &audit(&beta)).await.status, 200);
    // Bob is a member of Acme only: RFC 6749 §3.3, less than asked.
    user(&node, "bob@example.com", &[(&acme, Role::Member)]).await;
    let tokens = cli_tokens(&node, "bob@example.com", None).await;
    let scope = tokens["scope"].as_str().unwrap();
    assert!(
        !scope.contains("workspace:admin") && !scope.contains("keys:write"),
        "{scope}"
    );
    let at = tokens["access_token"].as_str().unwrap();
    // He reads what a member reads, as in the console, and nothing more.
    let members = get(&node, at, &format!("/v1/workspace/{acme}/members")).await;
    assert_eq!(members.status, 200, "{}", members.json);
    let keys = get(&node, at, &format!("/v1/workspace/{acme}/api-keys")).await;
    assert_eq!(keys.status, 200, "{}", keys.json);
    let refused = get(&node, at, &audit(&acme)).await;
    assert_eq!(refused.status, 403);
    let why = refused.json["error_description"].as_str().unwrap();
    assert!(why.contains("an owner or admin"), "{why}");
    assert_eq!(get(&node, at, "/v1/workspaces").await.status, 200);
}

#[tokio::test]
async fn a_cli_refresh_carries_the_persons_highest_role_now() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let [acme, beta, gamma, _] = workspaces(&node).await;
        let tokens = cli_tokens(&node, ANN, Some(&gamma)).await;
        let first = tokens["refresh_token"].as_str().unwrap();
        // Bob takes over Acme; Ann is then a member everywhere.
        let bob = user(&node, "bob@example.com", &[(&acme, Role::Owner)]).await;
        assert!(!bob.is_empty());
        let ann = node
            .app
            .store
            .user_by_email(ANN)
            .await
            .unwrap()
            .expect("ann")
            .id;
        for ws in [&acme, &beta] {
            accounts::set_membership(
                node.app.store.as_ref(),
                &ann,
                ws,
                Role::Member,
                node.app.clock.now(),
                &AuditContext::system(),
            )
            .await
            .expect("demote");
        }
        // RFC 6749 §6: the refreshed scope is what her role grants now.
        let again = refresh(&node, first).await;
        assert_eq!(again.status, 200, "{:?}: {}", db.backend, again.json);
        let scope = again.json["scope"].as_str().unwrap();
        assert!(scope.contains("openid"), "{scope}");
        assert!(
            !scope.contains("workspace:admin") && !scope.contains("keys:write"),
            "{:?}: {scope}",
            db.backend
        );
    }
}
