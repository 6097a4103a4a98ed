//! `GET /v1/openapi.json`: served to anyone, OpenAPI 3.1, and describing
//! every operation the router serves (`keyflow::http::api::paths()`, the
//! table `routes()` is built from) and nothing else.

mod common;

use std::collections::BTreeSet;

use common::people::call;
use common::*;
use keyflow::http::api;
use keyflow::testing::{TestDb, TestServer};
use reqwest::Method;
use serde_json::Value;

/// The (path template, method) pairs the document describes.
fn described(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(|m| (path.clone(), m.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A concrete path for a template: each `{param}` becomes `x`.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn the_document_is_public_and_describes_every_route() {
    for db in TestDb::all().await {
        let node = TestServer::start(&db.url, MASTER, &[]).await;
        let res = http()
            .get(node.url(api::OPENAPI_PATH))
            .send()
            .await
            .unwrap();
        let a = answer(res).await;
        assert_eq!(a.status, 200, "no credential needed: {}", a.json);
        assert_eq!(a.headers["content-type"], "application/json");
        assert_eq!(a.headers["cache-control"], "public, max-age=3600");
        let doc = a.json;
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1."),
            "{}",
            doc["openapi"]
        );
        assert_eq!(doc["info"]["title"], "keyflow management API");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        let bearer = &doc["components"]["securitySchemes"]["bearer"];
        assert_eq!(bearer["type"], "http");
        assert_eq!(bearer["scheme"], "bearer");

        let served: BTreeSet<(String, String)> = api::paths()
            .into_iter()
            .map(|(p, m)| (p.to_owned(), m.as_str().to_lowercase()))
            .collect();
        let documented = described(&doc);
        let missing: Vec<_> = served.difference(&documented).collect();
        assert!(missing.is_empty(), "served but not described: {missing:?}");
        let extra: Vec<_> = documented.difference(&served).collect();
        assert!(extra.is_empty(), "described but not served: {extra:?}");
        // Every route template of the router is among them.
        let templates: BTreeSet<&str> = api::routes().iter().map(|r| r.path).collect();
        let listed: BTreeSet<&str> = served.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(templates, listed);

        for (path, method) in &served {
            let op = &doc["paths"][path][method];
            assert!(op["responses"].is_object(), "{method} {path}: responses");
            assert!(
                op["security"][0]["bearer"].is_array(),
                "{method} {path}: bearer security"
            );
            // Each documented operation is really served: without a token it
            // is refused for want of one, not unrouted (404) or 405.
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let a = call(&node, m, &concrete(path), None, None).await;
            assert_eq!(a.status, 401, "{method} {path}: {}", a.json);
        }
        // The document has a metrics label of its own.
        let text = metrics(&node).await;
        assert!(
            text.contains(&format!("endpoint=\"{}\"", api::OPENAPI_PATH)),
            "{text}"
        );
    }
}
