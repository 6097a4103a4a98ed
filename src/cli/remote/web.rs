//! `keyflow login --web`: the authorization code grant with PKCE (RFC
//! 7636) in this machine's browser, returning to a loopback port.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::endpoints::{Endpoints, TokenAnswer};
use super::login::{CLI_SCOPE, open_browser};
use crate::domain::client::CLI_CLIENT_ID;

/// How long `login --web` waits for the browser to come back.
const WEB_TIMEOUT: Duration = Duration::from_secs(300);

/// RFC 8252: the authorization code grant with PKCE, the browser coming
/// back to a one-time listener on a loopback address and port the system
/// chose (§7.3; §8.3 prefers the IP literal to `localhost`).
pub(super) async fn web_flow(
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
    let url = authorization_url(endpoints, &redirect_uri, &state, &verifier)?;
    eprintln!("To sign in, open this page in your browser:\n\n  {url}\n");
    if !no_browser {
        open_browser(url.as_str());
    }
    let back = tokio::time::timeout(WEB_TIMEOUT, super::loopback::receive(listener, &state))
        .await
        .context("no answer from the browser within 5 minutes")??;
    let code = code_of(&back, &state, &endpoints.issuer)?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &redirect_uri),
        ("code_verifier", &verifier),
    ];
    let answer = endpoints.token(http, &form).await?;
    answer.map_err(|(e, why)| anyhow::anyhow!("{e}: {why}"))
}

/// RFC 6749 §4.1.1 with RFC 7636 §4.3: S256 only.
fn authorization_url(
    endpoints: &Endpoints,
    redirect_uri: &str,
    state: &str,
    verifier: &str,
) -> anyhow::Result<url::Url> {
    let mut url = url::Url::parse(&endpoints.authorization_endpoint)
        .context("the discovery document's authorization_endpoint")?;
    url.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", CLI_CLIENT_ID),
        ("redirect_uri", redirect_uri),
        ("scope", CLI_SCOPE),
        ("state", state),
        (
            "code_challenge",
            &crate::domain::pkce::s256_challenge(verifier),
        ),
        ("code_challenge_method", "S256"),
    ]);
    Ok(url)
}

/// The code of the browser's answer, after checking it answers this
/// request, from this issuer, with a code.
fn code_of<'a>(
    back: &'a HashMap<String, String>,
    state: &str,
    issuer: &str,
) -> anyhow::Result<&'a str> {
    // RFC 6749 §10.12: the answer must carry the state this request sent.
    if back.get("state").map(String::as_str) != Some(state) {
        bail!("the browser came back with another sign-in's state; run `keyflow login` again");
    }
    // RFC 9207 §2.4: an answer from another issuer is refused.
    if let Some(iss) = back.get("iss")
        && iss != issuer
    {
        bail!("the answer came from {iss}, not {issuer}");
    }
    if let Some(e) = back.get("error") {
        let why = back.get("error_description").map_or("", String::as_str);
        bail!("the sign-in was not allowed: {e} {why}");
    }
    back.get("code")
        .map(String::as_str)
        .context("the browser came back without a code")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_must_carry_this_state_this_issuer_and_a_code() {
        let answer = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let iss = "https://auth.example.com";
        let good = answer(&[("code", "c1"), ("state", "s1"), ("iss", iss)]);
        assert_eq!(code_of(&good, "s1", iss).unwrap(), "c1");
        assert!(code_of(&good, "s2", iss).is_err());
        assert!(code_of(&good, "s1", "https://other.example").is_err());
        let denied = answer(&[("error", "access_denied"), ("state", "s1")]);
        let e = code_of(&denied, "s1", iss).unwrap_err().to_string();
        assert!(e.contains("access_denied"), "{e}");
        assert!(code_of(&answer(&[("state", "s1")]), "s1", iss).is_err());
    }
}
