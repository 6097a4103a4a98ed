//! One HTTP exchange with keyflow: the client, the 429 backoff, and the
//! error a person reads when the answer is not a success.

use std::time::Duration;

use anyhow::Context;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A rate-limited request is tried at most this many times in all.
pub const RETRY_ATTEMPTS: u32 = 5;
/// No single wait is longer, whatever `Retry-After` says.
const MAX_WAIT: Duration = Duration::from_secs(60);

pub fn client() -> anyhow::Result<reqwest::Client> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("keyflow-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")
}

/// What came back: the status, the JSON body (`{}` when there is none)
/// and the headers that explain a refusal.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after: Option<String>,
    pub challenge: Option<String>,
}

/// How long to wait before retry number `attempt` (1 for the first
/// retry) after a 429: the server's `Retry-After` in seconds when it gave
/// one (RFC 9110 §10.2.3), else 1, 2, 4, 8 s; never more than a minute.
pub fn retry_delay(attempt: u32, retry_after: Option<&str>) -> Duration {
    let backoff = Duration::from_secs(1 << attempt.saturating_sub(1).min(5));
    retry_after
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(backoff, Duration::from_secs)
        .min(MAX_WAIT)
}

/// Sends the request `build` makes; a 429 is retried after
/// [`retry_delay`], up to [`RETRY_ATTEMPTS`] tries in all.
pub async fn send_with_backoff(
    build: impl Fn() -> reqwest::RequestBuilder,
) -> reqwest::Result<Answer> {
    let mut attempt = 1;
    loop {
        let answer = read(build().send().await?).await;
        if answer.status != StatusCode::TOO_MANY_REQUESTS || attempt >= RETRY_ATTEMPTS {
            return Ok(answer);
        }
        let wait = retry_delay(attempt, answer.retry_after.as_deref());
        eprintln!(
            "keyflow: rate limited; retrying in {} s ({attempt} of {})",
            wait.as_secs(),
            RETRY_ATTEMPTS - 1
        );
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

pub async fn read(res: reqwest::Response) -> Answer {
    let header = |n: &str| {
        res.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header("retry-after");
    let challenge = header("www-authenticate");
    let status = res.status();
    let body = res.json().await.unwrap_or_else(|_| json!({}));
    Answer {
        status,
        body,
        retry_after,
        challenge,
    }
}

/// A call the server answered with an error status, phrased for what the
/// person can do; the status stays readable for a caller that retries.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    pub status: StatusCode,
    message: String,
}

/// Whether trying `error` again later may succeed: the server could not
/// be reached or answered (a transport error), failed (5xx), or is still
/// rate limiting. A refusal of the credential or the request is final.
pub fn is_transient(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<reqwest::Error>().is_some()
            || cause.downcast_ref::<Refused>().is_some_and(|r| {
                r.status.is_server_error() || r.status == StatusCode::TOO_MANY_REQUESTS
            })
    })
}

/// The error for a refused call, phrased for what the person can do.
pub fn explain(
    answer: &Answer,
    status: StatusCode,
    base: &str,
    credential: String,
) -> anyhow::Error {
    anyhow::Error::new(Refused {
        status,
        message: refusal(answer, status, base, credential),
    })
}

fn refusal(answer: &Answer, status: StatusCode, base: &str, credential: String) -> String {
    let why = answer.body["error_description"]
        .as_str()
        .or(answer.body["message"].as_str())
        .unwrap_or("")
        .to_owned();
    match status {
        StatusCode::UNAUTHORIZED => format!(
            "{base} answered {status}: it does not accept {credential} ({why}); for a login \
             session, run `keyflow login --url {base}` again"
        ),
        StatusCode::FORBIDDEN => {
            // RFC 6750 §3: insufficient_scope names the scope it needs.
            let scope = answer
                .challenge
                .as_deref()
                .and_then(|c| challenge_param(c, "scope"));
            match scope {
                Some(s) => {
                    format!("{base} answered {status}: {credential} lacks the scope {s} ({why})")
                }
                None => format!("{base} answered {status}: {why}"),
            }
        }
        StatusCode::TOO_MANY_REQUESTS => format!(
            "{base} is still rate limiting {credential} after {RETRY_ATTEMPTS} tries; wait {} s \
             and try again",
            answer.retry_after.as_deref().unwrap_or("a few")
        ),
        _ => format!("{base} answered {status}: {why}"),
    }
}

/// A parameter of a `WWW-Authenticate` challenge (RFC 6750 §3).
fn challenge_param(challenge: &str, name: &str) -> Option<String> {
    let at = challenge.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = &challenge[at..];
    Some(rest[..rest.find('"')?].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_for_retry_after_else_back_off() {
        assert_eq!(retry_delay(1, Some("3")), Duration::from_secs(3));
        assert_eq!(retry_delay(1, None), Duration::from_secs(1));
        assert_eq!(retry_delay(3, None), Duration::from_secs(4));
        assert_eq!(retry_delay(4, Some("soon")), Duration::from_secs(8));
        assert_eq!(retry_delay(2, Some("3600")), MAX_WAIT);
        assert_eq!(retry_delay(40, None), Duration::from_secs(32));
    }

    fn refused(status: StatusCode) -> anyhow::Error {
        let answer = Answer {
            status,
            body: json!({"message": "why"}),
            retry_after: None,
            challenge: None,
        };
        explain(&answer, status, "https://kf", "your login session".into())
    }

    #[test]
    fn server_failures_and_rate_limits_are_worth_retrying_and_refusals_are_not() {
        for status in [502, 503, 500, 429] {
            let e = refused(StatusCode::from_u16(status).unwrap());
            assert!(is_transient(&e), "{status}");
            assert!(is_transient(&e.context("listing")), "{status} with context");
        }
        for status in [400, 401, 403, 404] {
            let e = refused(StatusCode::from_u16(status).unwrap());
            assert!(!is_transient(&e), "{status}");
        }
        assert!(!is_transient(&anyhow::anyhow!("no workspace")));
        // The text a person reads is unchanged by the type.
        assert_eq!(
            refused(StatusCode::NOT_FOUND).to_string(),
            "https://kf answered 404 Not Found: why"
        );
    }

    #[test]
    fn the_missing_scope_is_read_from_the_challenge() {
        let c = r#"Bearer error="insufficient_scope", scope="keys:write""#;
        assert_eq!(challenge_param(c, "scope").as_deref(), Some("keys:write"));
        assert_eq!(challenge_param(c, "realm"), None);
    }
}
