//! The one-time listener `keyflow login --web` opens on a loopback port
//! (RFC 8252 §7.3): the browser comes back to `/callback` with the code or
//! the error; anything else is 404. The page it answers says the sign-in
//! completed only for a code with the state this sign-in sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
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

/// Serves `listener` until the browser has come back once: the
/// parameters of its `/callback`. `state` is the request's, which the
/// caller checks; here it only decides what the page tells the person.
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
) -> Html<&'static str> {
    let done = params.contains_key("code")
        && !params.contains_key("error")
        && params.get("state").map(String::as_str) == Some(&*reply.state);
    if let Some(tx) = reply.tx.lock().expect("not poisoned").take() {
        let _ = tx.send(params);
    }
    Html(if done {
        "<!doctype html><title>keyflow</title><p>You are signed in. You can close this \
         tab and return to the terminal.</p>"
    } else {
        "<!doctype html><title>keyflow</title><p>The sign-in did not complete. The \
         terminal says why.</p>"
    })
}
