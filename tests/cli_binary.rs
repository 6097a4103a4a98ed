//! Both ends are the real `keyflow` binary: `keyflow serve` on an embedded
//! database set up by the operator's commands, and `keyflow login` on a
//! person's machine, signed in through `/device` by a cookie-keeping
//! browser client; then a remote regenerate of the workspace's secret.

mod common;

use common::binary::{create_workspace, free_port, json_stdout, keyflow_stdin, serve, set_up};
use common::browser::{Browser, PASSWORD};
use common::cli_session::CliHome;
use common::{basic, http};

const ANN: &str = "ann@example.com";

/// Ann signs in at `url` and allows the device code `user_code`.
async fn allow_device(url: &str, user_code: &str) {
    let b = Browser::new();
    let device = format!("/device?user_code={user_code}");
    let login = b
        .get(&format!("{url}/login?return_to={}", urlencode(&device)))
        .await;
    let fields = [
        ("username", ANN),
        ("password", PASSWORD),
        ("csrf", &login.field("csrf")),
        ("request", &login.field("request")),
        ("return_to", &login.field("return_to")),
    ];
    let signed_in = b.post(&format!("{url}/login"), &fields).await;
    assert_eq!(signed_in.location.as_deref(), Some(device.as_str()));
    let confirm = b.get(&format!("{url}{device}")).await;
    assert_eq!(confirm.status, 200, "{}", confirm.html);
    let fields = [
        ("csrf", confirm.field("csrf")),
        ("user_code", confirm.field("user_code")),
        ("workspace", confirm.field("workspace")),
        ("decision", "allow".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = b.post(&format!("{url}/device/decision"), &fields).await;
    assert!(done.html.contains("is signed in"), "{}", done.html);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn token_status(url: &str, key: &str, secret: &str) -> u16 {
    http()
        .post(format!("{url}/oauth/token"))
        .header("authorization", basic(key, secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "api:read")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_binary_signs_in_to_the_server_binary_and_regenerates_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = "sqlite://keyflow.db";
    set_up(dir.path(), db);
    let ws = create_workspace(dir.path(), db, "Acme");
    let id = ws["workspaceId"].as_str().unwrap();
    let args = ["user", "create", "--email", ANN, "--password-stdin"];
    let args = [&args[..], &["--workspace", id, "--role", "owner", "--json"]].concat();
    json_stdout(&keyflow_stdin(
        dir.path(),
        db,
        &args,
        &format!("{PASSWORD}\n"),
    ));
    let port = free_port();
    let _server = serve(dir.path(), db, port).await;
    let url = format!("http://127.0.0.1:{port}");

    let home = CliHome {
        dir: tempfile::tempdir().unwrap(),
        url: url.clone(),
    };
    let mut login = home.spawn(&["login", "--no-browser", "--json"]);
    let code = login.user_code();
    allow_device(&url, &code).await;
    let signed_in = json_stdout(&login.finish());
    assert_eq!(signed_in["email"], ANN);
    assert_eq!(signed_in["workspaceId"], id);

    let (key, old) = (&ws["applicationKey"], &ws["secretKey"]);
    let (key, old) = (key.as_str().unwrap(), old.as_str().unwrap());
    assert_eq!(token_status(&url, key, old).await, 200);
    let made = json_stdout(&home.run(&["workspace", "regenerate", "--json"]));
    let new = made["secretKey"].as_str().expect("the new secret, once");
    assert_eq!(token_status(&url, key, old).await, 401);
    assert_eq!(token_status(&url, key, new).await, 200);
}
