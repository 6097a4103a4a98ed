//! `keyflow login`, `logout` and `whoami`, and the session they keep,
//! with the real binary as a subprocess against a real server.

mod common;

use std::sync::Arc;

use common::binary::json_stdout;
use common::browser::user;
use common::cli_session::{CLI, CliHome, allow_in_browser, decide_device, refresh, signed_in};
use common::*;
use keyflow::clock::MockClock;
use keyflow::domain::user::Role;
use keyflow::testing::{TestDb, TestServer};
use serde_json::json;

const ANN: &str = "ann@example.com";

/// A node on `db` with Ann, owner of the workspace Acme: the node and
/// Acme's id.
async fn node_with_ann(db: &TestDb) -> (TestServer, String) {
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let acme = workspace(&node, "Acme").await.workspace.id;
    user(&node, ANN, &[(&acme, Role::Owner)]).await;
    (node, acme)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The run failed, saying `what`.
fn fails_saying(out: &std::process::Output, what: &str) {
    assert!(!out.status.success(), "{out:?}");
    assert!(stderr(out).contains(what), "{}", stderr(out));
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The session in `home` works: `whoami` as Ann in `ws`, and a command
/// that names no workspace acts in it.
fn session_works(home: &CliHome, ws: &str) {
    let me = json_stdout(&home.run(&["whoami", "--json"]));
    assert_eq!(me["credential"], "access_token", "{me}");
    assert_eq!(me["email"], ANN);
    assert_eq!(me["workspaceId"], ws);
    let keys = json_stdout(&home.run(&["apikey", "list", "--json"]));
    assert!(keys["items"].is_array(), "{keys}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_in_person_acts_in_each_of_their_workspaces() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let acme = workspace(&node, "Acme").await.workspace.id;
    let beta = workspace(&node, "Beta").await.workspace.id;
    let other = workspace(&node, "Other").await.workspace.id;
    user(&node, ANN, &[(&acme, Role::Owner), (&beta, Role::Admin)]).await;
    let home = signed_in(&node, ANN, Some(&acme)).await;
    let me = json_stdout(&home.run(&["whoami", "--json"]));
    assert_eq!(me["workspaceId"], acme.as_str());
    assert_eq!(me["email"], ANN);
    // The default workspace, another one, and one she is not a member of.
    let keys = json_stdout(&home.run(&["apikey", "list", "--json"]));
    assert_eq!(keys["items"].as_array().unwrap().len(), 0);
    let keys = json_stdout(&home.run(&["apikey", "list", "--workspace", &beta, "--json"]));
    assert!(keys["items"].is_array());
    let out = home.run(&["apikey", "list", "--workspace", &other, "--json"]);
    fails_saying(&out, "404");
}

/// RFC 8628 end to end: the CLI shows a code, Ann allows it on /device,
/// the CLI's poll gets the tokens and keeps them in a private file.
#[tokio::test(flavor = "multi_thread")]
async fn a_person_signs_the_cli_in_with_a_device_code() {
    for db in TestDb::all().await {
        let (node, acme) = node_with_ann(&db).await;
        let home = CliHome::empty(&node);
        let mut login = home.spawn(&["login", "--no-browser", "--json"]);
        let code = login.user_code();
        let done = decide_device(&node, ANN, &code, "allow", Some(&acme)).await;
        assert!(done.html.contains("is signed in"), "{}", done.html);
        let out = login.finish();
        let said = json_stdout(&out);
        assert_eq!(said["email"], ANN, "{said}");
        assert_eq!(said["workspaceId"], acme.as_str());
        assert_eq!(said["url"], home.url.as_str());
        let entry = home.entry();
        assert!(entry.refresh_token.is_some());
        #[cfg(unix)]
        {
            let folder = home.dir.path().join(".keyflow");
            assert_eq!(mode(&folder.join("credentials.toml")), 0o600);
            assert_eq!(mode(&folder), 0o700);
        }
        session_works(&home, &acme);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_device_code_fails_the_login() {
    let db = TestDb::sqlite();
    let (node, _) = node_with_ann(&db).await;
    let home = CliHome::empty(&node);
    let mut login = home.spawn(&["login", "--no-browser"]);
    let code = login.user_code();
    let done = decide_device(&node, ANN, &code, "deny", None).await;
    assert!(done.html.contains("Denied"), "{}", done.html);
    fails_saying(&login.finish(), "denied");
    assert!(home.credentials().servers.is_empty());
}

/// RFC 8628 §3.5: a code nobody allowed in time ends the login.
#[tokio::test(flavor = "multi_thread")]
async fn a_device_code_left_too_long_expires() {
    let db = TestDb::sqlite();
    let clock = MockClock::new(time::OffsetDateTime::now_utc().unix_timestamp());
    let node = TestServer::start_with_clock(&db.url, MASTER, &[], Arc::new(clock.clone())).await;
    let home = CliHome::empty(&node);
    let mut login = home.spawn(&["login", "--no-browser"]);
    login.user_code();
    clock.advance(601);
    fails_saying(&login.finish(), "run `keyflow login` again");
    assert!(home.credentials().servers.is_empty());
}

/// RFC 8252: `login --web` prints the authorization URL and waits on its
/// loopback port for the browser to come back with the code.
#[tokio::test(flavor = "multi_thread")]
async fn a_person_signs_the_cli_in_through_the_browser() {
    let db = TestDb::sqlite();
    let (node, acme) = node_with_ann(&db).await;
    let home = CliHome::empty(&node);
    let mut login = home.spawn(&["login", "--web", "--no-browser"]);
    let url = login.authorize_url();
    let back = allow_in_browser(&node, &url, ANN, Some(&acme)).await;
    assert!(back.starts_with("http://127.0.0.1:"), "{back}");
    let page = http().get(&back).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("You are signed in"));
    let out = login.finish();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(&format!("as {ANN}")), "{said}");
    session_works(&home, &acme);
}

/// RFC 6749 §10.12: an answer with another state (here from another page
/// on this machine) is refused and does not end the wait; the real one
/// then signs in.
#[tokio::test(flavor = "multi_thread")]
async fn the_browser_login_ignores_an_answer_with_another_state() {
    let db = TestDb::sqlite();
    let (node, acme) = node_with_ann(&db).await;
    let home = CliHome::empty(&node);
    let mut login = home.spawn(&["login", "--web", "--no-browser"]);
    let url = login.authorize_url();
    let redirect = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let forged = http()
        .get(format!("{redirect}?code=x&state=wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert!(forged.text().await.unwrap().contains("not the sign-in"));
    let back = allow_in_browser(&node, &url, ANN, Some(&acme)).await;
    let page = http().get(&back).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("You are signed in"));
    let out = login.finish();
    assert!(out.status.success(), "{}", stderr(&out));
    session_works(&home, &acme);
}

/// RFC 7009: logout revokes the refresh token, then forgets the session.
#[tokio::test(flavor = "multi_thread")]
async fn logout_revokes_the_session_and_forgets_it() {
    let db = TestDb::sqlite();
    let (node, _) = node_with_ann(&db).await;
    let home = signed_in(&node, ANN, None).await;
    let rt = home.entry().refresh_token.unwrap();
    let out = home.run(&["logout", "--json"]);
    assert_eq!(json_stdout(&out)["signedOut"], true);
    assert!(!home.credentials().servers.contains_key(&home.url));
    let spent = refresh(&node, &rt).await;
    assert_eq!(spent.json["error"], "invalid_grant", "{}", spent.json);
    fails_saying(&home.run(&["logout"]), "not signed in");
    fails_saying(&home.run(&["whoami"]), "keyflow login");
}

/// RFC 6749 §6: an access token about to expire is refreshed, the rotated
/// refresh token saved; a revoked one ends the session.
#[tokio::test(flavor = "multi_thread")]
async fn the_session_refreshes_itself_until_it_is_revoked() {
    for db in TestDb::all().await {
        let (node, acme) = node_with_ann(&db).await;
        let home = signed_in(&node, ANN, None).await;
        let before = home.entry();
        home.edit(|e| e.access_token_expires_at = 1_000_000_000);
        session_works(&home, &acme);
        let after = home.entry();
        assert_ne!(after.access_token, before.access_token);
        assert_ne!(after.refresh_token, before.refresh_token);
        assert!(after.access_token_expires_at > 1_000_000_000 + 60);

        let revoked = http()
            .post(node.url("/oauth/revoke"))
            .form(&[
                ("token", after.refresh_token.as_deref().unwrap()),
                ("client_id", CLI),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
        home.edit(|e| e.access_token_expires_at = 1_000_000_000);
        fails_saying(&home.run(&["whoami"]), "keyflow login --url");
        assert!(home.credentials().servers.is_empty());
    }
}

/// A new API key of `ws` with `keys:read`, written to `path`: its id.
async fn key_file(
    node: &TestServer,
    ws: &keyflow::service::workspaces::CreatedWorkspace,
    path: &std::path::Path,
) -> String {
    let admin = token(node, ws, "keys%3Aread+keys%3Awrite").await;
    let body = json!({"name": "reader", "type": "read_only", "scopes": ["keys:read"]});
    let made = common::keys::create(node, ws, &admin, body).await;
    assert_eq!(made.status, 201, "{}", made.json);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, made.json["key"].as_str().unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    made.json["id"].as_str().unwrap().to_owned()
}

/// An API key file comes before the session: `-k FILE`, then
/// `keyflow.key`, then `~/.keyflow/api.key`; with none of them and no
/// session, the error names every place.
#[tokio::test(flavor = "multi_thread")]
async fn key_files_come_before_the_session() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let acme = workspace(&node, "Acme").await;
    user(&node, ANN, &[(&acme.workspace.id, Role::Owner)]).await;
    let home = signed_in(&node, ANN, None).await;
    let in_home = home.dir.path().join(".keyflow/api.key");
    let home_key = key_file(&node, &acme, &in_home).await;
    let me = json_stdout(&home.run(&["whoami", "--json"]));
    assert_eq!(me["credential"], "api_key", "{me}");
    assert_eq!(me["keyId"], home_key.as_str());

    let named = home.dir.path().join("named.key");
    let named_key = key_file(&node, &acme, &named).await;
    let me = json_stdout(&home.run(&["-k", named.to_str().unwrap(), "whoami", "--json"]));
    assert_eq!(me["keyId"], named_key.as_str());

    std::fs::remove_file(&in_home).unwrap();
    let me = json_stdout(&home.run(&["whoami", "--json"]));
    assert_eq!(me["credential"], "access_token", "{me}");

    let nobody = CliHome::empty(&node);
    let out = nobody.run(&["whoami"]);
    for place in [
        "-k FILE",
        "keyflow.key",
        ".keyflow/api.key",
        "keyflow login",
    ] {
        fails_saying(&out, place);
    }
}

/// The server's clock passes the refresh token's lifetime: the access
/// token is refused and the refresh fails, and either way the CLI says to
/// sign in again.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_past_its_lifetime_asks_to_sign_in_again() {
    let db = TestDb::sqlite();
    let clock = MockClock::new(time::OffsetDateTime::now_utc().unix_timestamp());
    let args = ["--refresh-token-ttl", "3600"];
    let node = TestServer::start_with_clock(&db.url, MASTER, &args, Arc::new(clock.clone())).await;
    let acme = workspace(&node, "Acme").await.workspace.id;
    user(&node, ANN, &[(&acme, Role::Owner)]).await;
    let home = signed_in(&node, ANN, None).await;
    session_works(&home, &acme);
    // Past both lifetimes (an hour each) and the verifier's 30 s leeway:
    // the server refuses the access token the CLI still thinks current,
    // the one refresh that follows is refused too, and the session goes.
    clock.advance(3600 + 60);
    fails_saying(&home.run(&["whoami"]), "keyflow login --url");
    assert!(home.credentials().servers.is_empty());
}

/// An access token the server refuses before its time (here revoked,
/// RFC 7009) is replaced once with the refresh token, and the command
/// goes through.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_access_token_is_refreshed_once() {
    let db = TestDb::sqlite();
    let (node, acme) = node_with_ann(&db).await;
    let home = signed_in(&node, ANN, None).await;
    let before = home.entry();
    let revoked = http()
        .post(node.url("/oauth/revoke"))
        .form(&[
            ("token", before.access_token.as_str()),
            ("token_type_hint", "access_token"),
            ("client_id", CLI),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let me = json_stdout(&home.run(&["whoami", "--json"]));
    assert_eq!(me["workspaceId"], acme.as_str());
    let after = home.entry();
    assert_ne!(after.access_token, before.access_token);
    assert_ne!(after.refresh_token, before.refresh_token);
}

/// Commands started together on an expired access token refresh it once,
/// under the lock: the server never sees a refresh token spent twice
/// (which it would take for a replay, ending the session).
#[tokio::test(flavor = "multi_thread")]
async fn commands_started_together_refresh_the_session_once() {
    let db = TestDb::sqlite();
    let (node, acme) = node_with_ann(&db).await;
    let home = signed_in(&node, ANN, None).await;
    home.edit(|e| e.access_token_expires_at = 1_000_000_000);
    let running: Vec<_> = (0..4).map(|_| home.spawn(&["whoami", "--json"])).collect();
    for run in running {
        assert_eq!(json_stdout(&run.finish())["workspaceId"], acme.as_str());
    }
    // Past the reuse grace, the saved refresh token is the live one.
    let rt = home.entry().refresh_token.unwrap();
    let next = refresh(&node, &rt).await;
    assert_eq!(next.status, 200, "{}", next.json);
}

/// RFC 8628 in a real Chromium: Ann types the code the CLI shows on
/// /device and allows it; the CLI signs in.
#[tokio::test(flavor = "multi_thread")]
async fn a_person_allows_the_cli_in_chromium() {
    let Some(b) = common::chromium::Chromium::start("cli_device_login").await else {
        return;
    };
    let db = TestDb::sqlite();
    let (node, acme) = node_with_ann(&db).await;
    let home = CliHome::empty(&node);
    let mut login = home.spawn(&["login", "--no-browser", "--json"]);
    let code = login.user_code();
    b.goto(&node.url("/device")).await;
    b.wait_for_path("/login").await;
    b.fill("Email", ANN).await;
    b.fill("Password", common::browser::PASSWORD).await;
    b.click_button("Sign in").await;
    b.wait_for_path("/device").await;
    b.fill("Code", &code).await;
    b.click_button("Continue").await;
    b.wait_for_text("keyflow CLI wants to access your keyflow account")
        .await;
    let text = b.wait_for_text(&code).await;
    assert!(text.contains("Workspace: Acme"), "{text}");
    b.screenshot("device-confirm").await;
    b.click_button("Allow").await;
    b.wait_for_text("keyflow CLI is signed in").await;
    assert_eq!(json_stdout(&login.finish())["email"], ANN);
    session_works(&home, &acme);
}
