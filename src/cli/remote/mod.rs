//! The CLI as a remote client of a keyflow: who it calls as (an API key
//! file or the session `keyflow login` stored), and one way to call `/v1`
//! that turns the server's answers into errors a person can act on.

pub(crate) mod api_keys;
pub(crate) mod audit;
pub(crate) mod clients;
pub mod credentials;
mod device;
mod endpoints;
mod http;
pub mod login;
mod loopback;
pub(crate) mod manage;
pub(crate) mod members;
mod session;
mod web;
pub(crate) mod workspaces;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub use http::{RETRY_ATTEMPTS, retry_delay};

/// How a remote command authenticates.
pub(crate) enum Auth {
    /// An API key from a key file (the first three places of the lookup).
    ApiKey { key: String, file: PathBuf },
    /// The session `keyflow login` stored for this server.
    Session(session::Session),
}

/// A keyflow reached over HTTP with one credential.
pub struct Remote {
    base: String,
    http: reqwest::Client,
    auth: Auth,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Where a remote command looks for its credential, in order: `-k FILE`,
/// `keyflow.key` at the root of the git repository around `cwd`,
/// `$HOME/.keyflow/api.key`, then the login session for the server.
pub struct Lookup<'a> {
    pub explicit: Option<&'a Path>,
    pub cwd: &'a Path,
    pub home: Option<&'a Path>,
}

/// The key file the lookup finds, if any (its first three places).
pub fn find_key_file(l: &Lookup<'_>) -> Option<PathBuf> {
    if let Some(p) = l.explicit {
        return Some(p.to_owned());
    }
    let repo = l
        .cwd
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(|root| root.join("keyflow.key"));
    let user = l.home.map(|h| h.join(".keyflow").join("api.key"));
    [repo, user].into_iter().flatten().find(|c| c.is_file())
}

/// The error when no credential is found: it names all four places.
fn nothing_found(l: &Lookup<'_>, url: &str) -> anyhow::Error {
    let repo = l.cwd.ancestors().find(|d| d.join(".git").exists()).map_or(
        "keyflow.key at the root of your git repository".into(),
        |r| r.join("keyflow.key").display().to_string(),
    );
    let home = l.home.map_or("$HOME/.keyflow".into(), |h| {
        h.join(".keyflow").display().to_string()
    });
    anyhow::anyhow!(
        "no credential for {url}: pass -k FILE with an API key, put one in {repo} or \
         {home}/api.key, or sign in with `keyflow login --url {url}` (kept in \
         {home}/credentials.toml)"
    )
}

/// Reads an API key file; warns when others may read it.
pub fn read_key_file(path: &Path) -> anyhow::Result<String> {
    let key =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    credentials::warn_if_readable_by_others(path);
    let key = key.trim().to_owned();
    if key.is_empty() {
        bail!("{} is empty", path.display());
    }
    Ok(key)
}

/// The server's base URL as the CLI stores and calls it: no trailing slash.
pub fn normalize_url(url: &str) -> anyhow::Result<String> {
    let parsed = url::Url::parse(url).with_context(|| format!("--url {url:?} is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("--url {url:?} must be an http or https URL");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

impl Remote {
    /// Connects to `url` with the first credential of the lookup.
    pub async fn connect(url: &str, lookup: &Lookup<'_>) -> anyhow::Result<Remote> {
        let base = normalize_url(url)?;
        let http = http::client()?;
        let auth = match find_key_file(lookup) {
            Some(file) => Auth::ApiKey {
                key: read_key_file(&file)?,
                file,
            },
            None => match session::Session::load(lookup.home, &base)? {
                Some(s) => Auth::Session(s),
                None => return Err(nothing_found(lookup, &base)),
            },
        };
        Ok(Remote { base, http, auth })
    }

    /// The command line's own lookup: `-k`, the current directory, `$HOME`.
    pub async fn from_cli(url: &str, key_file: Option<&Path>) -> anyhow::Result<Remote> {
        let cwd = std::env::current_dir()?;
        let home = credentials::home();
        Remote::connect(
            url,
            &Lookup {
                explicit: key_file,
                cwd: &cwd,
                home: home.as_deref(),
            },
        )
        .await
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The workspace the credential acts for by default: an API key's own,
    /// or the one chosen when signing in.
    pub async fn default_workspace(&mut self) -> anyhow::Result<String> {
        if let Auth::Session(s) = &self.auth
            && let Some(ws) = s.workspace_id()
        {
            return Ok(ws.to_owned());
        }
        let me = self.get("/v1/whoami", &[]).await?;
        me["workspaceId"]
            .as_str()
            .map(str::to_owned)
            .context("the credential acts for no workspace; pass --workspace")
    }

    /// `GET path?query`, the JSON answer.
    pub async fn get(&mut self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        self.call(Method::GET, path, query, None).await
    }

    /// `method path` with an optional JSON body; a 204 answers `{}`.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        self.call(method, path, &[], body).await
    }

    async fn call(
        &mut self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut bearer = match &mut self.auth {
            Auth::ApiKey { key, .. } => key.clone(),
            Auth::Session(s) => s.access_token(&self.http).await?,
        };
        let url = format!("{}{path}", self.base);
        let send = |bearer: &str| {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(bearer)
                .query(query);
            if let Some(b) = &body {
                req = req.json(b);
            }
            req
        };
        let mut answer = http::send_with_backoff(|| send(&bearer))
            .await
            .with_context(|| format!("calling {}", self.base))?;
        // A session's token refused before its time: refresh once and retry.
        if answer.status == StatusCode::UNAUTHORIZED
            && let Auth::Session(s) = &mut self.auth
        {
            bearer = s.after_refusal(&self.http, &bearer).await?;
            answer = http::send_with_backoff(|| send(&bearer))
                .await
                .with_context(|| format!("calling {}", self.base))?;
        }
        match answer.status {
            s if s.is_success() => Ok(answer.body),
            s => Err(http::explain(
                &answer,
                s,
                &self.base,
                self.credential_name(),
            )),
        }
    }

    /// What the credential is, for error messages.
    fn credential_name(&self) -> String {
        match &self.auth {
            Auth::ApiKey { file, .. } => format!("the API key in {}", file.display()),
            Auth::Session(_) => "your login session".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests;
