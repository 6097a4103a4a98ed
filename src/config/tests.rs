//! Settings as the command line and the environment give them.

use super::*;
use crate::cli::Cli;

fn settings(extra: &[&str]) -> anyhow::Result<Settings> {
    let mut argv = vec!["keyflow", "serve"];
    argv.extend_from_slice(extra);
    Cli::try_parse_from(argv).unwrap().settings()
}

#[test]
fn defaults_are_a_working_development_setup() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.issuer, "http://127.0.0.1:8080");
    assert_eq!(s.database_url, "sqlite://keyflow.db");
    assert_eq!(s.resources.default_audience(), "http://127.0.0.1:8080/v1");
    assert_eq!(s.access_token_alg, Algorithm::ES256);
    assert!(!s.requires_forwarded_https());
}

#[test]
fn issuer_follows_listen_address_when_unset() {
    let s = settings(&["--listen", "0.0.0.0:9000"]).unwrap();
    assert_eq!(s.issuer, "http://127.0.0.1:9000");
}

#[test]
fn rejects_bad_settings_naming_the_setting() {
    for (argv, needle) in [
        (vec!["--issuer", "http://example.com"], "KEYFLOW_ISSUER"),
        (
            vec!["--issuer", "https://example.com/?x=1"],
            "KEYFLOW_ISSUER",
        ),
        (vec!["--access-token-ttl", "5"], "KEYFLOW_ACCESS_TOKEN_TTL"),
        (vec!["--tls-cert", "c.pem"], "--tls-key"),
        (vec!["--resource", "not-a-uri"], "--resource"),
        (
            vec!["--workspace-api-url", "https://x/"],
            "KEYFLOW_WORKSPACE_API_URL",
        ),
    ] {
        let err = format!("{:#}", settings(&argv).unwrap_err());
        assert!(err.contains(needle), "{argv:?}: {err}");
    }
}

#[test]
fn https_issuer_without_tls_requires_forwarded_https() {
    let s = settings(&["--issuer", "https://auth.example.com/"]).unwrap();
    assert_eq!(s.issuer, "https://auth.example.com");
    assert!(s.requires_forwarded_https());
}

#[test]
fn config_file_adds_scopes_and_resources() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyflow.toml");
    std::fs::write(
        &path,
        r#"
[[scopes]]
name = "reports:read"
description = "Read reports"

[resources]
allowed = ["https://reports.example.com"]

[api_key_rate_limits]
secret = { read = 10, write = 5, token = 1 }
client = { read = 1, write = 2, token = 3 }
read_only = { read = 4, write = 5, token = 6 }
"#,
    )
    .unwrap();
    let s = settings(&["--config", path.to_str().unwrap()]).unwrap();
    assert!(s.scopes.get("reports:read").unwrap().applications);
    assert!(
        s.resources
            .audience(&["https://reports.example.com".into()])
            .is_ok()
    );
    assert_eq!(s.api_key_limits.secret.read, 10);
    assert_eq!(s.api_key_limits.read_only.token, 6);
    // A type left out keeps its default.
    std::fs::write(
        &path,
        "[api_key_rate_limits]\nsecret = { read = 10, write = 5, token = 1 }\n",
    )
    .unwrap();
    let s = settings(&["--config", path.to_str().unwrap()]).unwrap();
    assert_eq!(s.api_key_limits.secret.read, 10);
    assert_eq!(s.api_key_limits.client, ApiKeyLimits::default().client);
    assert_eq!(
        s.api_key_limits.read_only,
        ApiKeyLimits::default().read_only
    );
    // A type named is given whole.
    std::fs::write(&path, "[api_key_rate_limits]\nsecret = { read = 10 }\n").unwrap();
    assert!(settings(&["--config", path.to_str().unwrap()]).is_err());
    std::fs::write(&path, "[[scopes]]\nname = \"x\"\n").unwrap();
    assert!(settings(&["--config", path.to_str().unwrap()]).is_err());
}
