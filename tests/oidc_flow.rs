//! The authorization code flow end to end, with the `openidconnect` crate
//! as the relying party and a cookie-keeping HTTP client as the browser
//! that posts the login and consent forms. Runs on SQLite and PostgreSQL.

mod common;

use std::sync::Arc;

use common::browser::{Browser, PASSWORD, client, client_signing_with, user};
use common::{MASTER, workspace};
use keyflow::clock::{Clock, MockClock, SystemClock};
use keyflow::crypto::signing::Algorithm;
use keyflow::domain::user::Role;
use keyflow::testing::{TestDb, TestServer};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    RedirectUrl, RefreshToken, Scope, TokenResponse,
};

const REDIRECT: &str = "https://make.example/oauth/callback";

fn rp_http() -> reqwest::Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("RP client")
}

/// The client as discovery configures it: endpoints and keys from
/// keyflow's metadata, nothing set by hand but the redirect URI.
type RelyingParty = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

async fn relying_party(
    node: &TestServer,
    http: &reqwest::Client,
    client_id: &str,
    secret: Option<String>,
) -> RelyingParty {
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(node.issuer.clone()).unwrap(), http)
            .await
            .expect("discovery");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_owned()),
        secret.map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
}

#[tokio::test]
async fn openidconnect_relying_party_signs_in_refreshes_and_detects_reuse() {
    for db in TestDb::all().await {
        // The clock starts at the real time (the RP checks exp and iat
        // against its own) and is moved forward past the reuse grace.
        let clock = Arc::new(MockClock::new(SystemClock.now()));
        let node = TestServer::start_with_clock(&db.url, MASTER, &[], clock.clone()).await;
        let ws = workspace(&node, "Acme").await;
        let user_id = user(&node, "ann@example.com", &[(&ws.workspace.id, Role::Owner)]).await;
        let (client_id, secret) = client(
            &node,
            REDIRECT,
            false,
            &["openid", "email", "profile", "offline_access", "api:read"],
        )
        .await;
        let http = rp_http();

        // Discovery, as any OIDC relying party starts.
        let rp = relying_party(&node, &http, &client_id, secret).await;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, state, nonce) = rp
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("offline_access".into()))
            .add_scope(Scope::new("api:read".into()))
            .set_pkce_challenge(challenge)
            .url();

        // The browser: login form, then consent, then back to the client.
        let browser = Browser::new();
        let login = browser.get(auth_url.as_str()).await;
        assert_eq!(login.status, 200, "{}", login.html);
        assert!(login.html.contains("name=\"username\""));
        assert!(login.html.contains("name=\"password\""));
        assert!(login.html.contains("Make"), "the page names the client");
        let consent = browser
            .sign_in(&node, &login, "ann@example.com", PASSWORD)
            .await;
        assert_eq!(consent.status, 200, "{}", consent.html);
        assert!(consent.html.contains("value=\"allow\""));
        assert!(consent.html.contains("value=\"deny\""));
        assert!(
            consent.html.contains("Read data through the workspace API"),
            "scopes are described"
        );
        let back = browser.decide(&node, &consent, "allow", None).await;
        assert_eq!(back.status, 303);
        assert!(back.location.as_deref().unwrap().starts_with(REDIRECT));
        let params = back.redirect_params();
        assert_eq!(
            params["state"],
            *state.secret(),
            "state comes back unchanged"
        );
        assert_eq!(params["iss"], node.issuer, "RFC 9207 iss");

        // Code exchange and ID token verification by the RP.
        let tokens = rp
            .exchange_code(AuthorizationCode::new(params["code"].clone()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .expect("code exchange");
        let id_token = tokens.id_token().expect("an ID token for openid");
        let id_verifier = rp.id_token_verifier();
        let claims = id_token
            .claims(&id_verifier, &nonce)
            .expect("ID token verifies");
        assert_eq!(claims.subject().as_str(), user_id);
        assert_eq!(claims.email().map(|e| e.as_str()), Some("ann@example.com"));
        assert!(claims.auth_time().is_some());
        let at_hash = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&id_verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&at_hash));
        let scopes: Vec<String> = tokens
            .scopes()
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(scopes.contains(&"api:read".to_string()));

        // The access token is an RFC 9068 JWT for the user in the workspace.
        let set = common::jwks(&node).await;
        let at = common::verify(
            tokens.access_token().secret(),
            &set,
            &node.issuer,
            &format!("{}/v1", node.issuer),
        )
        .expect("access token verifies");
        assert_eq!(at.claims["sub"], user_id);
        assert_eq!(at.claims["client_id"], client_id);
        assert_eq!(at.claims["workspace_id"], ws.workspace.id);

        // UserInfo (OIDC Core §5.3).
        let info: CoreUserInfoClaims = rp
            .user_info(tokens.access_token().clone(), None)
            .unwrap()
            .request_async(&http)
            .await
            .expect("userinfo");
        assert_eq!(info.subject().as_str(), user_id);
        assert_eq!(info.email().map(|e| e.as_str()), Some("ann@example.com"));
        assert!(info.name().is_some());

        // Refresh rotates the token; the scope may narrow.
        let first_refresh = tokens.refresh_token().expect("offline_access").clone();
        let refreshed = rp
            .exchange_refresh_token(&first_refresh)
            .unwrap()
            .add_scope(Scope::new("api:read".into()))
            .request_async(&http)
            .await
            .expect("refresh");
        let second_refresh = refreshed.refresh_token().expect("rotated").clone();
        assert_ne!(first_refresh.secret(), second_refresh.secret());
        assert_eq!(refreshed.scopes().unwrap().len(), 1, "narrowed to api:read");

        // Reusing the rotated token after the grace period revokes the
        // whole family, the newest refresh token included.
        clock.advance(30);
        let reuse = rp
            .exchange_refresh_token(&first_refresh)
            .unwrap()
            .request_async(&http)
            .await;
        assert!(format!("{reuse:?}").contains("invalid_grant"), "{reuse:?}");
        let after = rp
            .exchange_refresh_token(&RefreshToken::new(second_refresh.secret().clone()))
            .unwrap()
            .request_async(&http)
            .await;
        assert!(format!("{after:?}").contains("invalid_grant"), "{after:?}");
        node.stop().await;
    }
}

/// OIDC Core §3.1.3.7: a client that registered ES256 or EdDSA gets ID
/// tokens signed with it, and the RP checks signature and at_hash.
#[tokio::test]
async fn id_tokens_use_the_clients_registered_algorithm() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &[]).await;
    let ws = workspace(&node, "Acme").await;
    user(
        &node,
        "ann@example.com",
        &[(&ws.workspace.id, Role::Member)],
    )
    .await;
    let http = rp_http();
    for (alg, core_alg) in [
        (Algorithm::ES256, CoreJwsSigningAlgorithm::EcdsaP256Sha256),
        (Algorithm::EdDSA, CoreJwsSigningAlgorithm::EdDsa),
    ] {
        let (client_id, secret) =
            client_signing_with(&node, REDIRECT, false, &["openid", "api:read"], alg).await;
        let rp = relying_party(&node, &http, &client_id, secret).await;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, _, nonce) = rp
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("api:read".into()))
            .set_pkce_challenge(challenge)
            .url();
        let browser = Browser::new();
        let login = browser.get(auth_url.as_str()).await;
        let consent = browser
            .sign_in(&node, &login, "ann@example.com", PASSWORD)
            .await;
        let back = browser.decide(&node, &consent, "allow", None).await;
        let tokens = rp
            .exchange_code(AuthorizationCode::new(
                back.redirect_params()["code"].clone(),
            ))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .expect("code exchange");
        let id_token = tokens.id_token().expect("ID token");
        assert_eq!(id_token.signing_alg().unwrap(), &core_alg);
        let id_verifier = rp
            .id_token_verifier()
            .set_allowed_algs(vec![core_alg.clone()]);
        let claims = id_token.claims(&id_verifier, &nonce).expect("verifies");
        let at_hash = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&id_verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&at_hash), "{alg:?}");
    }
}
