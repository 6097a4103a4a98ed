//! A person at the console over real HTTP: a cookie-keeping client that
//! signs in through the login form and posts the console's forms with
//! their CSRF token.

use std::sync::Arc;

use keyflow::clock::MockClock;
use keyflow::domain::user::Role;
use keyflow::testing::{TestDb, TestServer};

use super::MASTER;
use super::browser::{Browser, PASSWORD, Page, user};

pub const T0: i64 = 1_800_000_000;

/// A node on a fresh SQLite database with an injected clock.
pub async fn node(args: &[&str]) -> (TestDb, TestServer, MockClock) {
    let db = TestDb::sqlite();
    let clock = MockClock::new(T0);
    let node = TestServer::start_with_clock(&db.url, MASTER, args, Arc::new(clock.clone())).await;
    (db, node, clock)
}

/// A browser signed in as `email`, created first with `workspaces`.
pub async fn person(node: &TestServer, email: &str, workspaces: &[(&str, Role)]) -> Browser {
    user(node, email, workspaces).await;
    signed_in(node, email).await
}

/// A browser signed in as the existing `email`.
pub async fn signed_in(node: &TestServer, email: &str) -> Browser {
    let b = Browser::new();
    let login = b.get(&node.url("/login?return_to=/console")).await;
    let p = b.sign_in(node, &login, email, PASSWORD).await;
    assert_eq!(p.status, 303, "sign-in failed: {}", p.html);
    b
}

/// Loads `path` and posts `fields` with the page's CSRF token to `action`.
pub async fn submit(
    b: &Browser,
    node: &TestServer,
    path: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Page {
    let page = b.get(&node.url(path)).await;
    assert_eq!(page.status, 200, "{path}: {}", page.html);
    let csrf = page.field("csrf");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    b.post(&node.url(action), &all).await
}

/// The text of the page's single `data-secret` element.
pub fn secret(page: &Page) -> String {
    let at = page
        .html
        .find("data-secret")
        .unwrap_or_else(|| panic!("no data-secret on the page:\n{}", page.html));
    let start = at + page.html[at..].find('>').expect("tag end") + 1;
    let end = start + page.html[start..].find('<').expect("element end");
    page.html[start..end].trim().to_owned()
}

/// The workspace id a "created" page shows.
pub fn workspace_id(page: &Page) -> String {
    let marker = "/console/workspaces/";
    let at = page.html.find(marker).expect("a workspace link") + marker.len();
    let end = at + page.html[at..].find('/').expect("link end");
    page.html[at..end].to_owned()
}

/// The token endpoint's status for client_credentials with `id` and `secret`.
pub async fn token_status(node: &TestServer, id: &str, secret: &str) -> u16 {
    super::post_form(
        node,
        Some(&super::basic(id, secret)),
        "grant_type=client_credentials",
    )
    .await
    .status
}

/// `root@example.com`, the platform admin, made through the setup link.
pub async fn make_platform_admin(node: &TestServer) {
    let token = node.app.signup().first_run_link().await.unwrap().unwrap();
    let account = keyflow::service::signup::NewAccount {
        email: "root@example.com",
        name: "Root",
        password: PASSWORD,
    };
    node.app
        .signup()
        .complete_setup(token.expose(), account, Default::default())
        .await
        .unwrap();
}
