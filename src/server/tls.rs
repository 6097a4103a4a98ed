//! TLS termination with rustls, from PEM files.

use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

/// An acceptor for `--tls-cert` / `--tls-key`, offering HTTP/2 and HTTP/1.1
/// (RFC 7301 ALPN).
pub fn acceptor(files: &TlsFiles) -> anyhow::Result<TlsAcceptor> {
    let context = || {
        format!(
            "loading --tls-cert {} / --tls-key {}",
            files.cert.display(),
            files.key.display()
        )
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(context)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).with_context(context)?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS protocol versions")?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .with_context(context)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
