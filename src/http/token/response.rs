//! RFC 6749 §5.1: the successful answer of the token endpoint.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::domain::json::JsonObject;
use crate::domain::secret::Redacted;
use crate::http::response::{Caching, json};
use crate::service::tokens::IssuedTokens;

pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    /// RFC 8693 §2.2.1, for token exchange.
    pub issued_token_type: Option<&'static str>,
    pub refresh_token: Option<String>,
    /// OIDC Core §3.1.3.3.
    pub id_token: Option<String>,
    /// The client's rate-limit state, sent as headers.
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

impl TokenResponse {
    /// RFC 6749 §5.1: the parameters as one JSON object, absent ones left
    /// out, in a buffer of the right size: this is every token's answer,
    /// and the access token alone is some 500 bytes.
    fn body(&self) -> Vec<u8> {
        let strings = [
            Some(("access_token", self.access_token.as_str())),
            Some(("token_type", self.token_type)),
            Some(("scope", self.scope.as_str())),
            self.issued_token_type.map(|t| ("issued_token_type", t)),
            self.refresh_token.as_deref().map(|t| ("refresh_token", t)),
            self.id_token.as_deref().map(|t| ("id_token", t)),
        ];
        let size = strings
            .iter()
            .flatten()
            .map(|(name, value)| name.len() + value.len() + 6)
            .sum::<usize>()
            + 40;
        let mut out = JsonObject::with_capacity(size);
        for (name, value) in strings.into_iter().flatten() {
            out.string(name, value);
        }
        out.number("expires_in", self.expires_in);
        out.finish()
    }
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut res = json(StatusCode::OK, "application/json", Caching::NoStore, body);
        if let Some(d) = &self.rate_limit {
            d.write_headers(res.headers_mut());
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(scope: &str, refresh: Option<&str>) -> TokenResponse {
        TokenResponse {
            access_token: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_".into(),
            token_type: "Bearer",
            expires_in: 3600,
            scope: scope.into(),
            issued_token_type: None,
            refresh_token: refresh.map(str::to_owned),
            id_token: None,
            rate_limit: None,
        }
    }

    #[test]
    fn the_body_is_rfc6749_json_with_absent_parameters_left_out() {
        let body: serde_json::Value =
            serde_json::from_slice(&response("api:read openid", None).body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "access_token": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_",
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "api:read openid",
            })
        );
        let mut with_all = response("", Some("rt"));
        with_all.issued_token_type = Some("urn:ietf:params:oauth:token-type:access_token");
        with_all.id_token = Some("id".into());
        let body: serde_json::Value = serde_json::from_slice(&with_all.body()).unwrap();
        assert_eq!(body["refresh_token"], "rt");
        assert_eq!(body["id_token"], "id");
        assert_eq!(
            body["issued_token_type"],
            "urn:ietf:params:oauth:token-type:access_token"
        );
        assert_eq!(body["scope"], "");
    }

    #[test]
    fn text_that_needs_escaping_is_escaped() {
        let odd = "a\"b\\c\nd\u{1}é";
        let body: serde_json::Value =
            serde_json::from_slice(&response(odd, Some(odd)).body()).unwrap();
        assert_eq!(body["scope"], odd);
        assert_eq!(body["refresh_token"], odd);
    }
}
