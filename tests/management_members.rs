//! `/v1/workspace/{id}/members` and `…/invitations` over real HTTP, with
//! tokens people authorized through the code flow and the workspace's own
//! client_credentials token: the console's rules, through the API.

mod common;

use common::browser::{Browser, PASSWORD, user};
use common::people::{call, call_raw, person_token, person_token_with, refused};
use common::*;
use keyflow::domain::user::Role;
use keyflow::testing::{TestDb, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

const ANN: &str = "ann@example.com";
const BO: &str = "bo@example.com";

fn members(ws: &str) -> String {
    format!("/v1/workspace/{ws}/members")
}

fn member(ws: &str, user_id: &str) -> String {
    format!("/v1/workspace/{ws}/members/{user_id}")
}

fn invitations(ws: &str) -> String {
    format!("/v1/workspace/{ws}/invitations")
}

fn emails(list: &Value) -> Vec<(String, String)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let (e, r) = (&m["email"], &m["role"]);
            (
                e.as_str().unwrap().to_owned(),
                r.as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Opens the invitation link in a fresh browser and joins as `name`.
async fn accept(link: &str, name: &str) {
    let b = Browser::new();
    let page = b.get(link).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let joined = b
        .post(
            link,
            &[
                ("csrf", &page.field("csrf")),
                ("name", name),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(joined.status, 303, "{}", joined.html);
}

#[tokio::test]
async fn an_owner_lists_invites_changes_and_removes_members() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let acme = workspace(&node, "Acme").await;
        let ws = acme.workspace.id.as_str();
        let ann = user(&node, ANN, &[(ws, Role::Owner)]).await;
        let bo = user(&node, BO, &[(ws, Role::Admin)]).await;
        let token = person_token(&node, ANN, ws).await;
        let t = Some(token.as_str());

        let list = call(&node, Method::GET, &members(ws), t, None).await;
        assert_eq!(list.status, 200, "{}", list.json);
        let first = &list.json["items"][0];
        assert_eq!(first["userId"], ann.as_str());
        assert_eq!(first["email"], ANN);
        assert_eq!(first["name"], "Ann Example");
        assert_eq!(first["role"], "owner");
        assert!(first["joinedAt"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            emails(&list.json),
            [(ANN.into(), "owner".into()), (BO.into(), "admin".into())]
        );

        let demoted = call(
            &node,
            Method::PATCH,
            &member(ws, &bo),
            t,
            Some(json!({"role": "member"})),
        )
        .await;
        assert_eq!(demoted.status, 200, "{}", demoted.json);
        assert_eq!(demoted.json["userId"], bo.as_str());
        assert_eq!(demoted.json["role"], "member");

        // An invitation made through the API and accepted in the console.
        let invited = call(
            &node,
            Method::POST,
            &invitations(ws),
            t,
            Some(json!({"email": " Cy@Example.com ", "role": "admin"})),
        )
        .await;
        assert_eq!(invited.status, 201, "{}", invited.json);
        assert_eq!(invited.headers["cache-control"], "no-store");
        assert_eq!(invited.json["email"], "cy@example.com");
        assert_eq!(invited.json["role"], "admin");
        let link = invited.json["invitationUrl"].as_str().unwrap().to_owned();
        assert!(
            link.starts_with(&format!("{}/invitations/", node.issuer)),
            "{link}"
        );
        let pending = call(&node, Method::GET, &invitations(ws), t, None).await;
        assert_eq!(pending.status, 200, "{}", pending.json);
        let item = &pending.json["items"][0];
        assert_eq!(item["id"], invited.json["id"]);
        assert_eq!(item["expiresAt"], invited.json["expiresAt"]);
        assert!(item["createdAt"].is_string());
        assert!(
            !pending.json.to_string().contains(&link),
            "the link is shown once"
        );
        accept(&link, "Cy").await;
        let after = call(&node, Method::GET, &members(ws), t, None).await;
        assert!(
            emails(&after.json).contains(&("cy@example.com".into(), "admin".into())),
            "{}",
            after.json
        );
        let pending = call(&node, Method::GET, &invitations(ws), t, None).await;
        assert_eq!(
            pending.json["items"],
            json!([]),
            "accepted: no longer pending"
        );

        let removed = call(&node, Method::DELETE, &member(ws, &bo), t, None).await;
        assert_eq!(removed.status, 204);
        // What the API did is what the console's service sees.
        let (people, _) = node.app.members().list(ws).await.unwrap();
        let seen: Vec<_> = people.iter().map(|m| (m.email.as_str(), m.role)).collect();
        assert_eq!(seen, [(ANN, Role::Owner), ("cy@example.com", Role::Admin)]);

        // The last owner can neither be demoted nor leave.
        let demote = call(
            &node,
            Method::PATCH,
            &member(ws, &ann),
            t,
            Some(json!({"role": "admin"})),
        )
        .await;
        refused(&demote, 409, "conflict");
        assert!(
            demote.json["error_description"]
                .as_str()
                .unwrap()
                .contains("last owner")
        );
        let leave = call(&node, Method::DELETE, &member(ws, &ann), t, None).await;
        refused(&leave, 409, "conflict");
        let (people, _) = node.app.members().list(ws).await.unwrap();
        assert_eq!(people[0].role, Role::Owner);
        assert_eq!(people.len(), 2);
    }
}

#[tokio::test]
async fn roles_limit_what_a_persons_token_does_and_other_workspaces_are_not_found() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let acme = workspace(&node, "Acme").await;
    let other = workspace(&node, "Other").await;
    let ws = acme.workspace.id.as_str();
    let ann = user(&node, ANN, &[(ws, Role::Owner)]).await;
    let bo = user(&node, BO, &[(ws, Role::Admin)]).await;
    let cy = user(&node, "cy@example.com", &[(ws, Role::Admin)]).await;
    let ann_t = person_token(&node, ANN, ws).await;
    let bo_t = person_token(&node, BO, ws).await;
    let cy_t = person_token_with(
        &node,
        "cy@example.com",
        ws,
        "openid workspace:admin keys:write",
    )
    .await;
    let bo_tok = Some(bo_t.as_str());

    // An admin sees the members but does not manage them.
    assert_eq!(
        call(&node, Method::GET, &members(ws), bo_tok, None)
            .await
            .status,
        200
    );
    let invite = json!({"email": "dee@example.com", "role": "member"});
    for (method, path, body) in [
        (Method::GET, invitations(ws), None),
        (Method::POST, invitations(ws), Some(invite.clone())),
        (
            Method::PATCH,
            member(ws, &ann),
            Some(json!({"role": "member"})),
        ),
        (Method::DELETE, member(ws, &ann), None),
        (
            Method::DELETE,
            format!("{}/inv_nope", invitations(ws)),
            None,
        ),
    ] {
        let a = call(&node, method.clone(), &path, bo_tok, body).await;
        refused(&a, 403, "forbidden");
        assert_eq!(
            a.json["error_description"],
            "your role in this workspace does not allow that: it needs an owner",
            "{method} {path}"
        );
    }
    // A role counts as it is now, not as it was when the token was made:
    // cy, demoted to member, keeps a token with workspace:admin but may
    // only look.
    let demote = call(
        &node,
        Method::PATCH,
        &member(ws, &cy),
        Some(&ann_t),
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(demote.status, 200, "{}", demote.json);
    let cy_tok = Some(cy_t.as_str());
    let app_token = format!(
        "{}/application-token",
        members(ws).trim_end_matches("/members")
    );
    assert_eq!(
        call(&node, Method::GET, &members(ws), cy_tok, None)
            .await
            .status,
        200
    );
    assert_eq!(
        call(&node, Method::GET, &app_token, cy_tok, None)
            .await
            .status,
        200
    );
    let regenerate = call(
        &node,
        Method::POST,
        &format!("{app_token}/regenerate"),
        cy_tok,
        None,
    )
    .await;
    refused(&regenerate, 403, "forbidden");
    let key = call(
        &node,
        Method::POST,
        &format!("/v1/workspace/{ws}/api-keys"),
        cy_tok,
        Some(json!({"name": "k", "type": "secret", "scopes": ["api:read"]})),
    )
    .await;
    refused(&key, 403, "forbidden");
    assert_eq!(
        node.app.api_keys.list(ws, None).await.unwrap().len(),
        0,
        "no key was made"
    );
    // Anyone may leave; an admin cannot remove someone else.
    let leave = call(&node, Method::DELETE, &member(ws, &bo), bo_tok, None).await;
    assert_eq!(leave.status, 204, "{}", leave.json);
    let after = call(&node, Method::GET, &members(ws), bo_tok, None).await;
    refused(&after, 401, "invalid_token");

    // Another workspace's id is not found, whoever asks.
    let theirs = other.workspace.id.as_str();
    let other_app = token(&node, &other, "workspace%3Aadmin").await;
    for (t, method, path) in [
        (ann_t.as_str(), Method::GET, members(theirs)),
        (ann_t.as_str(), Method::POST, invitations(theirs)),
        (other_app.as_str(), Method::GET, members(ws)),
        (other_app.as_str(), Method::DELETE, member(ws, &ann)),
        (ann_t.as_str(), Method::GET, members("ws_no_such")),
    ] {
        let body = Some(json!({"email": "x@example.com", "role": "owner"}));
        let a = call(&node, method, &path, Some(t), body).await;
        refused(&a, 404, "not_found");
        assert_eq!(a.json["error_description"], "no such workspace");
    }
    let (people, _) = node.app.members().list(ws).await.unwrap();
    assert!(people.iter().any(|m| m.user_id == ann), "nobody removed");
    // Without a token, or without the scope: RFC 6750.
    let anonymous = call(&node, Method::GET, &members(ws), None, None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.headers["www-authenticate"],
        "Bearer realm=\"keyflow\""
    );
    let reader = token(&node, &acme, "api%3Aread").await;
    let weak = call(&node, Method::GET, &members(ws), Some(&reader), None).await;
    refused(&weak, 403, "insufficient_scope");
}

#[tokio::test]
async fn the_workspaces_application_token_acts_as_an_owner() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let acme = workspace(&node, "Acme").await;
    let ws = acme.workspace.id.as_str();
    let ann = user(&node, ANN, &[(ws, Role::Owner)]).await;
    let bo = user(&node, BO, &[(ws, Role::Member)]).await;
    let app = token(&node, &acme, "workspace%3Aadmin").await;
    let t = Some(app.as_str());

    let invited = call(
        &node,
        Method::POST,
        &invitations(ws),
        t,
        Some(json!({"email": "cy@example.com", "role": "owner"})),
    )
    .await;
    assert_eq!(invited.status, 201, "{}", invited.json);
    let promoted = call(
        &node,
        Method::PATCH,
        &member(ws, &bo),
        t,
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(promoted.json["role"], "owner", "{}", promoted.json);
    // Two owners now: either may go, but not both.
    assert_eq!(
        call(&node, Method::DELETE, &member(ws, &ann), t, None)
            .await
            .status,
        204
    );
    refused(
        &call(&node, Method::DELETE, &member(ws, &bo), t, None).await,
        409,
        "conflict",
    );
    // The audit log names the application as the actor.
    let log = node
        .app
        .workspaces()
        .audit_log(&keyflow::domain::audit::AuditQuery::workspace(ws, 10))
        .await
        .unwrap();
    let removal = log
        .iter()
        .find(|r| r.entry.event.as_str() == "membership_removed")
        .expect("a removal entry");
    assert_eq!(
        serde_json::to_value(&removal.entry.actor).unwrap(),
        json!({"type": "client", "id": acme.application_key})
    );
}

#[tokio::test]
async fn bad_input_is_a_precise_400_and_changes_nothing() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let acme = workspace(&node, "Acme").await;
    let ws = acme.workspace.id.as_str();
    let ann = user(&node, ANN, &[(ws, Role::Owner)]).await;
    let bo = user(&node, BO, &[(ws, Role::Member)]).await;
    let token = person_token(&node, ANN, ws).await;
    let t = Some(token.as_str());

    for (body, needle) in [
        (json!({"role": "boss"}), "unknown role \"boss\""),
        (json!({}), "missing field `role`"),
        (json!({"role": "admin", "also": 1}), "unknown field `also`"),
        (json!({"role": 3}), "invalid type"),
    ] {
        let a = call(&node, Method::PATCH, &member(ws, &bo), t, Some(body)).await;
        refused(&a, 400, "invalid_request");
        let d = a.json["error_description"].as_str().unwrap();
        assert!(d.contains(needle), "{d}");
    }
    let garbage = call_raw(&node, Method::PATCH, &member(ws, &bo), &token, "{role").await;
    refused(&garbage, 400, "invalid_request");
    let nobody = call(
        &node,
        Method::PATCH,
        &member(ws, "usr_nobody"),
        t,
        Some(json!({"role": "admin"})),
    )
    .await;
    refused(&nobody, 404, "not_found");
    assert_eq!(nobody.json["error_description"], "no such member");
    refused(
        &call(&node, Method::DELETE, &member(ws, "usr_nobody"), t, None).await,
        404,
        "not_found",
    );

    for body in [
        json!({"email": "not-an-email", "role": "member"}),
        json!({"email": "a@b.example", "role": "boss"}),
        json!({"role": "member"}),
        json!({"email": "a@b.example"}),
        json!({"email": "a@b.example", "role": "member", "name": "x"}),
    ] {
        let a = call(&node, Method::POST, &invitations(ws), t, Some(body.clone())).await;
        assert_eq!(a.status, 400, "{body}: {}", a.json);
        refused(&a, 400, "invalid_request");
    }
    refused(
        &call_raw(&node, Method::POST, &invitations(ws), &token, "[1,").await,
        400,
        "invalid_request",
    );
    let already = call(
        &node,
        Method::POST,
        &invitations(ws),
        t,
        Some(json!({"email": BO, "role": "admin"})),
    )
    .await;
    refused(&already, 409, "conflict");
    let pending = call(&node, Method::GET, &invitations(ws), t, None).await;
    assert_eq!(pending.json["items"], json!([]), "nothing was half made");
    let (people, _) = node.app.members().list(ws).await.unwrap();
    let roles: Vec<_> = people
        .iter()
        .map(|m| (m.user_id.as_str(), m.role))
        .collect();
    assert_eq!(
        roles,
        [(ann.as_str(), Role::Owner), (bo.as_str(), Role::Member)]
    );

    // Revoking: once, then there is no such pending invitation.
    let invited = call(
        &node,
        Method::POST,
        &invitations(ws),
        t,
        Some(json!({"email": "cy@example.com", "role": "member"})),
    )
    .await;
    let id = invited.json["id"].as_str().unwrap();
    let link = invited.json["invitationUrl"].as_str().unwrap();
    let path = format!("{}/{id}", invitations(ws));
    assert_eq!(
        call(&node, Method::DELETE, &path, t, None).await.status,
        204
    );
    let again = call(&node, Method::DELETE, &path, t, None).await;
    refused(&again, 404, "not_found");
    assert_eq!(
        again.json["error_description"],
        "no such pending invitation"
    );
    assert_eq!(Browser::new().get(link).await.status, 410, "revoked");
}
