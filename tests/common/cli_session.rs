//! A person signed in to keyflow's own CLI client (`keyflow-cli`), with the
//! session file `keyflow login` writes, in a home folder of its own: the
//! starting point of the tests of remote commands. The sign-in is the real
//! code flow with PKCE on a loopback redirect; only the browser is the
//! tests' cookie-keeping client.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use keyflow::cli::remote::credentials::{Credentials, Entry};
use keyflow::cli::remote::login::CLI_SCOPE;
use keyflow::testing::TestServer;

use super::binary::BIN;
use super::browser::{Browser, PASSWORD, Page, authorize_url};
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
        self.command(args).output().expect("run keyflow")
    }

    /// An empty home folder for the CLI of `node`: nobody signed in yet.
    pub fn empty(node: &TestServer) -> CliHome {
        CliHome {
            dir: tempfile::tempdir().unwrap(),
            url: node.issuer.trim_end_matches('/').to_owned(),
        }
    }

    /// The sessions `keyflow login` stored in this home folder.
    pub fn credentials(&self) -> Credentials {
        Credentials::load(self.dir.path()).unwrap()
    }

    /// This server's session in the home folder, which must be there.
    pub fn entry(&self) -> Entry {
        self.credentials().servers[&self.url].clone()
    }

    /// Rewrites this server's session with `change`.
    pub fn edit(&self, change: impl FnOnce(&mut Entry)) {
        let mut all = self.credentials();
        change(all.servers.get_mut(&self.url).expect("a session"));
        all.save(self.dir.path()).unwrap();
    }

    /// `keyflow --url URL ARGS…` in this home folder, without a browser to
    /// open, to be run or spawned.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env_remove("KEYFLOW_URL")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .args(["--url", &self.url])
            .args(args);
        c
    }

    /// `keyflow --url URL ARGS…` started in this home folder, its output
    /// piped, for a test to answer what it asks while it runs.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run keyflow");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Running {
            child,
            lines,
            stderr: Vec::new(),
        }
    }
}

/// A `keyflow` still running, its stderr read line by line.
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Vec<String>,
}

impl Running {
    /// The first stderr line from now on for which `find` gives a value:
    /// that value. Panics after 30 s.
    pub fn wait_for<T>(&mut self, mut find: impl FnMut(&str) -> Option<T>) -> T {
        tokio::task::block_in_place(|| {
            loop {
                let line = self
                    .lines
                    .recv_timeout(Duration::from_secs(30))
                    .unwrap_or_else(|e| panic!("{e}; stderr so far: {:?}", self.stderr));
                self.stderr.push(line.clone());
                if let Some(found) = find(&line) {
                    return found;
                }
            }
        })
    }

    /// The user code of a device login (RFC 8628 §3.3).
    pub fn user_code(&mut self) -> String {
        self.wait_for(|l| {
            l.strip_prefix("To sign in, open ")
                .and_then(|rest| rest.split("enter the code ").nth(1))
                .map(str::to_owned)
        })
    }

    /// The authorization URL `login --web` prints.
    pub fn authorize_url(&mut self) -> String {
        self.wait_for(|l| l.strip_prefix("  http").map(|rest| format!("http{rest}")))
    }

    /// Stops a command that runs until interrupted (`--follow`): its
    /// status, and all it wrote.
    pub fn stop(mut self) -> Output {
        let _ = self.child.kill();
        self.finish()
    }

    /// Waits (at most 60 s) for the exit: its status, stdout and stderr.
    pub fn finish(mut self) -> Output {
        tokio::task::block_in_place(|| {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            let status = loop {
                if let Some(status) = self.child.try_wait().unwrap() {
                    break status;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "keyflow did not exit; stderr: {:?}",
                    self.stderr
                );
                std::thread::sleep(Duration::from_millis(50));
            };
            let mut stdout = Vec::new();
            self.child
                .stdout
                .take()
                .unwrap()
                .read_to_end(&mut stdout)
                .unwrap();
            while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
                self.stderr.push(line);
            }
            Output {
                status,
                stdout,
                stderr: self.stderr.join("\n").into_bytes(),
            }
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// `email` (an existing user) decides on `/device` for `user_code`, in
/// `workspace` when given: the page that answers the decision.
pub async fn decide_device(
    node: &TestServer,
    email: &str,
    user_code: &str,
    decision: &str,
    workspace: Option<&str>,
) -> Page {
    let browser = super::console::signed_in(node, email).await;
    let confirm = browser
        .get(&node.url(&format!("/device?user_code={user_code}")))
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.html);
    let csrf = confirm.field("csrf");
    let code = confirm.field("user_code");
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("user_code", code.as_str()),
        ("decision", decision),
    ];
    if let Some(w) = workspace {
        fields.push(("workspace", w));
    }
    browser.post(&node.url("/device/decision"), &fields).await
}

/// `email` follows the authorization URL `login --web` printed: signs in,
/// allows it in `workspace`; the redirect back to the CLI's loopback
/// listener, which the caller delivers.
pub async fn allow_in_browser(
    node: &TestServer,
    url: &str,
    email: &str,
    workspace: Option<&str>,
) -> String {
    let browser = Browser::new();
    let login = browser.get(url).await;
    let consent = browser.sign_in(node, &login, email, PASSWORD).await;
    let back = browser.decide(node, &consent, "allow", workspace).await;
    back.location
        .unwrap_or_else(|| panic!("no redirect to the CLI: {}", back.html))
}

/// A `refresh_token` grant of the CLI client: the token endpoint's answer.
pub async fn refresh(node: &TestServer, refresh_token: &str) -> super::Answer {
    let token: String = url::form_urlencoded::byte_serialize(refresh_token.as_bytes()).collect();
    post_form(
        node,
        None,
        &format!("grant_type=refresh_token&client_id={CLI}&refresh_token={token}"),
    )
    .await
}
