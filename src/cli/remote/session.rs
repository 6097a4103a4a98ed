//! A stored login session: its access token, refreshed shortly before it
//! expires with the refresh token (RFC 6749 §6), which the server
//! rotates; the new one is saved before the old is forgotten.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::credentials::{Credentials, Entry, Lock};
use super::endpoints::{Endpoints, TokenAnswer, now};

/// A token this close to its expiry is refreshed before use.
const REFRESH_MARGIN: i64 = 60;

pub struct Session {
    home: PathBuf,
    url: String,
    entry: Entry,
}

impl Session {
    /// The session stored for `url`, if any.
    pub fn load(home: Option<&Path>, url: &str) -> anyhow::Result<Option<Session>> {
        let Some(home) = home else { return Ok(None) };
        let mut all = Credentials::load(home)?;
        Ok(all.servers.remove(url).map(|entry| Session {
            home: home.to_owned(),
            url: url.to_owned(),
            entry,
        }))
    }

    pub fn workspace_id(&self) -> Option<&str> {
        self.entry.workspace_id.as_deref()
    }

    /// A current access token, refreshed first when it is about to expire.
    pub async fn access_token(&mut self, http: &reqwest::Client) -> anyhow::Result<String> {
        if usable(&self.entry, None) {
            return Ok(self.entry.access_token.clone());
        }
        self.refresh(http, None).await
    }

    /// Another access token after the server refused `rejected` although
    /// it had not expired here (revoked, or the server's clock is ahead).
    pub async fn after_refusal(
        &mut self,
        http: &reqwest::Client,
        rejected: &str,
    ) -> anyhow::Result<String> {
        self.refresh(http, Some(rejected)).await
    }

    async fn refresh(
        &mut self,
        http: &reqwest::Client,
        rejected: Option<&str>,
    ) -> anyhow::Result<String> {
        let _lock = Lock::take(&self.home)?;
        // Another command may have refreshed it meanwhile.
        let mut all = Credentials::load(&self.home)?;
        let Some(entry) = all.servers.get(&self.url).cloned() else {
            bail!(self.ended("you signed out meanwhile"));
        };
        if usable(&entry, rejected) {
            self.entry = entry;
            return Ok(self.entry.access_token.clone());
        }
        let Some(refresh_token) = entry.refresh_token.clone() else {
            bail!(self.ended("the access token expired and there is no refresh token"));
        };
        let endpoints = Endpoints::discover(http, &self.url).await?;
        let answer = endpoints
            .refresh(http, &refresh_token)
            .await
            .with_context(|| format!("refreshing the session on {}", self.url))?;
        let fresh = match answer {
            Ok(t) => t,
            Err(why) => {
                // invalid_grant: revoked, expired, or the person is gone.
                all.servers.remove(&self.url);
                all.save(&self.home)?;
                bail!(self.ended(&why));
            }
        };
        let updated = fresh.update(entry);
        all.servers.insert(self.url.clone(), updated.clone());
        all.save(&self.home)?;
        self.entry = updated;
        Ok(self.entry.access_token.clone())
    }

    fn ended(&self, why: &str) -> String {
        format!(
            "your session on {url} has ended ({why}); run `keyflow login --url {url}` again",
            url = self.url
        )
    }
}

/// Whether the stored access token can be sent: not about to expire, and
/// not the one the server just refused.
fn usable(entry: &Entry, rejected: Option<&str>) -> bool {
    entry.access_token_expires_at - REFRESH_MARGIN > now()
        && rejected.is_none_or(|r| r != entry.access_token)
}

impl TokenAnswer {
    /// The entry after a refresh: the new access token, and the rotated
    /// refresh token when the server sent one (RFC 6749 §6).
    fn update(self, mut entry: Entry) -> Entry {
        entry.access_token = self.access_token;
        entry.access_token_expires_at = now() + self.expires_in;
        if let Some(rt) = self.refresh_token {
            entry.refresh_token = Some(rt);
        }
        entry
    }
}

impl Session {
    pub fn email(&self) -> Option<&str> {
        self.entry.email.as_deref()
    }
}
