//! The browser harness itself, proved on pages that exist: a person signs
//! in through a real Chromium, a page writes the clipboard and the test
//! reads it back, and two people's browsers keep separate cookies.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::MASTER;
use common::browser::{PASSWORD, user};
use common::chromium::{self, Chromium, Session};
use keyflow::testing::{TestDb, TestServer};

const EMAIL: &str = "ann@example.com";

async fn node() -> (TestDb, TestServer) {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    user(&node, EMAIL, &[]).await;
    (db, node)
}

/// Signs in on the login page by its labels, as a person would.
async fn sign_in(b: &Session, node: &TestServer) {
    b.goto(&node.url("/login?return_to=/account/apps")).await;
    b.screenshot("login").await;
    b.fill("Email", EMAIL).await;
    b.fill("Password", PASSWORD).await;
    b.click_button("Sign in").await;
}

#[tokio::test]
async fn a_person_signs_in_and_sees_their_connected_apps() {
    let Some(chromium) = Chromium::start("a_person_signs_in").await else {
        return;
    };
    let (_db, node) = node().await;
    sign_in(&chromium, &node).await;
    chromium.wait_for_path("/account/apps").await;
    let text = chromium
        .wait_for_text(&format!("Signed in as {EMAIL}"))
        .await;
    assert!(text.contains("No connected apps"), "{text}");
    let shot = chromium.screenshot("connected-apps").await;
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", shot.display());
    assert!(
        shot.ends_with("screenshots/a_person_signs_in/02-connected-apps.png"),
        "{}",
        shot.display()
    );
}

#[tokio::test]
async fn wrong_password_stays_on_the_login_page_with_an_alert() {
    let Some(chromium) = Chromium::start("wrong_password").await else {
        return;
    };
    let (_db, node) = node().await;
    chromium.goto(&node.url("/login")).await;
    chromium.fill("Email", EMAIL).await;
    chromium.fill("Password", "not the password").await;
    chromium.click_button("Sign in").await;
    chromium.wait_for_text("Wrong email or password.").await;
    chromium.screenshot("refused").await;
    assert_eq!(chromium.current_url().await.path(), "/login");
    // The email typed is kept; the field is found by its label again.
    let email = chromium.field("Email").await;
    assert_eq!(email.prop("value").await.unwrap().as_deref(), Some(EMAIL));
    // Focus starts on the password field, which the form marks autofocus.
    let password = chromium.field("Password").await;
    assert!(chromium.active_element_within(&password).await);
}

#[tokio::test]
async fn what_a_page_copies_can_be_read_back() {
    let Some(chromium) = Chromium::start("clipboard").await else {
        return;
    };
    let (_db, node) = node().await;
    chromium.goto(&node.url("/login")).await;
    // A script of the page writes the clipboard, as a copy button's would.
    let wrote = chromium
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.clipboard.writeText('hello-clip').then(() => done('ok'), e => done(String(e)));",
            vec![],
        )
        .await
        .expect("writeText");
    assert_eq!(wrote, "ok");
    assert_eq!(chromium.clipboard().await, "hello-clip");
    // A real click on a copy button: a page's own listener writes on a user
    // gesture (the button is added here; the console will ship its own).
    chromium
        .script(
            "const b = document.createElement('button');
             b.type = 'button';
             b.textContent = 'Copy';
             const s = document.createElement('code');
             s.dataset.secret = '';
             s.textContent = ' kf_secret_123 ';
             b.addEventListener('click', () => navigator.clipboard.writeText(s.textContent.trim()));
             document.body.prepend(s, b);",
            vec![],
        )
        .await;
    chromium.click_button("Copy").await;
    chromium.screenshot("copied").await;
    assert_eq!(chromium.secret().await, "kf_secret_123");
    assert_eq!(chromium.clipboard().await, "kf_secret_123");
}

#[tokio::test]
async fn controls_are_found_by_label_text_and_aria_label() {
    let Some(chromium) = Chromium::start("finders").await else {
        return;
    };
    let (_db, node) = node().await;
    chromium.goto(&node.url("/login")).await;
    // A modal dialog as the console will have: a nested label, a select, an
    // icon button named by aria-label, and Escape to close it.
    chromium
        .script(
            "const d = document.createElement('div');
             d.setAttribute('role', 'dialog');
             d.innerHTML = `<label>Key name <input></label>
               <label for='env'>Environment</label>
               <select id='env'><option>Test</option><option>Live</option></select>
               <a href='/docs'>Read the docs</a>
               <button type='button' aria-label='Close'>×</button>`;
             document.body.append(d);
             d.querySelector('input').focus();
             document.addEventListener('keydown', e => { if (e.key === 'Escape') d.hidden = true; });",
            vec![],
        )
        .await;
    let dialog = chromium.dialog().await;
    assert!(chromium.active_element_within(&dialog).await);
    chromium.fill("Key name", "ci deploys").await;
    chromium.fill("Environment", "Live").await;
    let env = chromium.field("Environment").await;
    assert_eq!(env.prop("value").await.unwrap().as_deref(), Some("Live"));
    let name = chromium.field_in(Some(&dialog), "Key name").await;
    assert_eq!(
        name.prop("value").await.unwrap().as_deref(),
        Some("ci deploys")
    );
    chromium.button_in(Some(&dialog), "Close").await;
    chromium.link("Read the docs").await;
    chromium.screenshot("dialog").await;
    chromium.press_escape().await;
    chromium.assert_no_dialog().await;
    // The page behind the dialog is still there.
    assert!(chromium.text().await.contains("Sign in"));
    chromium.button("Sign in").await;
}

#[tokio::test]
async fn two_sessions_keep_separate_cookies() {
    let Some(chromium) = Chromium::start("two_sessions").await else {
        return;
    };
    let (_db, node) = node().await;
    sign_in(&chromium, &node).await;
    chromium.wait_for_path("/account/apps").await;
    let bob = chromium.new_session("bob").await;
    bob.goto(&node.url("/account/apps")).await;
    bob.screenshot("apps-signed-out").await;
    assert_eq!(bob.current_url().await.path(), "/login");
    bob.field("Email").await;
    // Ann is still signed in.
    chromium.goto(&node.url("/account/apps")).await;
    assert_eq!(chromium.current_url().await.path(), "/account/apps");
    chromium.screenshot("apps-still-signed-in").await;
}

#[test]
fn binaries_are_found_in_usr_bin_or_on_path() {
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("keyflow-test-tool");
    std::fs::write(&tool, "#!/bin/sh\n").unwrap();
    let path = std::env::join_paths(["/nonexistent".as_ref(), dir.path()]).unwrap();
    // Not executable yet: not found.
    assert_eq!(chromium::locate("keyflow-test-tool", Some(&path)), None);
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        chromium::locate("keyflow-test-tool", Some(&path)),
        Some(tool)
    );
    assert_eq!(chromium::locate("keyflow-test-tool", None), None);
    assert_eq!(chromium::locate("sh", None), Some("/usr/bin/sh".into()));
}

#[test]
fn without_chromium_a_test_skips_outside_ci() {
    chromium::missing("some_test", false);
}

#[test]
#[should_panic(expected = "CI must run the browser tests")]
fn without_chromium_ci_fails() {
    chromium::missing("some_test", true);
}
