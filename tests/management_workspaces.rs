//! `GET /v1/workspaces` and `POST /v1/workspaces` over real HTTP: a
//! person's token sees and creates their workspaces, an application's
//! token sees its own and creates none.

mod common;

use common::browser::user;
use common::people::{call, call_raw, person_token, platform_admin, refused};
use common::*;
use keyflow::domain::user::Role;
use keyflow::testing::{TestDb, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

const ANN: &str = "ann@example.com";
const PATH: &str = "/v1/workspaces";

fn listed(a: &Answer) -> Vec<(String, Value)> {
    a.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", a.json))
        .iter()
        .map(|w| (w["name"].as_str().unwrap().to_owned(), w["role"].clone()))
        .collect()
}

async fn workspace_count(node: &TestServer) -> usize {
    node.app.store.list_workspaces().await.unwrap().len()
}

#[tokio::test]
async fn a_person_lists_their_workspaces_and_creates_one_they_own() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let acme = workspace(&node, "Acme").await;
        let beta = workspace(&node, "Beta").await;
        workspace(&node, "Not hers").await;
        let ann = user(
            &node,
            ANN,
            &[
                (&acme.workspace.id, Role::Owner),
                (&beta.workspace.id, Role::Admin),
            ],
        )
        .await;
        let ann_token = person_token(&node, ANN, &acme.workspace.id).await;
        let t = Some(ann_token.as_str());

        let mine = call(&node, Method::GET, PATH, t, None).await;
        assert_eq!(mine.status, 200, "{}", mine.json);
        assert_eq!(
            listed(&mine),
            [
                ("Acme".into(), json!("owner")),
                ("Beta".into(), json!("admin"))
            ]
        );
        assert_eq!(mine.json["items"][0]["workspaceId"], acme.workspace.id);

        let made = call(&node, Method::POST, PATH, t, Some(json!({"name": "Gamma"}))).await;
        assert_eq!(made.status, 201, "{}", made.json);
        assert_eq!(made.headers["cache-control"], "no-store");
        let id = made.json["workspaceId"].as_str().unwrap().to_owned();
        assert_eq!(made.json["name"], "Gamma");
        assert_eq!(
            made.json["apiUrl"],
            format!("{}/v1/workspace/{id}", node.issuer)
        );
        let key = made.json["applicationKey"].as_str().unwrap();
        let secret = made.json["secretKey"].as_str().unwrap();
        assert!(key.starts_with("app_") && secret.starts_with("sec_"));
        // The keys work at once, and the person is the owner, as the
        // console's service sees it.
        let minted = post_form(
            &node,
            Some(&basic(key, secret)),
            "grant_type=client_credentials",
        )
        .await;
        assert_eq!(minted.status, 200, "{}", minted.json);
        let (people, _) = node.app.members().list(&id).await.unwrap();
        assert_eq!(people.len(), 1);
        assert_eq!(
            (people[0].user_id.as_str(), people[0].role),
            (ann.as_str(), Role::Owner)
        );
        let mine = call(&node, Method::GET, PATH, t, None).await;
        assert_eq!(
            listed(&mine),
            [
                ("Acme".into(), json!("owner")),
                ("Beta".into(), json!("admin")),
                ("Gamma".into(), json!("owner")),
            ]
        );
        assert!(
            !mine.json.to_string().contains(secret),
            "the secret is shown once"
        );

        // The workspace's own token sees its workspace and creates none.
        let app = token(&node, &acme, "workspace%3Aadmin").await;
        let own = call(&node, Method::GET, PATH, Some(&app), None).await;
        assert_eq!(listed(&own), [("Acme".into(), json!("owner"))]);
        let before = workspace_count(&node).await;
        let refused_app = call(
            &node,
            Method::POST,
            PATH,
            Some(&app),
            Some(json!({"name": "Delta"})),
        )
        .await;
        refused(&refused_app, 403, "forbidden");
        assert!(
            refused_app.json["error_description"]
                .as_str()
                .unwrap()
                .contains("a person")
        );
        assert_eq!(workspace_count(&node).await, before);
    }
}

#[tokio::test]
async fn bad_input_and_weak_credentials_create_nothing() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let acme = workspace(&node, "Acme").await;
    user(&node, ANN, &[(&acme.workspace.id, Role::Owner)]).await;
    let token = person_token(&node, ANN, &acme.workspace.id).await;
    let before = workspace_count(&node).await;
    for (body, needle) in [
        (json!({}), "missing field `name`"),
        (json!({"name": ""}), "1 to 200 characters"),
        (json!({"name": "x".repeat(201)}), "1 to 200 characters"),
        (json!({"name": "A", "owner": "me"}), "unknown field `owner`"),
        (json!({"name": 7}), "invalid type"),
    ] {
        let a = call(&node, Method::POST, PATH, Some(&token), Some(body)).await;
        refused(&a, 400, "invalid_request");
        let d = a.json["error_description"].as_str().unwrap();
        assert!(d.contains(needle), "{d}");
    }
    refused(
        &call_raw(&node, Method::POST, PATH, &token, "{\"name\":").await,
        400,
        "invalid_request",
    );
    let reader = common::token(&node, &acme, "api%3Aread").await;
    for method in [Method::GET, Method::POST] {
        let weak = call(
            &node,
            method.clone(),
            PATH,
            Some(&reader),
            Some(json!({"name": "B"})),
        )
        .await;
        refused(&weak, 403, "insufficient_scope");
        let anonymous = call(&node, method, PATH, None, Some(json!({"name": "B"}))).await;
        assert_eq!(anonymous.status, 401);
        assert_eq!(
            anonymous.headers["www-authenticate"],
            "Bearer realm=\"keyflow\""
        );
    }
    assert_eq!(workspace_count(&node).await, before);
}

#[tokio::test]
async fn a_platform_admin_also_sees_the_workspaces_they_are_not_in() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let root_ws = workspace(&node, "Operations").await;
    workspace(&node, "Acme").await;
    platform_admin(
        &node,
        "root@example.com",
        &root_ws.workspace.id,
        Role::Admin,
    )
    .await;
    let token = person_token(&node, "root@example.com", &root_ws.workspace.id).await;
    let all = call(&node, Method::GET, PATH, Some(&token), None).await;
    assert_eq!(
        listed(&all),
        [
            ("Operations".into(), json!("admin")),
            ("Acme".into(), Value::Null),
        ]
    );
}
