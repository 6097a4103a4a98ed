//! `keyflow login`, `logout` and `whoami`: the CLI signs a person in as
//! keyflow's own public client, with the device authorization grant
//! (RFC 8628) or, with `--web`, the authorization code grant with PKCE on
//! a loopback redirect (RFC 8252 §7.3, RFC 7636), and keeps the session in
//! `~/.keyflow/credentials.toml`.

use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::credentials::{self, Credentials, Entry, Lock};
use super::http;
use crate::domain::client::CLI_CLIENT_ID;

/// What the CLI asks for: who the person is, a refresh token, and the
/// management API (RFC 6749 §3.3). A member's session gets what their role
/// grants (see docs/cli.md).
pub const CLI_SCOPE: &str = "openid email offline_access workspace:admin keys:write";
/// RFC 8628 §3.4: the grant type of a device code.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// How long `login --web` waits for the browser to come back.
const WEB_TIMEOUT: Duration = Duration::from_secs(300);

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The endpoints the server publishes (RFC 8414 §2, OIDC Discovery §3).
#[derive(Debug, Deserialize)]
pub struct Endpoints {
    pub issuer: String,
    pub token_endpoint: String,
    pub authorization_endpoint: String,
    pub device_authorization_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    #[serde(default = "an_hour")]
    pub expires_in: i64,
    pub refresh_token: Option<String>,
}

fn an_hour() -> i64 {
    3600
}

impl Endpoints {
    pub async fn discover(http: &reqwest::Client, base: &str) -> anyhow::Result<Endpoints> {
        let url = format!("{base}/.well-known/openid-configuration");
        let res = http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("calling {base}"))?;
        if !res.status().is_success() {
            bail!("{url} answered {}: is {base} a keyflow?", res.status());
        }
        res.json()
            .await
            .with_context(|| format!("{url} is not a discovery document"))
    }

    /// A token request of the CLI's public client: the answer, or the
    /// server's `error` and description (RFC 6749 §5.2).
    async fn token(
        &self,
        http: &reqwest::Client,
        form: &[(&str, &str)],
    ) -> anyhow::Result<Result<TokenAnswer, (String, String)>> {
        let mut form = form.to_vec();
        form.push(("client_id", CLI_CLIENT_ID));
        let answer =
            http::send_with_backoff(|| http.post(&self.token_endpoint).form(&form)).await?;
        if answer.status.is_success() {
            return Ok(Ok(serde_json::from_value(answer.body)
                .context("the token response is not RFC 6749 §5.1")?));
        }
        let error = answer.body["error"].as_str().unwrap_or("").to_owned();
        if error.is_empty() {
            bail!("the token endpoint answered {}", answer.status);
        }
        let why = answer.body["error_description"]
            .as_str()
            .unwrap_or(&error)
            .to_owned();
        Ok(Err((error, why)))
    }

    /// Spends a refresh token: the new tokens, or why the session ended.
    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        refresh_token: &str,
    ) -> anyhow::Result<Result<TokenAnswer, String>> {
        let answer = self
            .token(
                http,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token),
                ],
            )
            .await?;
        match answer {
            Ok(t) => Ok(Ok(t)),
            Err((e, why)) if e == "invalid_grant" => Ok(Err(why)),
            Err((e, why)) => bail!("{e}: {why}"),
        }
    }
}

/// `keyflow login`.
pub struct LoginOptions {
    pub web: bool,
    pub no_browser: bool,
    pub json: bool,
}

pub async fn login(url: &str, options: LoginOptions) -> anyhow::Result<()> {
    let base = super::normalize_url(url)?;
    let home = credentials::home().context("$HOME is not set: keyflow keeps sessions there")?;
    let http = http::client()?;
    let endpoints = Endpoints::discover(&http, &base).await?;
    let tokens = if options.web {
        web_flow(&http, &endpoints, options.no_browser).await?
    } else {
        device_flow(&http, &endpoints, options.no_browser).await?
    };
    let entry = describe(&http, &base, &endpoints, tokens).await?;
    {
        let _lock = Lock::take(&home)?;
        let mut all = Credentials::load(&home)?;
        all.servers.insert(base.clone(), entry.clone());
        all.save(&home)?;
    }
    let email = entry.email.as_deref().unwrap_or("(no email)");
    if options.json {
        super::super::print_json(&json!({
            "url": base,
            "email": entry.email,
            "userId": entry.user_id,
            "workspaceId": entry.workspace_id,
            "credentials": credentials::path(&home),
        }));
    } else {
        println!("Signed in to {base} as {email}.");
        if let Some(ws) = &entry.workspace_id {
            println!("Commands that name no workspace act on {ws}.");
        }
    }
    Ok(())
}

/// Who signed in (userinfo, OIDC Core §5.3) and their default workspace
/// (`/v1/whoami`), with the tokens.
async fn describe(
    http: &reqwest::Client,
    base: &str,
    endpoints: &Endpoints,
    tokens: TokenAnswer,
) -> anyhow::Result<Entry> {
    let bearer_get = |url: String| {
        let token = tokens.access_token.clone();
        async move {
            let answer = http::send_with_backoff(|| http.get(&url).bearer_auth(&token)).await?;
            anyhow::Ok(answer.status.is_success().then_some(answer.body))
        }
    };
    let info = match &endpoints.userinfo_endpoint {
        Some(u) => bearer_get(u.clone()).await?.unwrap_or(Value::Null),
        None => Value::Null,
    };
    let me = bearer_get(format!("{base}/v1/whoami"))
        .await?
        .unwrap_or(Value::Null);
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Ok(Entry {
        email: text(&info["email"]),
        user_id: text(&me["userId"]).or_else(|| text(&info["sub"])),
        workspace_id: text(&me["workspaceId"]),
        access_token_expires_at: now() + tokens.expires_in,
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
    })
}

#[derive(Deserialize)]
struct DeviceStart {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    expires_in: i64,
    #[serde(default = "five")]
    interval: u64,
}

fn five() -> u64 {
    5
}

/// RFC 8628 §3.1–3.5: ask for codes, show them, poll until decided.
async fn device_flow(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    no_browser: bool,
) -> anyhow::Result<TokenAnswer> {
    let Some(start_url) = &endpoints.device_authorization_endpoint else {
        bail!(
            "{} has no device authorization endpoint; use `keyflow login --web`",
            endpoints.issuer
        );
    };
    let form = [("client_id", CLI_CLIENT_ID), ("scope", CLI_SCOPE)];
    let answer = http::send_with_backoff(|| http.post(start_url).form(&form)).await?;
    if !answer.status.is_success() {
        bail!(
            "{start_url} answered {}: {}",
            answer.status,
            answer.body["error_description"].as_str().unwrap_or("")
        );
    }
    let start: DeviceStart =
        serde_json::from_value(answer.body).context("the device authorization answer")?;
    // §3.3: the person types the code at the URL, or follows the full link.
    eprintln!(
        "To sign in, open {} and enter the code {}",
        start.verification_uri, start.user_code
    );
    eprintln!("Only enter the code if you ran this command yourself.");
    if !no_browser {
        open_browser(
            start
                .verification_uri_complete
                .as_deref()
                .unwrap_or(&start.verification_uri),
        );
    }
    eprintln!("Waiting for you to allow it…");
    let deadline = now() + start.expires_in;
    let mut interval = start.interval.max(1);
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        let polled = endpoints
            .token(
                http,
                &[
                    ("grant_type", DEVICE_GRANT),
                    ("device_code", &start.device_code),
                ],
            )
            .await?;
        match polled {
            Ok(tokens) => return Ok(tokens),
            Err((e, _)) if e == "authorization_pending" => {}
            // §3.5: slow down by five seconds for this code from now on.
            Err((e, _)) if e == "slow_down" => interval += 5,
            Err((e, _)) if e == "access_denied" => bail!("the sign-in was denied"),
            Err((e, _)) if e == "expired_token" => {
                bail!("the code expired before it was allowed; run `keyflow login` again")
            }
            Err((e, why)) => bail!("{e}: {why}"),
        }
        if now() > deadline {
            bail!("the code expired before it was allowed; run `keyflow login` again");
        }
    }
}

/// RFC 8252: the authorization code grant with PKCE, the browser coming
/// back to a one-time listener on a loopback address and port the system
/// chose (§7.3; §8.3 prefers the IP literal to `localhost`).
async fn web_flow(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    no_browser: bool,
) -> anyhow::Result<TokenAnswer> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("opening a loopback port for the browser to return to")?;
    let redirect_uri = format!("http://{}/callback", listener.local_addr()?);
    let verifier = URL_SAFE_NO_PAD.encode(crate::domain::secret::random_bytes::<32>());
    let state = URL_SAFE_NO_PAD.encode(crate::domain::secret::random_bytes::<32>());
    let mut url = url::Url::parse(&endpoints.authorization_endpoint)
        .context("the discovery document's authorization_endpoint")?;
    url.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", CLI_CLIENT_ID),
        ("redirect_uri", &redirect_uri),
        ("scope", CLI_SCOPE),
        ("state", &state),
        (
            "code_challenge",
            &crate::domain::pkce::s256_challenge(&verifier),
        ),
        ("code_challenge_method", "S256"),
    ]);
    eprintln!("To sign in, open this page in your browser:\n\n  {url}\n");
    if !no_browser {
        open_browser(url.as_str());
    }
    let back = tokio::time::timeout(WEB_TIMEOUT, super::loopback::receive(listener))
        .await
        .context("no answer from the browser within 5 minutes")??;
    // RFC 6749 §10.12: the answer must carry the state this request sent.
    if back.get("state") != Some(&state) {
        bail!("the browser came back with another sign-in's state; run `keyflow login` again");
    }
    // RFC 9207 §2.4: an answer from another issuer is refused.
    if let Some(iss) = back.get("iss")
        && iss != &endpoints.issuer
    {
        bail!("the answer came from {iss}, not {}", endpoints.issuer);
    }
    if let Some(e) = back.get("error") {
        let why = back.get("error_description").map_or("", String::as_str);
        bail!("the sign-in was not allowed: {e} {why}");
    }
    let code = back
        .get("code")
        .context("the browser came back without a code")?;
    let answer = endpoints
        .token(
            http,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &redirect_uri),
                ("code_verifier", &verifier),
            ],
        )
        .await?;
    answer.map_err(|(e, why)| anyhow::anyhow!("{e}: {why}"))
}

/// Opens `url` in the person's browser, when there is one to open; the
/// URL is printed either way.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        let graphical = ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
        if !graphical {
            return;
        }
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// `keyflow logout`: revokes the refresh token (RFC 7009 §2.1), which
/// ends the session's grant on the server, then forgets it.
pub async fn logout(url: &str, as_json: bool) -> anyhow::Result<()> {
    let base = super::normalize_url(url)?;
    let home = credentials::home().context("$HOME is not set")?;
    let _lock = Lock::take(&home)?;
    let mut all = Credentials::load(&home)?;
    let Some(entry) = all.servers.remove(&base) else {
        bail!("you are not signed in to {base}");
    };
    let http = http::client()?;
    let endpoints = Endpoints::discover(&http, &base).await?;
    let revoke_url = endpoints
        .revocation_endpoint
        .clone()
        .context("the server publishes no revocation endpoint")?;
    let (token, hint) = match &entry.refresh_token {
        Some(rt) => (rt.as_str(), "refresh_token"),
        None => (entry.access_token.as_str(), "access_token"),
    };
    let form = [
        ("token", token),
        ("token_type_hint", hint),
        ("client_id", CLI_CLIENT_ID),
    ];
    let answer = http::send_with_backoff(|| http.post(&revoke_url).form(&form)).await?;
    if !answer.status.is_success() {
        bail!(
            "{revoke_url} answered {}: {}; the session is kept",
            answer.status,
            answer.body["error_description"].as_str().unwrap_or("")
        );
    }
    all.save(&home)?;
    if as_json {
        super::super::print_json(&json!({"url": base, "signedOut": true}));
    } else {
        println!("Signed out of {base}; the session is revoked.");
    }
    Ok(())
}

/// `keyflow whoami`: who the credential the lookup finds acts as, and
/// where.
pub async fn whoami(url: &str, remote: &mut super::Remote, as_json: bool) -> anyhow::Result<()> {
    let mut me = remote.get("/v1/whoami", &[]).await?;
    me["url"] = remote.base().into();
    if let super::Auth::Session(s) = &remote.auth {
        me["email"] = s.email().into();
    }
    if as_json {
        super::super::print_json(&me);
        return Ok(());
    }
    let field = |k: &str| me[k].as_str().unwrap_or("-").to_owned();
    let who = match me["credential"].as_str() {
        Some("api_key") => format!("API key {}", field("keyId")),
        _ => me["email"].as_str().map_or(field("userId"), str::to_owned),
    };
    println!("{who} on {url}");
    println!("Workspace  {}", field("workspaceId"));
    println!("Scopes     {}", super::super::table::text(&me["scopes"]));
    println!("Expires    {}", field("expiresAt"));
    Ok(())
}
