//! Client-supplied text reaches the text log escaped and cut, so a client
//! can neither forge log lines with CR/LF nor flood the log with one huge
//! field.

mod common;

use common::binary::{free_port, serve_with, terminate};
use common::{basic, http};

#[tokio::test]
async fn client_supplied_text_cannot_forge_or_flood_log_lines() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("keyflow.db").display());
    let port = free_port();
    let server = serve_with(dir.path(), &db, port, &[], None).await;
    let base = format!("http://127.0.0.1:{port}");
    let forged = "app_x\r\n2026-12-01T00:00:00Z  INFO keyflow: forged line";
    let huge = "a".repeat(100_000);
    for client_id in [forged, huge.as_str()] {
        let res = http()
            .post(format!("{base}/oauth/token"))
            .header("authorization", basic(client_id, "wrong"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-request-id", "r".repeat(10_000))
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let (_, log) = terminate(server);
    assert!(log.contains("client authentication failed"), "{log}");
    for line in log.lines() {
        assert!(
            !line.contains("INFO keyflow: forged") || line.contains("\\r\\n"),
            "{line}"
        );
        assert!(!line.starts_with("2026-12-01T00:00:00Z"), "forged: {line}");
        assert!(line.len() < 2_000, "a {}-byte log line", line.len());
    }
    assert!(log.contains("app_x\\r\\n2026-12-01"), "{log}");
    assert!(log.contains("[cut "), "{log}");
}
