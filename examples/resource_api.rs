//! A small resource API protected by keyflow's verifier.
//!
//! It accepts keyflow access tokens (`Authorization: Bearer …`, verified
//! offline against the issuer's JWKS), API keys as Bearer tokens, and the
//! legacy `appkey`/`secretkey` headers. It needs only keyflow's URL and a
//! resource server's credentials: API keys and legacy headers are checked
//! over HTTP, and cached under the same lease as keyflow's own nodes.
//!
//! ```sh
//! cargo run --release &                                   # keyflow on :8080
//! cargo run --release -- resource-server create --name reports --json
//! KEYFLOW_ISSUER=http://127.0.0.1:8080 RESOURCE_SERVER_ID=rs_… \
//!   RESOURCE_SERVER_SECRET=sec_… cargo run --example resource_api
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8090/reports
//! curl -H "appkey: app_…" -H "secretkey: sec_…" http://127.0.0.1:8090/reports
//! ```
//!
//! Environment: `KEYFLOW_ISSUER` (default `http://127.0.0.1:8080`),
//! `RESOURCE_SERVER_ID` and `RESOURCE_SERVER_SECRET`, `RESOURCE_AUDIENCE`
//! (default `{issuer}/v1`), `RESOURCE_LISTEN` (default `127.0.0.1:8090`).
//! Without a resource server, the legacy path can still open keyflow's
//! database: `KEYFLOW_DATABASE_URL` with `KEYFLOW_MASTER_KEY` or
//! `KEYFLOW_KEYS_DIR` (default `keys`). That hands this process every
//! secret's pepper and every signing key, so prefer the resource server.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use keyflow::verifier::{CredentialKind, Principal, Rejection, Verifier, rate_limited};
use serde_json::{Value, json};

/// The routes: reading needs `api:read`, writing `api:write`. The layer
/// enforces each credential's own rate limits (API keys have them) and
/// adds the RateLimit headers.
pub fn router(verifier: Verifier) -> Router {
    Router::new()
        .route("/reports", get(list_reports).post(create_report))
        .layer(axum::middleware::from_fn_with_state(
            verifier.clone(),
            rate_limited,
        ))
        .with_state(verifier)
}

fn credential(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::AccessToken => "access_token",
        CredentialKind::AppKeyAndSecret => "appkey_secretkey",
        CredentialKind::AppKeyOnly => "appkey_only",
        CredentialKind::ApiKey => "api_key",
    }
}

async fn list_reports(principal: Principal) -> Result<Json<Value>, Rejection> {
    principal.require_scope("api:read")?;
    Ok(Json(json!({
        "workspaceId": principal.workspace_id,
        "clientId": principal.client_id,
        "credential": credential(principal.kind),
        "reports": [],
    })))
}

async fn create_report(principal: Principal) -> Result<(StatusCode, Json<Value>), Rejection> {
    principal.require_scope("api:write")?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"workspaceId": principal.workspace_id, "id": "report-1"})),
    ))
}

/// The legacy path checks credentials against keyflow's database, with the
/// same master key (it derives the pepper secrets are hashed with).
async fn legacy(
    settings_db: &str,
) -> anyhow::Result<Arc<keyflow::verifier::StoreLegacyAuthenticator>> {
    use keyflow::clock::SystemClock;
    use keyflow::crypto::master_key::MasterKey;
    use keyflow::domain::scope::ScopeCatalogue;
    use keyflow::service::clients::ClientRegistry;

    let store = keyflow::storage::connect(settings_db).await?;
    let keys_dir = std::env::var("KEYFLOW_KEYS_DIR").unwrap_or_else(|_| "keys".into());
    let env_key = std::env::var("KEYFLOW_MASTER_KEY").ok();
    let (master, _) = MasterKey::load_or_create(env_key.as_deref(), keys_dir.as_ref())?;
    let registry = Arc::new(ClientRegistry::new(
        store,
        master.secret_hasher(),
        Arc::new(SystemClock),
    ));
    Ok(Arc::new(keyflow::verifier::StoreLegacyAuthenticator::new(
        registry,
        &ScopeCatalogue::default(),
    )))
}

/// The verifier the environment describes.
pub async fn verifier_from_env() -> anyhow::Result<Verifier> {
    use keyflow::node::rate_limit::RateLimiter;
    use keyflow::verifier::RemoteCredentials;

    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let issuer = var("KEYFLOW_ISSUER").unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let audience = var("RESOURCE_AUDIENCE").unwrap_or_else(|| format!("{issuer}/v1"));
    let mut builder = Verifier::remote(&issuer, [audience]).map_err(anyhow::Error::msg)?;
    match (var("RESOURCE_SERVER_ID"), var("RESOURCE_SERVER_SECRET")) {
        (Some(id), Some(secret)) => {
            let remote =
                RemoteCredentials::new(&issuer, &id, &secret).map_err(anyhow::Error::msg)?;
            // API keys carry their own limits; this process enforces them.
            builder = builder
                .remote_credentials(Arc::new(remote), Default::default())
                .rate_limiter(Arc::new(RateLimiter::in_memory()));
        }
        (None, None) => {
            if let Some(db) = var("KEYFLOW_DATABASE_URL") {
                builder = builder.legacy(legacy(&db).await?, Default::default());
            }
        }
        _ => anyhow::bail!("set both RESOURCE_SERVER_ID and RESOURCE_SERVER_SECRET, or neither"),
    }
    Ok(builder.build())
}

/// Serves the API on `RESOURCE_LISTEN` until the process ends.
pub async fn serve_from_env() -> anyhow::Result<()> {
    let listen = std::env::var("RESOURCE_LISTEN").unwrap_or_else(|_| "127.0.0.1:8090".into());
    let verifier = verifier_from_env().await?;
    verifier.spawn_refresh();
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    tracing::info!("resource API on http://{listen}");
    axum::serve(listener, router(verifier)).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    serve_from_env().await
}
