//! One check asked of keyflow's introspection endpoint, and the principal
//! its answer describes.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::http::{StatusCode, header};
use serde::Deserialize;

use super::RemoteCredentials;
use crate::clock::UnixTime;
use crate::domain::scope::ScopeSet;
use crate::node::rate_limit::Limits;
use crate::verifier::remote::EPOCH_HEADER;
use crate::verifier::{CredentialKind, Principal, RateLimitBudget};

/// What keyflow answered, with the epoch it is at least as fresh as.
pub(super) struct Answer {
    pub(super) principal: Option<Principal>,
    pub(super) epoch: Option<i64>,
}

#[derive(Deserialize)]
struct Introspected {
    active: bool,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    sub: String,
    token_type: Option<String>,
    exp: Option<UnixTime>,
    iat: Option<UnixTime>,
    workspace_id: Option<String>,
    rate_limits: Option<Limits>,
}

impl RemoteCredentials {
    pub(super) async fn introspect(&self, form: &[(&str, &str)]) -> Result<Answer, String> {
        self.remote_checks.fetch_add(1, Ordering::Relaxed);
        let url = &self.introspection_url;
        let send = || {
            self.http
                .post(url)
                .header(header::AUTHORIZATION, self.authorization.clone())
                .form(form)
                .timeout(self.check_timeout)
                .send()
        };
        // A kept-alive connection can be closed by keyflow just as a request
        // goes out on it; one more try on a fresh one costs nothing when
        // keyflow is really gone (refused at once), and a timeout is final.
        let res = match send().await {
            Err(e) if !e.is_timeout() => send().await,
            other => other,
        }
        .map_err(|e| format!("POST {url}: {e}"))?;
        match res.status() {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED => {
                return Err(format!(
                    "POST {url}: keyflow refused this resource server's credentials"
                ));
            }
            StatusCode::TOO_MANY_REQUESTS => {
                return Err(format!(
                    "POST {url}: this resource server's introspection rate limit is spent"
                ));
            }
            other => return Err(format!("POST {url}: HTTP {other}")),
        }
        let epoch = res
            .headers()
            .get(EPOCH_HEADER)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let body: Introspected = res
            .json()
            .await
            .map_err(|e| format!("POST {url}: not an introspection answer: {e}"))?;
        Ok(Answer {
            principal: body.active.then(|| principal(body)).flatten(),
            epoch,
        })
    }
}

/// The principal an active answer describes; `None` for a token type this
/// verifier does not know.
fn principal(body: Introspected) -> Option<Principal> {
    let kind = match body.token_type.as_deref()? {
        "api_key" => CredentialKind::ApiKey,
        "appkey_secretkey" => CredentialKind::AppKeyAndSecret,
        "appkey_only" => CredentialKind::AppKeyOnly,
        _ => return None,
    };
    let rate_limit = body.rate_limits.map(|limits| {
        Arc::new(RateLimitBudget {
            bucket: body.sub.clone(),
            limits,
        })
    });
    Some(Principal {
        subject: body.sub,
        client_id: body.client_id,
        workspace_id: body.workspace_id,
        user_id: None,
        scopes: body
            .scope
            .split_ascii_whitespace()
            .map(str::to_owned)
            .collect::<ScopeSet>(),
        kind,
        jti: None,
        expires_at: body.exp,
        issued_at: body.iat,
        legacy_messages: None,
        refusals: None,
        rate_limit,
    })
}
