//! [`LogFields`] must write exactly what tracing-subscriber's
//! `DefaultFields` writes: the same events and spans go through a
//! subscriber with each, with and without colour, and the text compares.

use axum::body::Body;
use axum::http::Request;

use super::LogFields;
use crate::testing::LogCapture;

#[derive(Debug, thiserror::Error)]
#[error("outer failure")]
struct Outer(#[source] Inner);

#[derive(Debug, thiserror::Error)]
#[error("inner \"cause\"")]
struct Inner;

/// Every kind of field keyflow logs, and the ones `DefaultFields` treats
/// apart.
fn script() {
    let request = Request::post("/oauth/token?x=1")
        .header("x-request-id", "id\t-\"1\"")
        .body(Body::empty())
        .unwrap();
    let span = crate::http::middleware::request_span(&request);
    let _entered = span.enter();
    tracing::info!("plain message");
    tracing::info!(
        client_id = "app_1",
        count = 3,
        ok = true,
        ratio = 0.5,
        "issued"
    );
    tracing::warn!(reason = %"display \"text\"", detail = ?Some("debug"), "refused");
    tracing::info!(message = "message as a field", r#type = "raw name");
    tracing::info!(log.target = "from_log", log.line = 7, "bridged from log");
    let error = Outer(Inner);
    tracing::error!(
        error = &error as &(dyn std::error::Error + 'static),
        "failed"
    );
    tracing::error!(error = &Inner as &(dyn std::error::Error + 'static));
    tracing::info!(text = "line\nbreak\ttab \u{7}bell", "escapes");
    // Longer than the stack buffer the fields are gathered in, alone and
    // after other fields.
    let long = "long-".repeat(60);
    tracing::info!(long = %long, "long");
    tracing::info!(first = 1, long = %long, last = true, "long in the middle");
    tracing::info!(a = %"a".repeat(200), b = %"b".repeat(100), "filling the buffer");
    let inner = tracing::info_span!("inner", first = 1, later = tracing::field::Empty);
    let _inner = inner.enter();
    inner.record("later", "recorded");
    tracing::info!(only = 1);
    let empty = tracing::info_span!("empty", added = tracing::field::Empty);
    let _empty = empty.enter();
    empty.record("added", 2);
    tracing::info!("in a span that had no fields");
}

fn run(ansi: bool, ours: bool) -> String {
    let capture = LogCapture::default();
    let builder = tracing_subscriber::fmt()
        .with_ansi(ansi)
        .without_time()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.writer());
    if ours {
        tracing::subscriber::with_default(builder.fmt_fields(LogFields).finish(), script);
    } else {
        tracing::subscriber::with_default(builder.finish(), script);
    }
    capture.text()
}

#[test]
fn fields_are_written_as_tracing_subscriber_writes_them() {
    for ansi in [false, true] {
        let reference = run(ansi, false);
        assert_eq!(run(ansi, true), reference, "ansi: {ansi}");
        // The script did log what it meant to.
        assert_eq!(reference.lines().count(), 13, "{reference}");
        assert!(reference.contains("bridged from log"));
    }
    let plain = run(false, true);
    assert!(
        plain.contains(r#"request{request_id=id\t-"1" method=POST path=/oauth/token}"#),
        "{plain}"
    );
    assert!(
        plain.contains(r#"client_id="app_1" count=3 ok=true ratio=0.5"#),
        "{plain}"
    );
    assert!(plain.contains("error.sources="), "{plain}");
    assert!(
        plain.contains("inner{first=1 later=\"recorded\"}"),
        "{plain}"
    );
    assert!(plain.contains("empty{added=2}"), "{plain}");
}
