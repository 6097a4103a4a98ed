//! The server's endpoints as its discovery document names them, and the
//! token requests of the CLI's public client (RFC 6749 §4, §6; `none`
//! client authentication with `client_id`, §2.3).

use anyhow::{Context, bail};
use serde::Deserialize;

use super::http;
use crate::domain::client::CLI_CLIENT_ID;

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
    pub(super) async fn token(
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
