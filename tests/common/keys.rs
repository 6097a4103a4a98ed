//! Calls on a workspace's API keys through the management API.

use keyflow::service::workspaces::CreatedWorkspace;
use keyflow::testing::TestServer;
use serde_json::Value;

use super::{Answer, answer, http};

pub const KEYS_SCOPES: &str = "keys%3Awrite+api%3Aread+api%3Awrite+events%3Awrite";

pub fn keys_path(ws: &CreatedWorkspace) -> String {
    format!("/v1/workspace/{}/api-keys", ws.workspace.id)
}

pub async fn send(
    node: &TestServer,
    method: reqwest::Method,
    path: &str,
    auth: &str,
    body: Option<Value>,
) -> Answer {
    let mut req = http().request(method, node.url(path)).bearer_auth(auth);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    if res.status() == 204 {
        return Answer {
            status: 204,
            headers: res.headers().clone(),
            json: Value::Null,
        };
    }
    answer(res).await
}

pub async fn create(node: &TestServer, ws: &CreatedWorkspace, auth: &str, body: Value) -> Answer {
    send(
        node,
        reqwest::Method::POST,
        &keys_path(ws),
        auth,
        Some(body),
    )
    .await
}
