//! HTTPS: keyflow terminates TLS itself, or refuses plain HTTP when its
//! issuer is https and no trusted proxy vouches for the request.

mod common;

use std::sync::Arc;

use common::*;
use keyflow::testing::{TestDb, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

#[tokio::test]
async fn an_https_issuer_refuses_plain_http_unless_a_trusted_proxy_forwards_https() {
    let db = TestDb::sqlite();
    let node = TestServer::start(&db.url, MASTER, &["--issuer", "https://auth.example.com"]).await;
    let ws = workspace(&node, "demo").await;
    let auth = basic(&ws.application_key, ws.secret_key.expose());
    let a = post_form(&node, Some(&auth), "grant_type=client_credentials").await;
    assert_eq!(a.status, 403);
    assert_eq!(a.json["error"], "invalid_request");
    assert!(
        a.json["error_description"]
            .as_str()
            .unwrap()
            .contains("HTTPS")
    );
    // Even the header alone is not believed from an untrusted peer.
    let spoofed = http()
        .get(node.url("/.well-known/openid-configuration"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 403);
    // Load balancers may still probe health over plain HTTP.
    assert_eq!(
        http()
            .get(node.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let proxied = TestServer::start(
        &db.url,
        MASTER,
        &[
            "--issuer",
            "https://auth.example.com",
            "--trusted-proxy",
            "127.0.0.1/32",
        ],
    )
    .await;
    let send = |proto: Option<&'static str>| {
        let mut req = http()
            .post(proxied.url("/oauth/token"))
            .header("authorization", &auth)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials");
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        req.send()
    };
    assert_eq!(send(Some("https")).await.unwrap().status(), 200);
    assert_eq!(send(Some("http")).await.unwrap().status(), 403);
    assert_eq!(send(None).await.unwrap().status(), 403);
}

#[tokio::test]
async fn keyflow_serves_tls_itself_when_given_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();

    let db = TestDb::sqlite();
    let node = TestServer::start(
        &db.url,
        MASTER,
        &[
            "--issuer",
            "https://localhost",
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
    )
    .await;

    let mut roots = RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(node.addr).await.unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake");
    tls.write_all(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    tls.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(r#""issuer":"https://localhost""#),
        "{response}"
    );

    // Plain HTTP to the TLS port gets no service.
    assert!(http().get(node.url("/healthz")).send().await.is_err());
}

/// Session and CSRF cookies are `Secure` when the issuer is https, and
/// always HttpOnly and SameSite=Lax.
#[tokio::test]
async fn cookies_are_secure_under_an_https_issuer() {
    use common::browser::{PASSWORD, client, user};
    use keyflow::domain::user::Role;
    for (issuer, secure) in [("https://auth.example.com", true), ("", false)] {
        let db = TestDb::sqlite();
        let mut args = vec!["--trusted-proxy", "127.0.0.1/32"];
        if !issuer.is_empty() {
            args.extend(["--issuer", issuer]);
        }
        let node = TestServer::start(&db.url, MASTER, &args).await;
        let ws = workspace(&node, "demo").await;
        user(&node, "ann@example.com", &[(&ws.workspace.id, Role::Owner)]).await;
        let (client_id, _) = client(&node, "https://make.example/cb", false, &["openid"]).await;
        let url = common::browser::authorize_url(
            &node,
            &client_id,
            "https://make.example/cb",
            "openid",
            &"v".repeat(43),
        );
        let res = http()
            .get(url.as_str())
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let set_cookie = |res: &reqwest::Response| {
            res.headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let binding = set_cookie(&res).pop().expect("the CSRF binding cookie");
        let page = common::browser::Page {
            status: 200,
            location: None,
            retry_after: None,
            html: res.text().await.unwrap(),
        };
        let field = |name: &str| page.field(name);
        let pair = binding.split(';').next().unwrap().to_owned();
        let res = http()
            .post(node.url("/login"))
            .header("x-forwarded-proto", "https")
            .header("cookie", pair)
            .form(&[
                ("username", "ann@example.com"),
                ("password", PASSWORD),
                ("csrf", &field("csrf")),
                ("request", &field("request")),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "the consent page");
        let session = set_cookie(&res)
            .into_iter()
            .find(|c| c.starts_with("keyflow_session="))
            .expect("a session cookie");
        for cookie in [&binding, &session] {
            assert!(cookie.contains("HttpOnly"), "{cookie}");
            assert!(cookie.contains("SameSite=Lax"), "{cookie}");
            assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
        }
    }
}
