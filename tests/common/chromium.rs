//! A real Chromium for the tests, driven over WebDriver by a chromedriver
//! of its own. Controls are found the way a person finds them: by their
//! label, their text or their `aria-label`, never by CSS classes.
//!
//! Without Chromium installed a browser test is skipped with a message;
//! under CI (`CI` set) that is a failure instead, as for PostgreSQL in
//! `keyflow::testing`.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::ops::Deref;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::{Element, ElementRef};
use fantoccini::key::Key;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// How long a finder waits for its control to appear, exactly once.
const FIND_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a page may take to reach an expected state.
const WAIT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long chromedriver may take to answer `/status`.
const DRIVER_TIMEOUT: Duration = Duration::from_secs(20);
/// The key under which WebDriver serializes an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver and the first browser it opened. Dereferences to that
/// [`Session`]; [`Chromium::new_session`] opens another person's browser.
pub struct Chromium {
    main: Session,
}

/// One browser: its own Chromium process, profile and cookie jar.
pub struct Session {
    client: Client,
    id: String,
    /// Shown in screenshot names, so two people's pages are told apart.
    who: String,
    /// Where this browser saves downloads.
    downloads: PathBuf,
    driver: Arc<Driver>,
}

/// The chromedriver process and what its sessions share.
struct Driver {
    port: u16,
    child: Mutex<Child>,
    chromium: PathBuf,
    shots: PathBuf,
    shot: AtomicUsize,
    /// Chromium profiles, removed once the driver (and so Chromium) is gone.
    profiles: Mutex<Vec<tempfile::TempDir>>,
    /// chromedriver's (and Chromium's) `XDG_CONFIG_HOME` and cache.
    home: Option<tempfile::TempDir>,
}

impl Chromium {
    /// Starts chromedriver and one headless Chromium for `test_name`, or
    /// `None` (after saying so on stderr) when they are not installed and
    /// `CI` is unset. Under CI their absence panics.
    pub async fn start(test_name: &str) -> Option<Self> {
        let path = std::env::var_os("PATH");
        let chromium = locate("chromium", path.as_deref());
        let chromedriver = locate("chromedriver", path.as_deref());
        let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
            missing(test_name, std::env::var_os("CI").is_some());
            return None;
        };
        let shots = target_dir().join("screenshots").join(test_name);
        let _ = std::fs::remove_dir_all(&shots);
        let driver = Arc::new(Driver::spawn(&chromedriver, chromium, shots).await);
        let main = driver.session("").await;
        Some(Self { main })
    }

    /// Another person's browser on the same chromedriver: a Chromium of its
    /// own with a fresh profile, so it shares no cookies with this one.
    /// `who` prefixes its screenshots' names.
    pub async fn new_session(&self, who: &str) -> Session {
        self.main.driver.session(who).await
    }
}

impl Deref for Chromium {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.main
    }
}

impl Session {
    /// The file `name` once this browser has downloaded it whole.
    pub async fn downloaded(&self, name: &str) -> PathBuf {
        let path = self.downloads.join(name);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !path.exists() {
            assert!(
                Instant::now() < deadline,
                "{name} was not downloaded to {}",
                self.downloads.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        path
    }

    /// The fantoccini client, for anything the helpers below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` (absolute) and lets its origin use the clipboard.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
        self.grant_clipboard().await;
    }

    pub async fn current_url(&self) -> url::Url {
        self.client.current_url().await.expect("current URL")
    }

    /// Waits until the page's path is `path`, as after a click that
    /// submits a form (the server may still be answering when the click
    /// returns); panics with a screenshot and the page's text otherwise.
    pub async fn wait_for_path(&self, path: &str) -> url::Url {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let url = self.current_url().await;
            if url.path() == path {
                return url;
            }
            if Instant::now() >= deadline {
                let shot = self.screenshot("timeout").await;
                panic!(
                    "still on {url}, not {path}; see {}; the page reads:\n{}",
                    shot.display(),
                    self.text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page's URL carries the query parameter `name`, as
    /// after submitting a GET form on the page it was already on (its text
    /// may match before the new page has loaded).
    pub async fn wait_for_query(&self, name: &str) -> url::Url {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let url = self.current_url().await;
            if url.query_pairs().any(|(k, _)| k == name) {
                return url;
            }
            if Instant::now() >= deadline {
                let shot = self.screenshot("timeout").await;
                panic!(
                    "{url} never carried ?{name}=; see {}; the page reads:\n{}",
                    shot.display(),
                    self.text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page's text contains `needle`, and returns the text.
    pub async fn wait_for_text(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let text = self.text().await;
            if text.contains(needle) {
                return text;
            }
            if Instant::now() >= deadline {
                let shot = self.screenshot("timeout").await;
                panic!(
                    "{:?} never appeared on {}; see {}; the page reads:\n{text}",
                    needle,
                    self.current_url().await,
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's visible text (`document.body.innerText`).
    pub async fn text(&self) -> String {
        let v = self.script("return document.body.innerText", vec![]).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Saves a PNG of the viewport to
    /// `<target>/screenshots/<test_name>/<NN>-[<who>-]<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let n = self.driver.shot.fetch_add(1, Ordering::Relaxed) + 1;
        let file = if self.who.is_empty() {
            format!("{n:02}-{name}.png")
        } else {
            format!("{n:02}-{}-{name}.png", self.who)
        };
        std::fs::create_dir_all(&self.driver.shots).expect("create screenshot dir");
        let path = self.driver.shots.join(file);
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }

    /// The visible `<input>`, `<select>` or `<textarea>` whose `<label>`
    /// (by `for=` or by nesting) reads exactly `label`.
    pub async fn field(&self, label: &str) -> Element {
        self.field_in(None, label).await
    }

    /// [`Session::field`] inside `scope` only (a dialog, a form, a row).
    pub async fn field_in(&self, scope: Option<&Element>, label: &str) -> Element {
        self.find_one("field labelled", FIELD_JS, scope, label)
            .await
    }

    /// Types `value` into the field labelled `label`, replacing what it
    /// held; for a `<select>`, picks the option whose text is `value`.
    pub async fn fill(&self, label: &str, value: &str) {
        let el = self.field(label).await;
        let tag = el.tag_name().await.expect("tag name");
        if tag.eq_ignore_ascii_case("select") {
            el.select_by_label(value)
                .await
                .unwrap_or_else(|e| panic!("select {value:?} in {label:?}: {e}"));
        } else {
            el.clear().await.expect("clear field");
            el.send_keys(value)
                .await
                .unwrap_or_else(|e| panic!("type into {label:?}: {e}"));
        }
    }

    /// The visible button whose text or `aria-label` is `name`: a
    /// `<button>`, an `<input type=submit|button|reset>`, an `<a>` or any
    /// element with `role="button"`.
    pub async fn button(&self, name: &str) -> Element {
        self.button_in(None, name).await
    }

    /// [`Session::button`] inside `scope` only.
    pub async fn button_in(&self, scope: Option<&Element>, name: &str) -> Element {
        self.find_one("button named", BUTTON_JS, scope, name).await
    }

    /// Clicks the button named `name` (and waits for a page it loads).
    pub async fn click_button(&self, name: &str) {
        self.button(name)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {name:?}: {e}"));
    }

    /// The visible link (`<a href>`) whose text or `aria-label` is `text`.
    pub async fn link(&self, text: &str) -> Element {
        self.find_one("link named", LINK_JS, None, text).await
    }

    /// The trimmed text of the one element carrying `data-secret`.
    pub async fn secret(&self) -> String {
        let el = self
            .find_one("element with", SECRET_JS, None, "data-secret")
            .await;
        let v = self
            .script(
                "const e = arguments[0];
                 return 'value' in e && /^(INPUT|TEXTAREA)$/.test(e.tagName) ? e.value : e.textContent;",
                vec![element_arg(&el)],
            )
            .await;
        v.as_str().expect("secret text").trim().to_owned()
    }

    /// The first element matching the CSS `selector`, waiting for it.
    pub async fn css(&self, selector: &str) -> Element {
        self.client
            .wait()
            .at_most(FIND_TIMEOUT)
            .for_element(fantoccini::Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no element matches {selector:?}: {e}"))
    }

    /// The one visible dialog (`role="dialog"` or an open `<dialog>`).
    pub async fn dialog(&self) -> Element {
        self.find_one("visible", DIALOG_JS, None, "dialog").await
    }

    /// Waits until no dialog is visible, panicking if one stays open.
    pub async fn assert_no_dialog(&self) {
        let deadline = Instant::now() + FIND_TIMEOUT;
        loop {
            let found = self.candidates(DIALOG_JS, None, "dialog").await;
            if found.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "a dialog is still open:\n{}",
                self.text().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Presses and releases Escape, as on a keyboard.
    pub async fn press_escape(&self) {
        let keys = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down {
                value: Key::Escape.into(),
            })
            .then(KeyAction::Up {
                value: Key::Escape.into(),
            });
        self.client
            .perform_actions(keys)
            .await
            .expect("press Escape");
    }

    /// Whether keyboard focus is on `el` or inside it.
    pub async fn active_element_within(&self, el: &Element) -> bool {
        let v = self
            .script(
                "return arguments[0].contains(document.activeElement)",
                vec![element_arg(el)],
            )
            .await;
        v.as_bool().expect("boolean")
    }

    /// What the clipboard holds now, read by the page with
    /// `navigator.clipboard.readText()`.
    pub async fn clipboard(&self) -> String {
        self.grant_clipboard().await;
        let v = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 navigator.clipboard.readText().then(
                   t => done({ text: t }),
                   e => done({ error: String(e) }));",
                vec![],
            )
            .await
            .expect("read clipboard");
        match (v["text"].as_str(), v["error"].as_str()) {
            (Some(t), _) => t.to_owned(),
            (_, e) => panic!(
                "navigator.clipboard.readText() failed: {}",
                e.unwrap_or("?")
            ),
        }
    }

    /// Runs `script` in the page (exempt from the page's CSP), as
    /// WebDriver's Execute Script: `return` gives the value back.
    pub async fn script(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Grants the current page's origin clipboard read and write through
    /// the W3C Permissions extension (`POST /session/{id}/permissions`),
    /// which chromedriver applies to the origin of the page on show.
    pub async fn grant_clipboard(&self) {
        for name in ["clipboard-read", "clipboard-write"] {
            self.client
                .issue_cmd(SetPermission(name))
                .await
                .unwrap_or_else(|e| panic!("grant {name}: {e}"));
        }
    }

    /// Waits for exactly one element that `js` finds for `arg`.
    async fn find_one(&self, what: &str, js: &str, scope: Option<&Element>, arg: &str) -> Element {
        let deadline = Instant::now() + FIND_TIMEOUT;
        loop {
            let mut found = self.candidates(js, scope, arg).await;
            if found.len() == 1 {
                return found.remove(0);
            }
            if Instant::now() >= deadline {
                panic!(
                    "expected one {what} {arg:?}, found {} on {}; the page reads:\n{}",
                    found.len(),
                    self.current_url().await,
                    self.text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn candidates(&self, js: &str, scope: Option<&Element>, arg: &str) -> Vec<Element> {
        let scope = scope.map_or(Value::Null, element_arg);
        let script = format!("{PRELUDE}\n{js}");
        let v = self.script(&script, vec![scope, json!(arg)]).await;
        v.as_array()
            .expect("an array of elements")
            .iter()
            .map(|e| {
                let id = e[ELEMENT_KEY].as_str().expect("an element reference");
                Element::from_element_id(self.client.clone(), ElementRef::from(id.to_owned()))
            })
            .collect()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Ends the session (and so its Chromium) before its profile goes;
        // fantoccini's own close would need the runtime, which may be gone.
        let _ = self.driver.request(
            "DELETE",
            &format!("/session/{}", self.id),
            Duration::from_secs(30),
        );
    }
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it is ready. The
    /// port is free when chosen but not held, so a lost race is retried.
    async fn spawn(chromedriver: &Path, chromium: PathBuf, shots: PathBuf) -> Self {
        // Chromium keeps crash reports under $XDG_CONFIG_HOME whatever the
        // profile: give it a home of its own rather than the user's.
        let home = tempfile::Builder::new()
            .prefix("keyflow-chromedriver-")
            .tempdir()
            .expect("chromedriver home");
        let mut tries = 0;
        loop {
            let port = free_port();
            let child = Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .env("XDG_CONFIG_HOME", home.path().join("config"))
                .env("XDG_CACHE_HOME", home.path().join("cache"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // Its own process group, so Drop can end all it started.
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", chromedriver.display()));
            let mut driver = Self {
                port,
                child: Mutex::new(child),
                chromium: chromium.clone(),
                shots: shots.clone(),
                shot: AtomicUsize::new(0),
                profiles: Mutex::new(Vec::new()),
                home: None,
            };
            let deadline = Instant::now() + DRIVER_TIMEOUT;
            loop {
                match driver.request("GET", "/status", Duration::from_secs(2)) {
                    Ok((200, body)) if body.contains("\"ready\":true") => {
                        driver.home = Some(home);
                        return driver;
                    }
                    other => {
                        let exited = driver.child.lock().unwrap().try_wait().ok().flatten();
                        match exited {
                            Some(_) if tries < 3 => break,
                            Some(status) => panic!("chromedriver exited at start: {status}"),
                            None if Instant::now() >= deadline => {
                                panic!("chromedriver on port {port} is not ready: {other:?}")
                            }
                            None => tokio::time::sleep(Duration::from_millis(50)).await,
                        }
                    }
                }
            }
            tries += 1;
        }
    }

    /// Opens a WebDriver session: a headless Chromium with a fresh profile.
    async fn session(self: &Arc<Self>, who: &str) -> Session {
        let profile = tempfile::Builder::new()
            .prefix("keyflow-chromium-")
            .tempdir()
            .expect("Chromium profile dir");
        let downloads = profile.path().join("downloads");
        std::fs::create_dir_all(&downloads).expect("downloads dir");
        let caps: Capabilities = serde_json::from_value(json!({
            "browserName": "chrome",
            "timeouts": { "implicit": 0, "pageLoad": 30_000, "script": 10_000 },
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--window-size=1280,900",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--password-store=basic",
                    "--lang=en-US",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                },
            },
        }))
        .expect("capabilities");
        self.profiles.lock().unwrap().push(profile);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}/", self.port))
            .await
            .unwrap_or_else(|e| panic!("open a Chromium session: {e}"));
        let id = client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        Session {
            client,
            id,
            who: who.to_owned(),
            downloads,
            driver: Arc::clone(self),
        }
    }

    /// A blocking HTTP/1.1 request without a body to chromedriver, waiting
    /// at most `timeout` for each read: usable from `Drop`.
    fn request(
        &self,
        method: &str,
        path: &str,
        timeout: Duration,
    ) -> std::io::Result<(u16, String)> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
        s.set_read_timeout(Some(timeout))?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\r\n",
            self.port
        )?;
        // chromedriver keeps the connection open whatever it is told, so
        // the body ends where its Content-Length says.
        let mut answer = Vec::new();
        let mut buf = [0; 4096];
        loop {
            let n = s.read(&mut buf)?;
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                });
                if length.is_some_and(|n| body.len() >= n) {
                    break;
                }
            }
        }
        let answer = String::from_utf8_lossy(&answer);
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        Ok((status, body.to_owned()))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        // Every session is closed by now; end chromedriver and anything left
        // in its process group, then reap it.
        let pgid = child.id() as libc::pid_t;
        // SAFETY: kill(2) on a process group this test started.
        unsafe {
            libc::kill(-pgid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: as above.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = child.wait();
    }
}

/// A W3C Permissions extension command: `Set Permission` for the current
/// page's origin.
#[derive(Debug)]
struct SetPermission(&'static str);

impl WebDriverCompatibleCommand for SetPermission {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/permissions",
            session_id.expect("an open session")
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (hyper::Method, Option<String>) {
        let body = json!({ "descriptor": { "name": self.0 }, "state": "granted" });
        (hyper::Method::POST, Some(body.to_string()))
    }
}

fn element_arg(el: &Element) -> Value {
    serde_json::to_value(el).expect("element reference")
}

/// `name` as an executable file: `/usr/bin/<name>` first, then on `path`.
pub fn locate(name: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    let fixed = Path::new("/usr/bin").join(name);
    std::iter::once(fixed)
        .chain(
            path.into_iter()
                .flat_map(std::env::split_paths)
                .filter(|dir| !dir.as_os_str().is_empty())
                .map(|dir| dir.join(name)),
        )
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What happens without Chromium: a skip message, or under CI a panic.
pub fn missing(test_name: &str, ci: bool) {
    assert!(
        !ci,
        "{test_name}: chromium/chromedriver not installed: CI must run the browser tests \
         (apt-get install chromium chromium-driver)"
    );
    eprintln!(
        "skipping browser test {test_name}: chromium/chromedriver not installed \
         (apt-get install chromium chromium-driver)"
    );
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else the package's `target`.
fn target_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| manifest.join("target"), |d| manifest.join(d))
}

fn free_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

/// Shared by the finders: `arguments[0]` is the scope element or null,
/// `arguments[1]` the name sought. Each returns an array of elements.
const PRELUDE: &str = r#"
const scope = arguments[0] || document;
const want = arguments[1];
const norm = s => (s || '').replace(/\s+/g, ' ').trim();
const visible = el => {
  if (!el.getClientRects().length) return false;
  const st = getComputedStyle(el);
  return st.visibility !== 'hidden' && st.display !== 'none';
};
const all = sel => Array.from(scope.querySelectorAll(sel)).filter(visible);
const text = el => {
  const c = el.cloneNode(true);
  c.querySelectorAll('input, select, textarea').forEach(n => n.remove());
  return norm(c.textContent);
};
const named = el => norm(el.getAttribute('aria-label')) === want
  || (el.tagName === 'INPUT' ? norm(el.value) : text(el)) === want;
"#;

const FIELD_JS: &str = r#"
const hits = [];
for (const label of scope.querySelectorAll('label')) {
  if (text(label) !== want) continue;
  const c = label.control;
  if (c && /^(INPUT|SELECT|TEXTAREA)$/.test(c.tagName) && visible(c) && !hits.includes(c)) hits.push(c);
}
return hits;
"#;

const BUTTON_JS: &str = r#"
return all('button, input[type=submit], input[type=button], input[type=reset], a, [role=button]')
  .filter(named);
"#;

const LINK_JS: &str = r#"
return all('a[href]').filter(named);
"#;

const SECRET_JS: &str = r#"
return Array.from(scope.querySelectorAll('[data-secret]'));
"#;

const DIALOG_JS: &str = r#"
return all('[role=dialog], dialog[open]');
"#;
