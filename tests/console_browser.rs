//! The console in a real Chromium, driven as a person would: by labels and
//! button names. First-run setup, a workspace and its secret shown once,
//! copy buttons read back from the clipboard, regenerating through the
//! dialog, an invitation taken up in a second browser, a member's limits,
//! the rotation banner, re-authentication, and sign-up under each policy.
//! Every page is saved as a screenshot under `target/screenshots/`.

mod common;

use std::sync::Arc;

use common::MASTER;
use common::a11y::{assert_accessible, problems};
use common::browser::PASSWORD;
use common::chromium::{Chromium, Session};
use common::console::token_status;
use keyflow::clock::MockClock;
use keyflow::testing::{TestDb, TestServer};
use serde_json::json;

const T0: i64 = 1_800_000_000;

async fn value_of(b: &Session, id: &str) -> String {
    let v = b
        .script(
            "return document.getElementById(arguments[0]).textContent.trim();",
            vec![json!(id)],
        )
        .await;
    v.as_str().expect("text").to_owned()
}

async fn sign_in(b: &Session, node: &TestServer, email: &str) {
    b.goto(&node.url("/login?return_to=/console")).await;
    b.screenshot("login").await;
    assert_accessible(b, "login").await;
    b.fill("Email", email).await;
    b.fill("Password", PASSWORD).await;
    b.click_button("Sign in").await;
    b.wait_for_path("/console").await;
}

#[tokio::test]
async fn an_operator_sets_up_keyflow_and_a_team_works_in_a_workspace() {
    let Some(ann) = Chromium::start("console_walkthrough").await else {
        return;
    };
    let db = TestDb::sqlite();
    let clock = MockClock::new(T0);
    let node = TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;

    // First run: the setup link creates the platform admin.
    let token = node.app.signup().first_run_link().await.unwrap().unwrap();
    ann.goto(&node.url(&format!("/setup?token={}", token.expose())))
        .await;
    ann.screenshot("setup").await;
    assert_accessible(&ann, "setup").await;
    ann.fill("Email", "ann@example.com").await;
    ann.fill("Name", "Ann").await;
    ann.fill("Password", PASSWORD).await;
    ann.click_button("Create platform admin").await;
    ann.wait_for_path("/console").await;
    ann.wait_for_text("No workspaces yet").await;
    ann.screenshot("console-empty").await;
    assert_accessible(&ann, "console-empty").await;

    // A workspace: its keys shown once, each copied to the clipboard.
    ann.fill("Name", "Reports").await;
    ann.click_button("Create workspace").await;
    ann.wait_for_text("Copy the secret key now").await;
    ann.screenshot("workspace-created").await;
    assert_accessible(&ann, "workspace-created").await;
    let secret = ann.secret().await;
    let key = value_of(&ann, "application-key").await;
    let ws = value_of(&ann, "workspace-id").await;
    for (button, id) in [
        ("Copy Workspace ID", "workspace-id"),
        ("Copy API URL", "api-url"),
        ("Copy Application Key", "application-key"),
        ("Copy Secret Key", "secret-key"),
    ] {
        ann.click_button(button).await;
        assert_eq!(ann.clipboard().await, value_of(&ann, id).await, "{button}");
    }
    assert_eq!(ann.clipboard().await, secret);
    assert_eq!(token_status(&node, &key, &secret).await, 200);

    // The tab never shows the secret again.
    ann.link("I have saved the secret key")
        .await
        .click()
        .await
        .unwrap();
    let tab = format!("/console/workspaces/{ws}/integration");
    ann.wait_for_path(&tab).await;
    let text = ann.wait_for_text("Last Rotation Date").await;
    assert!(text.contains("********") && !text.contains(&secret));
    ann.screenshot("api-integration").await;
    assert_accessible(&ann, "api-integration").await;

    // The dialog: focus moves into it, Escape closes it, nothing happens.
    ann.click_button("Regenerate Secret Key").await;
    let dialog = ann.dialog().await;
    assert!(
        ann.active_element_within(&dialog).await,
        "focus is in the dialog"
    );
    ann.screenshot("regenerate-dialog").await;
    assert_accessible(&ann, "regenerate-dialog").await;
    ann.press_escape().await;
    ann.assert_no_dialog().await;
    assert_eq!(token_status(&node, &key, &secret).await, 200);

    // Confirmed: a new secret once, and the old one is refused.
    ann.click_button("Regenerate Secret Key").await;
    let dialog = ann.dialog().await;
    ann.button_in(Some(&dialog), "Regenerate")
        .await
        .click()
        .await
        .unwrap();
    ann.wait_for_text("Copy the new secret key now").await;
    ann.screenshot("secret-regenerated").await;
    assert_accessible(&ann, "secret-regenerated").await;
    let new_secret = ann.secret().await;
    assert_ne!(new_secret, secret);
    ann.click_button("Copy Secret Key").await;
    assert_eq!(ann.clipboard().await, new_secret);
    assert_eq!(token_status(&node, &key, &secret).await, 401);
    assert_eq!(token_status(&node, &key, &new_secret).await, 200);

    // An invitation, taken up by a second person in their own browser.
    ann.goto(&node.url(&format!("/console/workspaces/{ws}/members")))
        .await;
    ann.screenshot("members").await;
    assert_accessible(&ann, "members").await;
    ann.fill("Email", "bo@example.com").await;
    ann.fill("Role", "Member").await;
    ann.click_button("Invite").await;
    ann.wait_for_text("Invitation for bo@example.com").await;
    ann.screenshot("invitation-link").await;
    assert_accessible(&ann, "invitation-link").await;
    let link = ann.secret().await;
    let bo = ann.new_session("bo").await;
    bo.goto(&link).await;
    bo.screenshot("invitation").await;
    assert_accessible(&bo, "invitation").await;
    bo.fill("Name", "Bo").await;
    bo.fill("Password", PASSWORD).await;
    bo.click_button("Create account and join").await;
    bo.wait_for_path(&tab).await;
    let text = bo.wait_for_text("Your role: Member").await;
    // A member sees no Regenerate button, and posting the form anyway is
    // refused.
    assert!(!text.contains("Regenerate Secret Key"), "{text}");
    bo.screenshot("member-api-integration").await;
    assert_accessible(&bo, "member-api-integration").await;
    bo.script(
        "const f = document.createElement('form'); f.method = 'post'; \
         f.action = arguments[0]; \
         for (const [k, v] of [['csrf', document.querySelector('input[name=csrf]').value], ['grace', '0']]) { \
           const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.append(i); } \
         document.body.append(f); f.submit(); return true;",
        vec![json!(format!("/console/workspaces/{ws}/regenerate"))],
    )
    .await;
    bo.wait_for_text("Not allowed").await;
    bo.screenshot("member-refused").await;
    assert_accessible(&bo, "member-refused").await;
    assert_eq!(token_status(&node, &key, &new_secret).await, 200);

    // Ann's member list shows Bo; her account and apps pages.
    ann.goto(&node.url(&format!("/console/workspaces/{ws}/members")))
        .await;
    ann.wait_for_text("bo@example.com").await;
    ann.goto(&node.url("/console/account")).await;
    ann.wait_for_text("Active sessions").await;
    ann.screenshot("account").await;
    assert_accessible(&ann, "account").await;
    ann.goto(&node.url("/account/apps")).await;
    ann.wait_for_text("No connected apps").await;
    ann.screenshot("connected-apps").await;
    assert_accessible(&ann, "connected-apps").await;

    // The platform admin's pages: a client registered, a reset link for Bo.
    ann.goto(&node.url("/console/admin/clients")).await;
    ann.screenshot("admin-clients").await;
    assert_accessible(&ann, "admin-clients").await;
    ann.fill("Name", "Make").await;
    ann.fill("Redirect URIs", "https://make.example/cb").await;
    ann.click_button("Register client").await;
    ann.wait_for_text("Copy the client secret now").await;
    ann.screenshot("admin-client-registered").await;
    assert_accessible(&ann, "admin-client-registered").await;
    assert!(ann.secret().await.starts_with("sec_"));
    ann.goto(&node.url("/console/admin")).await;
    ann.wait_for_text("bo@example.com").await;
    ann.screenshot("admin-users").await;
    assert_accessible(&ann, "admin-users").await;
    ann.click_button("Create a password-reset link for bo@example.com")
        .await;
    ann.wait_for_text("Password-reset link for bo@example.com")
        .await;
    ann.screenshot("admin-reset-link").await;
    assert_accessible(&ann, "admin-reset-link").await;
    let reset = ann.secret().await;
    bo.goto(&reset).await;
    bo.screenshot("reset-password").await;
    assert_accessible(&bo, "reset-password").await;
    bo.fill("Password", "bo's brand new password").await;
    bo.click_button("Set password").await;
    bo.wait_for_text("Your password was changed").await;
    bo.screenshot("reset-done").await;
    assert_accessible(&bo, "reset-done").await;

    // 91 days on: the banner, and regenerating asks for the password again.
    clock.advance(91 * 86_400);
    sign_in(&ann, &node, "ann@example.com").await;
    ann.goto(&node.url(&tab)).await;
    ann.wait_for_text("The secret key is 91 days old").await;
    ann.screenshot("rotation-due").await;
    assert_accessible(&ann, "rotation-due").await;
    clock.advance(11 * 60);
    ann.click_button("Regenerate Secret Key").await;
    let dialog = ann.dialog().await;
    ann.button_in(Some(&dialog), "Regenerate")
        .await
        .click()
        .await
        .unwrap();
    ann.wait_for_text("Confirm your password").await;
    ann.screenshot("reauthenticate").await;
    assert_accessible(&ann, "reauthenticate").await;
    ann.fill("Password", PASSWORD).await;
    ann.click_button("Confirm").await;
    ann.wait_for_text("Copy the new secret key now").await;
    let third = ann.secret().await;
    assert_eq!(token_status(&node, &key, &third).await, 200);
    assert_eq!(token_status(&node, &key, &new_secret).await, 401);

    ann.click_button("Sign out").await;
    ann.wait_for_path("/login").await;
    ann.screenshot("signed-out").await;
    assert_accessible(&ann, "signed-out").await;
}

#[tokio::test]
async fn sign_up_follows_the_policy_in_the_browser() {
    let Some(b) = Chromium::start("console_sign_up").await else {
        return;
    };
    for policy in ["open", "invite", "closed"] {
        let db = TestDb::sqlite();
        let node = TestServer::start(&db.url, MASTER, &["--signup", policy]).await;
        b.goto(&node.url("/signup")).await;
        b.screenshot(&format!("signup-{policy}")).await;
        assert_accessible(&b, &format!("signup-{policy}")).await;
        if policy != "open" {
            b.wait_for_text("Sign-up is not open").await;
            continue;
        }
        b.fill("Email", "cy@example.com").await;
        b.fill("Name", "Cy").await;
        b.fill("Password", PASSWORD).await;
        b.click_button("Create account").await;
        b.wait_for_path("/console").await;
        b.wait_for_text("cy@example.com").await;
        b.screenshot("signed-up").await;
        assert_accessible(&b, "signed-up").await;
        b.click_button("Sign out").await;
        b.wait_for_path("/login").await;
    }
}

#[tokio::test]
async fn the_accessibility_check_finds_each_kind_of_problem() {
    let Some(b) = Chromium::start("console_a11y_check").await else {
        return;
    };
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    b.goto(&node.url("/login")).await;
    assert_accessible(&b, "login").await;
    b.script(
        "const main = document.querySelector('main'); \
         main.insertAdjacentHTML('beforeend', \
           '<input id=\"unlabelled\"><button id=\"nameless\"></button><h3>Skipped</h3>'); \
         const faint = document.createElement('p'); faint.textContent = 'faint text'; \
         faint.style.color = '#bbbbbb'; main.append(faint); return true;",
        Vec::new(),
    )
    .await;
    let found = problems(&b).await;
    for kind in [
        "field without a label: input#unlabelled",
        "control without a name: button#nameless",
        "heading skips a level: h3",
        "contrast",
    ] {
        assert!(
            found.iter().any(|p| p.starts_with(kind)),
            "{kind} not in {found:#?}"
        );
    }
}

/// The API Keys tab in Chromium: each type created through the dialog,
/// the key downloaded and used by the CLI's `-k`, its use in the table,
/// deactivation refusing it, a roll with an overlap, and revocation
/// through the bin icon and its confirmation.
#[tokio::test]
async fn a_developer_manages_api_keys_in_the_console() {
    let Some(b) = Chromium::start("console_api_keys").await else {
        return;
    };
    let db = TestDb::sqlite();
    let clock = MockClock::new(T0);
    let node = TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
    let ws = common::workspace(&node, "Reports").await.workspace.id;
    common::browser::user(
        &node,
        "dev@example.com",
        &[(&ws, keyflow::domain::user::Role::Admin)],
    )
    .await;
    sign_in(&b, &node, "dev@example.com").await;
    let tab = format!("/console/workspaces/{ws}/api-keys");
    b.goto(&node.url(&tab)).await;
    b.wait_for_text("No API keys yet").await;
    b.screenshot("api-keys-empty").await;
    assert_accessible(&b, "api-keys-empty").await;

    // Each type through the dialog; the secret key is downloaded.
    let mut keys = Vec::new();
    for (name, kind, scopes) in [
        (
            "backend",
            "Secret: for servers, any scope",
            &["api:read", "keys:read"][..],
        ),
        (
            "web app",
            "Client: safe in an app, events:write only",
            &["events:write"][..],
        ),
        (
            "dashboards",
            "Read-only: read scopes only",
            &["api:read"][..],
        ),
    ] {
        b.goto(&node.url(&tab)).await;
        b.click_button("Create API key").await;
        let dialog = b.dialog().await;
        assert!(
            b.active_element_within(&dialog).await,
            "focus is in the dialog"
        );
        b.field_in(Some(&dialog), "Name")
            .await
            .send_keys(name)
            .await
            .unwrap();
        b.field_in(Some(&dialog), "Type")
            .await
            .select_by_label(kind)
            .await
            .unwrap();
        for s in scopes {
            b.field_in(Some(&dialog), s).await.click().await.unwrap();
        }
        // The form offers only what the chosen type may carry.
        let offered = b
            .script(
                "return [...document.querySelectorAll('dialog[open] [data-key-types]')]\
                 .filter(r => !r.hidden).length",
                vec![],
            )
            .await;
        let expected = match kind.split(':').next().unwrap() {
            "Client" => 1,
            "Read-only" => 3,
            _ => 7,
        };
        assert_eq!(offered, expected, "{kind}");
        b.field_in(Some(&dialog), "In 90 days")
            .await
            .click()
            .await
            .unwrap();
        if keys.is_empty() {
            b.screenshot("create-dialog").await;
            assert_accessible(&b, "create-dialog").await;
        }
        b.button_in(Some(&dialog), "Create API key")
            .await
            .click()
            .await
            .unwrap();
        b.wait_for_text("cannot be shown again").await;
        let key = b.secret().await;
        if keys.is_empty() {
            b.screenshot("key-created").await;
            assert_accessible(&b, "key-created").await;
            b.click_button("Download").await;
            let file = b.downloaded("keyflow.key").await;
            assert_eq!(std::fs::read_to_string(&file).unwrap(), format!("{key}\n"));
            // The CLI uses the downloaded file as it is.
            // (On a blocking thread: this runtime also serves the node.)
            let mut cli = std::process::Command::new(common::binary::BIN);
            cli.env("HOME", file.parent().unwrap())
                .args(["apikey", "--url", &node.url(""), "-k"])
                .arg(&file)
                .args(["list", "--json"]);
            let out = tokio::task::spawn_blocking(move || cli.output().unwrap())
                .await
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let listed = common::binary::json_stdout(&out);
            assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
        }
        keys.push(key);
    }
    assert!(keys[0].starts_with("sk_") && keys[1].starts_with("ck_") && keys[2].starts_with("rk_"));

    // The CLI's request shows in the table once the batch is written.
    node.app.flush_usage().await;
    b.goto(&node.url(&tab)).await;
    let prefix = keys[0].split('.').next().unwrap().to_owned();
    let row = b.css(&format!("tr[data-key='{prefix}']")).await;
    let text = row.text().await.unwrap();
    assert!(
        text.contains("Secret") && !text.contains("Never\t2"),
        "{text}"
    );
    let last_used = b
        .script(
            "return arguments[0].querySelector('td:nth-child(7) time').title",
            vec![serde_json::to_value(&row).unwrap()],
        )
        .await;
    assert_eq!(last_used, "2027-01-15 08:00 UTC");
    let spark = b
        .script(
            "return arguments[0].querySelector('svg.sparkline').getAttribute('aria-label')",
            vec![serde_json::to_value(&row).unwrap()],
        )
        .await;
    // The CLI asked whoami, then listed: two requests.
    assert_eq!(spark, "2 requests in the last 30 days");
    b.screenshot("api-keys-table").await;
    assert_accessible(&b, "api-keys-table").await;

    // Deactivated, the key is refused; activated, it works again.
    let whoami = |key: String| {
        let url = node.url("/v1/whoami");
        async move {
            common::http()
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    b.button_in(Some(&row), "Deactivate")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for_text("The key was deactivated").await;
    assert_eq!(whoami(keys[0].clone()).await, 401);
    let row = b.css(&format!("tr[data-key='{prefix}']")).await;
    b.button_in(Some(&row), "Activate")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for_text("The key was activated").await;
    assert_eq!(whoami(keys[0].clone()).await, 200);

    // Roll with a one-hour overlap: both keys work until it ends.
    let row = b.css(&format!("tr[data-key='{prefix}']")).await;
    b.button_in(Some(&row), "Roll").await.click().await.unwrap();
    let dialog = b.dialog().await;
    b.field_in(Some(&dialog), "After 1 hour")
        .await
        .click()
        .await
        .unwrap();
    b.screenshot("roll-dialog").await;
    b.button_in(Some(&dialog), "Roll")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for_text("The previous key keeps working until")
        .await;
    let rolled = b.secret().await;
    assert_eq!(whoami(keys[0].clone()).await, 200);
    assert_eq!(whoami(rolled.clone()).await, 200);
    clock.advance(3601);
    assert_eq!(whoami(keys[0].clone()).await, 401);

    // The key's page: its details and usage chart.
    b.click_button("I have saved the key").await;
    b.wait_for_text("Rate limits").await;
    b.screenshot("key-page").await;
    assert_accessible(&b, "key-page").await;

    // Revoke the new key through the bin icon and its confirmation.
    b.goto(&node.url(&tab)).await;
    let new_prefix = rolled.split('.').next().unwrap().to_owned();
    let row = b.css(&format!("tr[data-key='{new_prefix}']")).await;
    b.button_in(Some(&row), "Revoke")
        .await
        .click()
        .await
        .unwrap();
    let dialog = b.dialog().await;
    b.screenshot("revoke-dialog").await;
    assert_accessible(&b, "revoke-dialog").await;
    b.button_in(Some(&dialog), "Revoke")
        .await
        .click()
        .await
        .unwrap();
    b.wait_for_text("The key was revoked").await;
    assert_eq!(whoami(rolled).await, 401);
    // Filtered to revoked keys, it is there, without actions.
    b.fill("Status", "Revoked").await;
    b.click_button("Apply").await;
    b.wait_for_query("status").await;
    b.wait_for_text("1 of 4 keys").await;
    b.screenshot("revoked-filter").await;

    // The audit log, filtered to revocations: the one revoked key.
    b.link("Audit log").await.click().await.unwrap();
    b.wait_for_path(&format!("/console/workspaces/{ws}/audit"))
        .await;
    b.fill("Event", "API key revoked").await;
    b.click_button("Filter").await;
    // The unfiltered log holds the revocation too: wait for the filtered page.
    b.wait_for_query("event").await;
    let text = b.wait_for_text("API key revoked\t").await;
    assert!(!text.contains("API key created\t"), "{text}");
    assert_eq!(text.matches("API key revoked\t").count(), 1, "{text}");
    b.screenshot("audit-log").await;
    assert_accessible(&b, "audit-log").await;
}

/// RFC 8628 in the browser: a CLI shows a code; the person follows the
/// link, signs in, enters the code in lower case, checks the client and
/// its scopes, and allows it; the CLI's next poll gets its tokens.
#[tokio::test]
async fn a_person_signs_a_device_in_on_the_device_page() {
    use common::browser::{cli_client, poll_device, start_device, user};
    let Some(b) = Chromium::start("device_sign_in").await else {
        return;
    };
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = common::workspace(&node, "Reports").await;
    let role = keyflow::domain::user::Role::Owner;
    user(&node, "dev@example.com", &[(&ws.workspace.id, role)]).await;
    let client_id = cli_client(&node, true).await;
    let started = start_device(&node, &client_id, "openid api:read").await;
    assert_eq!(started.status, 200, "{}", started.json);
    let user_code = started.json["user_code"].as_str().unwrap().to_owned();
    let device_code = started.json["device_code"].as_str().unwrap().to_owned();

    // Signed out, /device leads through the sign-in and back.
    b.goto(&node.url("/device")).await;
    b.wait_for_path("/login").await;
    b.fill("Email", "dev@example.com").await;
    b.fill("Password", PASSWORD).await;
    b.click_button("Sign in").await;
    b.wait_for_path("/device").await;
    b.wait_for_text("Never enter a code someone sent you").await;
    b.screenshot("device-entry").await;
    assert_accessible(&b, "device-entry").await;

    b.fill("Code", &user_code.to_lowercase()).await;
    b.click_button("Continue").await;
    b.wait_for_text("Reflow CLI wants to access your keyflow account")
        .await;
    let text = b.wait_for_text(&user_code).await;
    assert!(text.contains("Workspace: Reports"), "{text}");
    b.screenshot("device-confirm").await;
    assert_accessible(&b, "device-confirm").await;
    let pending = poll_device(&node, &client_id, &device_code).await;
    assert_eq!(pending.json["error"], "authorization_pending");

    b.click_button("Allow").await;
    b.wait_for_text("Reflow CLI is signed in").await;
    b.screenshot("device-done").await;
    assert_accessible(&b, "device-done").await;
    let tokens = poll_device(&node, &client_id, &device_code).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    assert_eq!(tokens.json["scope"], "api:read openid");
}
