//! The form body of OAuth endpoints, read strictly: the right content type,
//! a bounded size, valid encoding, and no parameter twice.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};

use super::error::OAuthError;

/// Larger bodies are refused before they are read in full.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// Parameters that RFC 8707 §2 lets a client repeat.
const REPEATABLE: &[&str] = &["resource"];

#[derive(Default)]
pub struct OAuthForm {
    single: HashMap<String, String>,
    repeated: HashMap<String, Vec<String>>,
}

/// Names only: values include passwords, secrets, codes and tokens.
impl std::fmt::Debug for OAuthForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self
            .single
            .keys()
            .chain(self.repeated.keys())
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        f.debug_struct("OAuthForm")
            .field("fields", &names)
            .finish_non_exhaustive()
    }
}

impl OAuthForm {
    /// RFC 6749 §3.1 and §3.2: parameters without a value are treated as
    /// omitted, and none may appear more than once.
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut form = OAuthForm::default();
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (k, v) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &pair[..0]),
            };
            let k = decode(k)?;
            let v = decode(v)?;
            if REPEATABLE.contains(&k.as_str()) {
                if !v.is_empty() {
                    form.repeated.entry(k).or_default().push(v);
                }
                continue;
            }
            if form.single.contains_key(&k) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {k:?} is repeated (RFC 6749 §3.2)"
                )));
            }
            // Empty values are kept until the end so that a duplicate of
            // an empty parameter is still caught.
            form.single.insert(k, v);
        }
        form.single.retain(|_, v| !v.is_empty());
        Ok(form)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.single.get(name).map(String::as_str)
    }

    pub fn take(&mut self, name: &str) -> Option<String> {
        self.single.remove(name)
    }

    pub fn take_all(&mut self, name: &str) -> Vec<String> {
        self.repeated.remove(name).unwrap_or_default()
    }

    pub fn require(&mut self, name: &'static str) -> Result<String, OAuthError> {
        self.take(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("parameter {name:?} is required")))
    }
}

/// application/x-www-form-urlencoded decoding that refuses malformed
/// escapes and bad UTF-8 instead of guessing.
pub(super) fn decode(raw: &[u8]) -> Result<String, OAuthError> {
    let not_utf8 = || OAuthError::invalid_request("the form body is not valid UTF-8");
    // Most parameters (a grant type, a client id, a secret) have no escape:
    // checked a vector at a time, and copied whole.
    let escaped = raw
        .iter()
        .fold(false, |escaped, &b| escaped | (b == b'%') | (b == b'+'));
    if !escaped {
        return std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| not_utf8());
    }
    // One pass into one buffer: every token request's parameters pass here.
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let digit = |at: usize| raw.get(at).and_then(|&d| (d as char).to_digit(16));
                let (Some(high), Some(low)) = (digit(i + 1), digit(i + 2)) else {
                    return Err(OAuthError::invalid_request(
                        "the form body has a malformed percent-escape",
                    ));
                };
                // Two hex digits are at most 0xFF.
                out.push((high * 16 + low) as u8);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| not_utf8())
}

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        Self::read(&parts.headers, body).await
    }
}

impl OAuthForm {
    /// Reads the form of a request whose headers the caller keeps, so that
    /// they need not be copied for it.
    pub async fn read(headers: &HeaderMap, body: Body) -> Result<Self, OAuthError> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request(
                "the request body must be application/x-www-form-urlencoded (RFC 6749 §3.2)",
            ));
        }
        let too_large = || {
            OAuthError::invalid_request(format!("the request body exceeds {MAX_FORM_BYTES} bytes"))
                .with_status(StatusCode::PAYLOAD_TOO_LARGE)
        };
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_FORM_BYTES) {
            return Err(too_large());
        }
        let body: Bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| too_large())?;
        Self::parse(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_escapes() {
        let f = OAuthForm::parse(b"scope=api%3Aread+api%3Awrite&grant_type=client_credentials")
            .unwrap();
        assert_eq!(f.get("scope"), Some("api:read api:write"));
        assert_eq!(f.get("grant_type"), Some("client_credentials"));
    }

    #[test]
    fn empty_values_count_as_omitted() {
        let f = OAuthForm::parse(b"scope=&grant_type=client_credentials&flag").unwrap();
        assert_eq!(f.get("scope"), None);
        assert_eq!(f.get("flag"), None);
    }

    #[test]
    fn repeated_parameters_are_refused_except_resource() {
        let e = OAuthForm::parse(b"scope=a&scope=b").unwrap_err();
        assert!(e.description.contains("repeated"));
        assert!(OAuthForm::parse(b"scope=&scope=b").is_err());
        let mut f = OAuthForm::parse(b"resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb").unwrap();
        assert_eq!(f.take_all("resource"), vec!["https://a", "https://b"]);
    }

    #[test]
    fn malformed_encoding_is_refused() {
        assert!(OAuthForm::parse(b"scope=%zz").is_err());
        assert!(OAuthForm::parse(b"scope=%4").is_err());
        assert!(OAuthForm::parse(b"scope=%ff%fe").is_err());
        assert!(OAuthForm::parse(b"scope=a%").is_err());
        assert!(OAuthForm::parse(b"scope=%%41").is_err());
        // Bad UTF-8 with no escape at all, in a value and in a name.
        assert!(OAuthForm::parse(b"scope=caf\xe9").is_err());
        assert!(OAuthForm::parse(b"\xc3=x").is_err());
    }

    #[test]
    fn escapes_decode_once_and_exactly() {
        let f = OAuthForm::parse(b"a=%2B+%2b&b=%252B&c=%C3%A9t%C3%A9&d=caf\xc3\xa9&e=%00").unwrap();
        assert_eq!(f.get("a"), Some("+ +"));
        assert_eq!(f.get("b"), Some("%2B"));
        assert_eq!(f.get("c"), Some("été"));
        assert_eq!(f.get("d"), Some("café"));
        assert_eq!(f.get("e"), Some("\0"));
    }
}
