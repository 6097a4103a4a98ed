//! `keyflow login`, `logout` and `whoami`: the CLI signs a person in as
//! keyflow's own public client, with the device authorization grant
//! (RFC 8628) or, with `--web`, the authorization code grant with PKCE on
//! a loopback redirect (RFC 8252 §7.3, RFC 7636), and keeps the session in
//! `~/.keyflow/credentials.toml`.

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::credentials::{self, Credentials, Entry, Lock};
use super::endpoints::{Endpoints, TokenAnswer, now};
use super::http;
use crate::domain::client::CLI_CLIENT_ID;

/// What the CLI asks for: who the person is, a refresh token, and the
/// management API (RFC 6749 §3.3). A member's session gets what their role
/// grants (see docs/cli.md).
pub const CLI_SCOPE: &str = "openid email offline_access workspace:admin keys:write keys:read";

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
        super::web::web_flow(&http, &endpoints, options.no_browser).await?
    } else {
        super::device::device_flow(&http, &endpoints, options.no_browser).await?
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

/// Opens `url` in the person's browser, when there is one to open; the
/// URL is printed either way.
pub(super) fn open_browser(url: &str) {
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
