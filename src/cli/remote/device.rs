//! `keyflow login` by default: the device authorization grant (RFC 8628).

use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use super::endpoints::{Endpoints, TokenAnswer, now};
use super::http;
use super::login::{CLI_SCOPE, open_browser};
use crate::domain::client::CLI_CLIENT_ID;

/// RFC 8628 §3.4: the grant type of a device code.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

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
pub(super) async fn device_flow(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    no_browser: bool,
) -> anyhow::Result<TokenAnswer> {
    let start = begin(http, endpoints).await?;
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
    poll(http, endpoints, &start).await
}

/// §3.1–3.2: the device authorization request.
async fn begin(http: &reqwest::Client, endpoints: &Endpoints) -> anyhow::Result<DeviceStart> {
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
    serde_json::from_value(answer.body).context("the device authorization answer")
}

/// §3.4–3.5: polls at the interval asked, five seconds slower after each
/// `slow_down`, until the person decides or the code expires.
async fn poll(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    start: &DeviceStart,
) -> anyhow::Result<TokenAnswer> {
    let expired = "the code expired before it was allowed; run `keyflow login` again";
    let deadline = now() + start.expires_in;
    let mut interval = start.interval.max(1);
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        let form = [
            ("grant_type", DEVICE_GRANT),
            ("device_code", start.device_code.as_str()),
        ];
        match endpoints.token(http, &form).await? {
            Ok(tokens) => return Ok(tokens),
            Err((e, _)) if e == "authorization_pending" => {}
            Err((e, _)) if e == "slow_down" => interval += 5,
            Err((e, _)) if e == "access_denied" => bail!("the sign-in was denied"),
            Err((e, _)) if e == "expired_token" => bail!(expired),
            Err((e, why)) => bail!("{e}: {why}"),
        }
        if now() > deadline {
            bail!(expired);
        }
    }
}
