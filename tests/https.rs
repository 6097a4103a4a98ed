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
