//! The one-time listener `keyflow login --web` opens on a loopback port
//! (RFC 8252 §7.3): the browser comes back to `/callback` with the code or
//! the error; anything else is 404. Only an answer carrying the state this
//! sign-in sent (RFC 6749 §10.12) ends the wait: another page on this
//! machine that calls the port gets a 400 and cannot end or take over the
//! sign-in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use tokio::sync::oneshot;

type Sender = oneshot::Sender<HashMap<String, String>>;

#[derive(Clone)]
struct Reply {
    tx: Arc<Mutex<Option<Sender>>>,
    /// The `state` of the request this listener waits for.
    state: Arc<str>,
}

/// Serves `listener` until the browser has come back with this sign-in's
/// `state`: the parameters of that `/callback`.
pub async fn receive(
    listener: tokio::net::TcpListener,
    state: &str,
) -> anyhow::Result<HashMap<String, String>> {
    let (tx, rx) = oneshot::channel();
    let reply = Reply {
        tx: Arc::new(Mutex::new(Some(tx))),
        state: state.into(),
    };
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let app = axum::Router::new()
        .route("/callback", get(callback))
        .with_state(reply);
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await
    });
    let params = rx.await;
    let _ = stop_tx.send(());
    let _ = server.await;
    params.map_err(|_| anyhow::anyhow!("the loopback listener stopped"))
}

async fn callback(
    State(reply): State<Reply>,
    Query(params): Query<HashMap<String, String>>,
) -> (StatusCode, Html<&'static str>) {
    if params.get("state").map(String::as_str) != Some(&*reply.state) {
        return (
            StatusCode::BAD_REQUEST,
            Html(
                "<!doctype html><title>keyflow</title><p>This is not the sign-in the \
                 terminal is waiting for.</p>",
            ),
        );
    }
    let done = params.contains_key("code") && !params.contains_key("error");
    if let Some(tx) = reply.tx.lock().expect("not poisoned").take() {
        let _ = tx.send(params);
    }
    let page = if done {
        "<!doctype html><title>keyflow</title><p>You are signed in. You can close this \
         tab and return to the terminal.</p>"
    } else {
        "<!doctype html><title>keyflow</title><p>The sign-in did not complete. The \
         terminal says why.</p>"
    };
    (StatusCode::OK, Html(page))
}
