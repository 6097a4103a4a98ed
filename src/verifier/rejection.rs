//! How a refused request is answered: an RFC 6750 challenge on the Bearer
//! path, the legacy `{statusCode, message, error}` shape on the appkey path.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// RFC 6750 §3.1 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    InvalidRequest,
    InvalidToken,
    InsufficientScope,
}

impl BearerError {
    pub fn as_str(self) -> &'static str {
        match self {
            BearerError::InvalidRequest => "invalid_request",
            BearerError::InvalidToken => "invalid_token",
            BearerError::InsufficientScope => "insufficient_scope",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Bearer {
        status: StatusCode,
        /// `None` when the request carried no credentials (RFC 6750 §3.1).
        error: Option<BearerError>,
        description: String,
        /// The scope that would have sufficed, for `insufficient_scope`.
        scope: Option<String>,
    },
    Legacy {
        status: StatusCode,
        message: String,
    },
    /// The credential could not be checked (the database is unreachable).
    Unavailable,
    /// The credential's rate limit is spent.
    TooManyRequests(crate::node::rate_limit::Decision),
}

impl Rejection {
    pub fn missing_bearer() -> Self {
        Rejection::Bearer {
            status: StatusCode::UNAUTHORIZED,
            error: None,
            description: "an access token is required".into(),
            scope: None,
        }
    }

    pub fn invalid_token(description: impl Into<String>) -> Self {
        Rejection::Bearer {
            status: StatusCode::UNAUTHORIZED,
            error: Some(BearerError::InvalidToken),
            description: description.into(),
            scope: None,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Rejection::Bearer {
            status: StatusCode::BAD_REQUEST,
            error: Some(BearerError::InvalidRequest),
            description: description.into(),
            scope: None,
        }
    }

    pub fn insufficient_scope(scope: &str) -> Self {
        Rejection::Bearer {
            status: StatusCode::FORBIDDEN,
            error: Some(BearerError::InsufficientScope),
            description: format!("the {scope} scope is required"),
            scope: Some(scope.to_owned()),
        }
    }

    /// `insufficient_scope` with a description that says what to do.
    pub fn lacks_scope(scope: &str, description: String) -> Self {
        Rejection::Bearer {
            status: StatusCode::FORBIDDEN,
            error: Some(BearerError::InsufficientScope),
            description,
            scope: Some(scope.to_owned()),
        }
    }

    pub fn legacy(status: StatusCode, message: impl Into<String>) -> Self {
        Rejection::Legacy {
            status,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::Bearer { status, .. } | Rejection::Legacy { status, .. } => *status,
            Rejection::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Rejection::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

/// A quoted-string for an auth-param (RFC 9110 §5.6.4); characters a
/// header cannot carry are dropped.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars().filter(|c| (' '..='~').contains(c)) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::Bearer {
                status,
                error,
                description,
                scope,
            } => {
                let mut challenge = String::from("Bearer realm=\"keyflow\"");
                let body = match error {
                    Some(code) => {
                        challenge.push_str(&format!(
                            ", error=\"{}\", error_description={}",
                            code.as_str(),
                            quoted(&description)
                        ));
                        if let Some(scope) = &scope {
                            challenge.push_str(&format!(", scope={}", quoted(scope)));
                        }
                        json!({"error": code.as_str(), "error_description": description})
                    }
                    None => json!({"error": "unauthorized", "error_description": description}),
                };
                let mut res = (status, axum::Json(body)).into_response();
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                res
            }
            Rejection::TooManyRequests(d) => {
                let body = json!({
                    "error": "rate_limited",
                    "error_description": format!("the {} rate limit is spent; retry after {} s", d.category.as_str(), d.reset.max(1)),
                });
                let mut res = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
                d.write_headers(res.headers_mut());
                res
            }
            Rejection::Unavailable => {
                let body = json!({"error": "temporarily_unavailable", "error_description": "retry shortly"});
                let mut res = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                res
            }
            Rejection::Legacy { status, message } => {
                let body = json!({
                    "statusCode": status.as_u16(),
                    "message": message,
                    "error": status.canonical_reason().unwrap_or("Error"),
                });
                (status, axum::Json(body)).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge_carries_error_and_scope() {
        let res = Rejection::insufficient_scope("api:write").into_response();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            res.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"keyflow\", error=\"insufficient_scope\", error_description=\"the api:write scope is required\", scope=\"api:write\""
        );
        let res = Rejection::missing_bearer().into_response();
        assert_eq!(
            res.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"keyflow\""
        );
    }

    #[test]
    fn quoting_escapes_and_drops_unsafe_characters() {
        assert_eq!(quoted("a\"b\\c\nd"), "\"a\\\"b\\\\cd\"");
    }
}
