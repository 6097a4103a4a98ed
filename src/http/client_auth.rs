//! Client authentication methods of RFC 6749 §2.3.1: `client_secret_basic`
//! and `client_secret_post`. Exactly one may be used per request.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::OAuthError;
use super::form::{OAuthForm, decode};
use crate::app::App;
use crate::domain::secret::PlainSecret;
use crate::domain::usage::Outcome;
use crate::http::untrusted::Untrusted;
use crate::service::clients::{AuthError, AuthenticatedClient};
use crate::service::tokens::PublicClientError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A public client (RFC 6749 §2.1) names itself with `client_id` and
    /// proves nothing; PKCE binds its code instead.
    None,
}

#[derive(Debug)]
pub struct ClientCredentials {
    pub method: AuthMethod,
    pub client_id: String,
    pub secret: PlainSecret,
}

impl ClientCredentials {
    /// Takes the credentials out of the request; `client_id` and
    /// `client_secret` are removed from `form`.
    pub fn extract(headers: &HeaderMap, form: &mut OAuthForm) -> Result<Self, OAuthError> {
        let body_id = form.take("client_id");
        let body_secret = form.take("client_secret");
        let Some(authorization) = headers.get(header::AUTHORIZATION) else {
            return match (body_id, body_secret) {
                (Some(client_id), Some(secret)) => Ok(Self {
                    method: AuthMethod::ClientSecretPost,
                    client_id,
                    secret: PlainSecret::new(secret),
                }),
                (None, Some(_)) => Err(OAuthError::invalid_request(
                    "client_secret was sent without client_id",
                )),
                (Some(client_id), None) => Ok(Self {
                    method: AuthMethod::None,
                    client_id,
                    secret: PlainSecret::new(String::new()),
                }),
                _ => Err(OAuthError::invalid_client(
                    "client authentication is required: use HTTP Basic or client_id and client_secret in the body",
                )),
            };
        };
        // RFC 6749 §2.3: a client MUST NOT use more than one method.
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "the client authenticated with both HTTP Basic and client_secret; use one method",
            ));
        }
        let (client_id, secret) = parse_basic(authorization.as_bytes())?;
        if body_id.is_some_and(|id| id != client_id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the one in the Authorization header",
            ));
        }
        Ok(Self {
            method: AuthMethod::ClientSecretBasic,
            client_id,
            secret: PlainSecret::new(secret),
        })
    }
}

impl ClientCredentials {
    /// Checks the credentials. An unknown client and a wrong secret get the
    /// same answer, so client ids cannot be probed.
    pub async fn authenticate(&self, app: &App) -> Result<AuthenticatedClient, OAuthError> {
        if self.method == AuthMethod::None {
            return self.public_client(app).await;
        }
        match app
            .clients
            .authenticate(&self.client_id, self.secret.expose())
            .await
        {
            Ok(client) => Ok(client),
            Err(AuthError::Storage(e)) => Err(OAuthError::unavailable(&e)),
            Err(reason) => {
                if matches!(reason, AuthError::WrongSecret) {
                    // A known client with a wrong secret, for its usage figures.
                    let now = app.clock.now();
                    app.usage.refused(&self.client_id, Outcome::Invalid, now);
                }
                tracing::info!(client_id = %Untrusted(&self.client_id), method = ?self.method, %reason, "client authentication failed");
                Err(OAuthError::invalid_client("client authentication failed"))
            }
        }
    }
}

impl ClientCredentials {
    /// Only clients registered as public may use `none`; a confidential
    /// client that leaves out its secret is refused like a wrong secret.
    async fn public_client(&self, app: &App) -> Result<AuthenticatedClient, OAuthError> {
        match app.tokens().public_client(&self.client_id).await {
            Ok(client) => Ok(client),
            Err(PublicClientError::NotPublic) => {
                tracing::info!(client_id = %Untrusted(&self.client_id), "client sent no secret but is not public");
                Err(OAuthError::invalid_client(
                    "client authentication is required: use HTTP Basic or client_id and client_secret in the body",
                ))
            }
            Err(PublicClientError::Unknown) => {
                Err(OAuthError::invalid_client("client authentication failed"))
            }
            Err(PublicClientError::Store(f)) => Err(f.into()),
        }
    }
}

/// The authenticated caller, the `token` parameter and the rest of the
/// form: what revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1)
/// both start with.
pub async fn client_and_token(
    app: &App,
    headers: &HeaderMap,
    form: Result<OAuthForm, OAuthError>,
) -> Result<(AuthenticatedClient, String, OAuthForm), OAuthError> {
    let mut form = form?;
    let credentials = ClientCredentials::extract(headers, &mut form)?;
    let token = form.require("token")?;
    Ok((credentials.authenticate(app).await?, token, form))
}

/// RFC 7617 credentials whose halves are form-urlencoded (RFC 6749 §2.3.1).
fn parse_basic(value: &[u8]) -> Result<(String, String), OAuthError> {
    let malformed = |what: &str| {
        OAuthError::invalid_request(format!("malformed Basic authorization header: {what}"))
    };
    let value = std::str::from_utf8(value).map_err(|_| malformed("not ASCII"))?;
    let (scheme, encoded) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "unsupported authentication scheme; use HTTP Basic (client_secret_basic)",
        ));
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed("credentials are not base64"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed("credentials are not UTF-8"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| malformed("credentials lack the ':' separator"))?;
    let id = decode(id.as_bytes()).map_err(|_| malformed("client_id is not form-urlencoded"))?;
    let secret =
        decode(secret.as_bytes()).map_err(|_| malformed("client_secret is not form-urlencoded"))?;
    if id.is_empty() {
        return Err(malformed("client_id is empty"));
    }
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::error::ErrorCode;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, auth.parse().unwrap());
        h
    }

    fn basic(raw: &str) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut form = OAuthForm::default();
        let c = ClientCredentials::extract(&headers(&basic("app_x:a%2Bb%3Ac")), &mut form).unwrap();
        assert_eq!(c.method, AuthMethod::ClientSecretBasic);
        assert_eq!(c.client_id, "app_x");
        assert_eq!(c.secret.expose(), "a+b:c");
    }

    #[test]
    fn post_credentials_come_from_the_body() {
        let mut form = OAuthForm::parse(b"client_id=app_x&client_secret=s").unwrap();
        let c = ClientCredentials::extract(&HeaderMap::new(), &mut form).unwrap();
        assert_eq!(c.method, AuthMethod::ClientSecretPost);
        assert_eq!(form.get("client_secret"), None);
    }

    #[test]
    fn both_methods_are_refused() {
        let mut form = OAuthForm::parse(b"client_id=app_x&client_secret=s").unwrap();
        let e = ClientCredentials::extract(&headers(&basic("app_x:s")), &mut form).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn a_bare_client_id_is_the_none_method() {
        let mut form = OAuthForm::parse(b"client_id=cli_x").unwrap();
        let c = ClientCredentials::extract(&HeaderMap::new(), &mut form).unwrap();
        assert_eq!(c.method, AuthMethod::None);
        assert_eq!(c.client_id, "cli_x");
    }

    #[test]
    fn missing_authentication_is_invalid_client() {
        let e =
            ClientCredentials::extract(&HeaderMap::new(), &mut OAuthForm::default()).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidClient);
    }

    #[test]
    fn malformed_basic_headers_are_invalid_request() {
        for h in [
            "Basic !!!",
            &basic("no-colon"),
            &basic(":secret"),
            "Basic",
            &basic("a%zz:b"),
        ] {
            let e = ClientCredentials::extract(&headers(h), &mut OAuthForm::default()).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{h}");
        }
        let e = ClientCredentials::extract(&headers("Bearer abc"), &mut OAuthForm::default())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidClient);
    }
}
