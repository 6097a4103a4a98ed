//! Email through a real SMTP conversation (invitations, password resets,
//! rotation notices), and the platform admin's pages: users and
//! third-party clients.

mod common;

use common::browser::{Browser, PASSWORD, Page, user};
use common::console::{make_platform_admin, node, person, secret, signed_in, submit};
use common::smtp::SmtpServer;
use common::workspace;
use keyflow::domain::audit::AuditContext;
use keyflow::domain::user::Role;
use keyflow::service::notify::rotation_notices;
use keyflow::service::workspaces::RotationOptions;
use keyflow::testing::TestServer;

/// The platform admin, signed in.
async fn platform_admin(node: &TestServer) -> Browser {
    make_platform_admin(node).await;
    signed_in(node, "root@example.com").await
}

#[tokio::test]
async fn invitations_and_password_resets_are_emailed() {
    let smtp = SmtpServer::start().await;
    let (_db, node, _clock) = node(&["--smtp-url", &smtp.url()]).await;
    let ws = workspace(&node, "Reports").await;
    let id = ws.workspace.id.as_str();
    let ann = person(&node, "ann@example.com", &[(id, Role::Owner)]).await;

    let members = format!("/console/workspaces/{id}/members");
    let invited = submit(
        &ann,
        &node,
        &members,
        &format!("{members}/invite"),
        &[("email", "bo@example.com"), ("role", "member")],
    )
    .await;
    assert!(
        invited
            .html
            .contains("We emailed the link to bo@example.com"),
        "{}",
        invited.html
    );
    let mail = &smtp.wait_for(1).await[0];
    assert_eq!(mail.to, ["bo@example.com"]);
    let link = mail.line_starting(&node.issuer).expect("a link line");
    assert_eq!(link, secret(&invited), "the email carries the link shown");
    assert_eq!(Browser::new().get(&link).await.status, 200);

    // Forgot your password: a link by email, the same answer for anyone.
    let login = Browser::new().get(&node.url("/login")).await;
    assert!(login.html.contains("Forgot your password?"));
    let b = Browser::new();
    let page = b.get(&node.url("/forgot-password")).await;
    assert_eq!(page.status, 200);
    let csrf = page.field("csrf");
    let nobody = b
        .post(
            &node.url("/forgot-password"),
            &[("csrf", &csrf), ("email", "nobody@example.com")],
        )
        .await;
    let someone = b
        .post(
            &node.url("/forgot-password"),
            &[("csrf", &csrf), ("email", "ann@example.com")],
        )
        .await;
    assert_eq!(nobody.status, 200);
    assert_eq!(nobody.html, someone.html, "no hint which addresses exist");
    let flood = b
        .post(
            &node.url("/forgot-password"),
            &[("csrf", &csrf), ("email", "ann@example.com")],
        )
        .await;
    assert_eq!(
        flood.html, someone.html,
        "a second request within the minute looks the same"
    );
    smtp.wait_for(2).await;
    // Give a third message, were one sent, time to arrive.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mails = smtp.mails();
    assert_eq!(
        mails.len(),
        2,
        "nothing for an unknown address, one email a minute"
    );
    assert_eq!(mails[1].to, ["ann@example.com"]);
    let reset = mails[1].line_starting(&node.issuer).unwrap();
    let form = b.get(&reset).await;
    assert_eq!(form.status, 200);
    let short = b
        .post(
            &node.url("/reset-password"),
            &[
                ("csrf", &form.field("csrf")),
                ("token", &form.field("token")),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, 400);
    let done = b
        .post(
            &node.url("/reset-password"),
            &[
                ("csrf", &form.field("csrf")),
                ("token", &form.field("token")),
                ("password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.html);
    assert_eq!(
        ann.get(&node.url("/console")).await.status,
        303,
        "signed out everywhere"
    );
    assert_eq!(b.get(&reset).await.status, 410, "the link worked once");
    let again = Browser::new();
    let login = again.get(&node.url("/login")).await;
    let old = again
        .sign_in(&node, &login, "ann@example.com", PASSWORD)
        .await;
    assert_eq!(old.status, 401);
    let new = again
        .sign_in(&node, &login, "ann@example.com", "a brand new password")
        .await;
    assert_eq!(new.status, 303);
}

#[tokio::test]
async fn without_smtp_links_are_shown_and_nobody_is_emailed() {
    let (_db, node, _clock) = node(&[]).await;
    let login = Browser::new().get(&node.url("/login")).await;
    assert!(!login.html.contains("Forgot your password?"));
    assert_eq!(
        Browser::new()
            .get(&node.url("/forgot-password"))
            .await
            .status,
        404
    );
    assert_eq!(rotation_notices(&node.app).await.unwrap(), 0);
}

#[tokio::test]
async fn owners_hear_once_per_secret_that_it_is_due_for_rotation() {
    let smtp = SmtpServer::start().await;
    let (_db, node, clock) = node(&["--smtp-url", &smtp.url(), "--rotation-due-days", "90"]).await;
    let ws = workspace(&node, "Reports").await;
    let id = ws.workspace.id.as_str();
    user(&node, "ann@example.com", &[(id, Role::Owner)]).await;
    user(&node, "bo@example.com", &[(id, Role::Admin)]).await;
    assert_eq!(rotation_notices(&node.app).await.unwrap(), 0, "not due yet");
    clock.advance(91 * 86_400);
    assert_eq!(rotation_notices(&node.app).await.unwrap(), 1);
    assert_eq!(
        rotation_notices(&node.app).await.unwrap(),
        0,
        "once per secret"
    );
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].to, ["ann@example.com"], "owners only");
    assert!(
        mails[0].text().contains("91 days ago"),
        "{}",
        mails[0].text()
    );
    let options = RotationOptions::default();
    node.app
        .workspaces()
        .rotate_secret(id, options, node.app.clock.now(), &AuditContext::system())
        .await
        .unwrap();
    clock.advance(91 * 86_400);
    assert_eq!(
        rotation_notices(&node.app).await.unwrap(),
        1,
        "the new secret, once"
    );
}

#[tokio::test]
async fn platform_admins_manage_users_and_clients_and_nobody_else_can() {
    let (_db, node, clock) = node(&[]).await;
    let root = platform_admin(&node).await;
    let bo = person(&node, "bo@example.com", &[]).await;
    assert_eq!(bo.get(&node.url("/console/admin")).await.status, 403);
    assert_eq!(
        bo.get(&node.url("/console/admin/clients")).await.status,
        403
    );
    let p = submit(
        &bo,
        &node,
        "/console",
        "/console/admin/users/status",
        &[("user_id", "x"), ("action", "disable")],
    )
    .await;
    assert_eq!(p.status, 403);

    let users = root.get(&node.url("/console/admin")).await;
    assert_eq!(users.status, 200);
    assert!(users.html.contains("bo@example.com") && users.html.contains("Disable bo@example.com"));
    let bo_id = node
        .app
        .store
        .user_by_email("bo@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let root_id = node
        .app
        .store
        .user_by_email("root@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let me = submit(
        &root,
        &node,
        "/console/admin",
        "/console/admin/users/status",
        &[("user_id", &root_id), ("action", "disable")],
    )
    .await;
    assert_eq!(me.status, 400, "no locking oneself out");
    let off = submit(
        &root,
        &node,
        "/console/admin",
        "/console/admin/users/status",
        &[("user_id", &bo_id), ("action", "disable")],
    )
    .await;
    assert_eq!(off.status, 303);
    assert_eq!(
        bo.get(&node.url("/console")).await.status,
        303,
        "signed out"
    );
    let on = submit(
        &root,
        &node,
        "/console/admin",
        "/console/admin/users/status",
        &[("user_id", &bo_id), ("action", "enable")],
    )
    .await;
    assert_eq!(on.status, 303);
    let odd = submit(
        &root,
        &node,
        "/console/admin",
        "/console/admin/users/status",
        &[("user_id", &bo_id), ("action", "delete")],
    )
    .await;
    assert_eq!(odd.status, 400);

    // A reset link made by the admin, shown once, used once.
    let shown = submit(
        &root,
        &node,
        "/console/admin",
        "/console/admin/users/reset-link",
        &[("user_id", &bo_id)],
    )
    .await;
    assert_eq!(shown.status, 200);
    let link = secret(&shown);
    let b = Browser::new();
    let form = b.get(&link).await;
    let set = b
        .post(
            &node.url("/reset-password"),
            &[
                ("csrf", &form.field("csrf")),
                ("token", &form.field("token")),
                ("password", "bo's new password"),
            ],
        )
        .await;
    assert_eq!(set.status, 303);
    assert_eq!(b.get(&link).await.status, 410);
    let nobody = submit(
        &root,
        &node,
        "/console/admin",
        "/console/admin/users/reset-link",
        &[("user_id", "usr_nobody")],
    )
    .await;
    assert_eq!(nobody.status, 404);

    // Clients: bad input first, then a confidential client and its secret.
    let clients = "/console/admin/clients";
    let none = submit(
        &root,
        &node,
        clients,
        clients,
        &[
            ("name", "Make"),
            ("redirect_uris", ""),
            ("type", "confidential"),
        ],
    )
    .await;
    assert_eq!(none.status, 400);
    assert!(none.html.contains("redirect"), "{}", none.html);
    let plain = submit(
        &root,
        &node,
        clients,
        clients,
        &[
            ("name", "Make"),
            ("redirect_uris", "http://make.example/cb"),
            ("type", "confidential"),
        ],
    )
    .await;
    assert_eq!(plain.status, 400, "http only on loopback (RFC 8252)");
    let bad_scope = submit(
        &root,
        &node,
        clients,
        clients,
        &[
            ("name", "Make"),
            ("redirect_uris", "https://make.example/cb"),
            ("scopes", "root:everything"),
        ],
    )
    .await;
    assert_eq!(bad_scope.status, 400);
    // Only keyflow's own CLI client, which a migration registers.
    let registered: Vec<String> = node
        .app
        .store
        .list_clients(keyflow::storage::ClientKind::ThirdParty)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(registered, [keyflow::domain::client::CLI_CLIENT_ID]);
    let made = submit(
        &root,
        &node,
        clients,
        clients,
        &[
            ("name", "Make"),
            (
                "redirect_uris",
                "https://make.example/cb\r\nhttp://127.0.0.1/cb",
            ),
            ("type", "confidential"),
            ("scopes", "openid api:read"),
        ],
    )
    .await;
    assert_eq!(made.status, 200, "{}", made.html);
    let client_secret = secret(&made);
    let listed = root.get(&node.url(clients)).await;
    assert!(listed.html.contains("Make") && listed.html.contains("https://make.example/cb"));
    assert!(!listed.html.contains(&client_secret));
    let client_id = listed.field("client_id");

    // Rotating a client secret needs a recent sign-in.
    clock.advance(11 * 60);
    let root = signed_in(&node, "root@example.com").await;
    clock.advance(11 * 60);
    let ask = submit(
        &root,
        &node,
        clients,
        &format!("{clients}/rotate"),
        &[("client_id", &client_id)],
    )
    .await;
    assert!(ask.html.contains("Confirm your password"), "{}", ask.html);
    let rotated = root
        .post(
            &node.url(&format!("{clients}/rotate")),
            &[
                ("csrf", &ask.field("csrf")),
                ("client_id", &client_id),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.html);
    assert_ne!(secret(&rotated), client_secret);
}

/// Whether the page's input named `name` is checked.
fn checked(page: &Page, name: &str) -> bool {
    let at = page
        .html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no input {name} in page:\n{}", page.html));
    let start = page.html[..at].rfind('<').expect("tag start");
    let end = at + page.html[at..].find('>').expect("tag end");
    page.html[start..end].contains(" checked")
}

/// The row of the client list that names the client `name`.
fn client_row<'a>(page: &'a Page, name: &str) -> &'a str {
    let at = page
        .html
        .find(&format!("<td>{name}<br>"))
        .unwrap_or_else(|| panic!("no client {name} listed:\n{}", page.html));
    let start = page.html[..at].rfind("<tr>").expect("row start");
    let end = at + page.html[at..].find("</tr>").expect("row end");
    &page.html[start..end]
}

#[tokio::test]
async fn platform_admins_register_clients_for_device_sign_in_with_a_checkbox() {
    let (_db, node, _clock) = node(&[]).await;
    let root = platform_admin(&node).await;
    let clients = "/console/admin/clients";
    let box_name = "grant_device_code";
    let empty = root.get(&node.url(clients)).await;
    assert!(
        empty
            .html
            .contains("Device sign-in (RFC 8628): for CLIs and devices without a browser"),
        "{}",
        empty.html
    );
    assert!(!checked(&empty, box_name), "off unless asked for");

    // Refused for another reason, the form comes back as it was sent.
    let bad_scope = submit(
        &root,
        &node,
        clients,
        clients,
        &[
            ("name", "TV"),
            ("redirect_uris", "https://tv.example/cb"),
            ("scopes", "root:everything"),
            (box_name, "1"),
        ],
    )
    .await;
    assert_eq!(bad_scope.status, 400);
    assert!(checked(&bad_scope, box_name), "{}", bad_scope.html);

    for (name, device) in [("TV", true), ("Web", false)] {
        let mut fields = vec![
            ("name", name),
            ("redirect_uris", "https://tv.example/cb"),
            ("type", "public"),
        ];
        if device {
            fields.push((box_name, "1"));
        }
        let made = submit(&root, &node, clients, clients, &fields).await;
        assert_eq!(made.status, 200, "{}", made.html);
    }
    let store = &node.app.store;
    for c in store
        .list_clients(keyflow::storage::ClientKind::ThirdParty)
        .await
        .unwrap()
    {
        let (_, oauth) = store.oauth_client(&c.client_id).await.unwrap().unwrap();
        let cli = c.client_id == keyflow::domain::client::CLI_CLIENT_ID;
        assert_eq!(oauth.device_grant, cli || c.name == "TV", "{}", c.name);
    }
    let listed = root.get(&node.url(clients)).await;
    assert!(client_row(&listed, "TV").contains("Device sign-in"));
    assert!(!client_row(&listed, "Web").contains("Device sign-in"));
    assert!(!checked(&listed, box_name), "a new form starts unchecked");
}
