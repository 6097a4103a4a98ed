//! RFC 6749 §5.1: the successful answer of the token endpoint.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::secret::Redacted;
use crate::http::response::{Caching, json};
use crate::service::tokens::IssuedTokens;

#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    /// RFC 8693 §2.2.1, for token exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// OIDC Core §3.1.3.3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The client's rate-limit state, sent as headers.
    #[serde(skip)]
    pub rate_limit: Option<crate::node::rate_limit::Decision>,
}

impl From<IssuedTokens> for TokenResponse {
    fn from(t: IssuedTokens) -> Self {
        Self {
            access_token: t.access_token,
            token_type: "Bearer",
            expires_in: t.expires_in,
            scope: t.scope,
            issued_token_type: t.issued_token_type,
            refresh_token: t.refresh_token.map(|r| r.expose().to_owned()),
            id_token: t.id_token,
            rate_limit: t.rate_limit,
        }
    }
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &Redacted)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("issued_token_type", &self.issued_token_type)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| Redacted),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| Redacted))
            .finish_non_exhaustive()
    }
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).expect("token response serializes");
        let mut res = json(StatusCode::OK, "application/json", Caching::NoStore, body);
        if let Some(d) = &self.rate_limit {
            d.write_headers(res.headers_mut());
        }
        res
    }
}
