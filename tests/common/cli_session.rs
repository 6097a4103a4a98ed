//! A person signed in to keyflow's own CLI client (`keyflow-cli`), with the
//! session file `keyflow login` writes, in a home folder of its own: the
//! starting point of the tests of remote commands. The sign-in is the real
//! code flow with PKCE on a loopback redirect; only the browser is the
//! tests' cookie-keeping client.

use std::path::Path;
use std::process::{Command, Output};

use keyflow::cli::remote::credentials::{Credentials, Entry};
use keyflow::cli::remote::login::CLI_SCOPE;
use keyflow::testing::TestServer;

use super::binary::BIN;
use super::browser::{Browser, PASSWORD, authorize_url};
use super::post_form;

pub const CLI: &str = "keyflow-cli";
const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";
/// Any port matches a loopback redirect (RFC 8252 §7.3).
const LOOPBACK: &str = "http://127.0.0.1:49152/callback";

pub struct CliHome {
    pub dir: tempfile::TempDir,
    pub url: String,
}

/// The tokens of `email` (an existing user) signing in to the CLI client,
/// choosing `workspace` on the consent page (their first when `None`).
pub async fn cli_tokens(
    node: &TestServer,
    email: &str,
    workspace: Option<&str>,
) -> serde_json::Value {
    let browser = Browser::new();
    let url = authorize_url(node, CLI, LOOPBACK, CLI_SCOPE, VERIFIER);
    let login = browser.get(url.as_str()).await;
    let consent = browser.sign_in(node, &login, email, PASSWORD).await;
    let back = browser.decide(node, &consent, "allow", workspace).await;
    let code = back.redirect_params()["code"].clone();
    let a = post_form(
        node,
        None,
        &format!(
            "grant_type=authorization_code&client_id={CLI}&code={code}\
             &code_verifier={VERIFIER}&redirect_uri={}",
            url::form_urlencoded::byte_serialize(LOOPBACK.as_bytes()).collect::<String>()
        ),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.json);
    a.json
}

/// A home folder holding the session of `email` for `node`, as `keyflow
/// login --url` leaves it.
pub async fn signed_in(node: &TestServer, email: &str, workspace: Option<&str>) -> CliHome {
    let tokens = cli_tokens(node, email, workspace).await;
    let dir = tempfile::tempdir().unwrap();
    let url = node.issuer.trim_end_matches('/').to_owned();
    let me = super::http()
        .get(format!("{url}/v1/whoami"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let mut all = Credentials::default();
    all.servers.insert(
        url.clone(),
        Entry {
            email: Some(email.to_owned()),
            user_id: me["userId"].as_str().map(str::to_owned),
            workspace_id: me["workspaceId"].as_str().map(str::to_owned),
            access_token: tokens["access_token"].as_str().unwrap().to_owned(),
            access_token_expires_at: time::OffsetDateTime::now_utc().unix_timestamp()
                + tokens["expires_in"].as_i64().unwrap(),
            refresh_token: tokens["refresh_token"].as_str().map(str::to_owned),
        },
    );
    all.save(dir.path()).unwrap();
    CliHome { dir, url }
}

impl CliHome {
    /// `keyflow --url URL ARGS…` run in and with this home folder.
    pub fn run(&self, args: &[&str]) -> Output {
        run_in(self.dir.path(), self.dir.path(), &self.url, args)
    }
}

/// `keyflow --url URL ARGS…` with `HOME=home`, run in `cwd`.
pub fn run_in(home: &Path, cwd: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(cwd)
        .env("HOME", home)
        .env_remove("KEYFLOW_URL")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .args(["--url", url])
        .args(args)
        .output()
        .expect("run keyflow")
}
