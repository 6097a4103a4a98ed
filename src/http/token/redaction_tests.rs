//! No request or response type of the token endpoint shows a secret in
//! its `Debug` output, so a stray `{:?}` in a log cannot leak one.

use super::authorization_code::AuthorizationCode;
use super::refresh_token::RefreshToken;
use super::token_exchange::TokenExchange;
use super::*;
use crate::domain::access_token::IssuedAccessToken;
use crate::http::form::OAuthForm;

const SECRETS: [&str; 6] = [
    "code-0123456789abcdef",
    "verifier-0123456789abcdef",
    "refresh-0123456789abcdef",
    "subject-0123456789abcdef",
    "client-secret-0123456789",
    "password-0123456789",
];

fn form() -> OAuthForm {
    let body = format!(
        "code={}&code_verifier={}&refresh_token={}&subject_token={}&client_secret={}&password={}\
         &redirect_uri=https%3A%2F%2Fapp.example%2Fcb&subject_token_type=urn%3Akeyflow%3Aparams%3Aoauth%3Atoken-type%3Aapi_key",
        SECRETS[0], SECRETS[1], SECRETS[2], SECRETS[3], SECRETS[4], SECRETS[5]
    );
    OAuthForm::parse(body.as_bytes()).unwrap()
}

fn assert_redacted(shown: &str) {
    for s in SECRETS {
        assert!(!shown.contains(s), "{s} in {shown}");
    }
}

#[test]
fn request_types_redact_their_secrets() {
    assert_redacted(&format!("{:?}", form()));
    let code = AuthorizationCode.parse(&mut form()).unwrap();
    let shown = format!("{code:?}");
    assert!(shown.contains("https://app.example/cb"), "{shown}");
    assert_redacted(&shown);
    assert_redacted(&format!("{:?}", RefreshToken.parse(&mut form()).unwrap()));
    assert_redacted(&format!("{:?}", TokenExchange.parse(&mut form()).unwrap()));
}

#[test]
fn issued_tokens_are_redacted() {
    let response = TokenResponse {
        access_token: SECRETS[0].into(),
        token_type: "Bearer",
        expires_in: 60,
        scope: "openid".into(),
        issued_token_type: None,
        refresh_token: Some(SECRETS[2].into()),
        id_token: Some(SECRETS[3].into()),
        rate_limit: None,
    };
    let shown = format!("{response:?}");
    assert!(shown.contains("openid"), "{shown}");
    assert_redacted(&shown);
    let issued = IssuedAccessToken {
        token: SECRETS[0].into(),
        jti: "jti-1".into(),
        expires_in: 60,
    };
    assert_redacted(&format!("{issued:?}"));
}
