//! A small resource API protected by keyflow's verifier.
//!
//! It accepts keyflow access tokens (`Authorization: Bearer …`, verified
//! offline against the issuer's JWKS) and, when it can reach keyflow's
//! database, the legacy `appkey`/`secretkey` headers.
//!
//! ```sh
//! cargo run --release &                                   # keyflow on :8080
//! KEYFLOW_DATABASE_URL=sqlite://keyflow.db cargo run --example resource_api
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8090/reports
//! curl -H "appkey: app_…" -H "secretkey: sec_…" http://127.0.0.1:8090/reports
//! ```
//!
//! Environment: `KEYFLOW_ISSUER` (default `http://127.0.0.1:8080`),
//! `RESOURCE_AUDIENCE` (default `{issuer}/v1`), `RESOURCE_LISTEN` (default
//! `127.0.0.1:8090`); for the legacy path `KEYFLOW_DATABASE_URL` with
//! `KEYFLOW_MASTER_KEY` or `KEYFLOW_KEYS_DIR` (default `keys`).

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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let issuer = std::env::var("KEYFLOW_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let audience = std::env::var("RESOURCE_AUDIENCE").unwrap_or_else(|_| format!("{issuer}/v1"));
    let listen = std::env::var("RESOURCE_LISTEN").unwrap_or_else(|_| "127.0.0.1:8090".into());
    let mut builder = Verifier::remote(&issuer, [audience]).map_err(anyhow::Error::msg)?;
    if let Ok(db) = std::env::var("KEYFLOW_DATABASE_URL") {
        builder = builder.legacy(legacy(&db).await?, Default::default());
    }
    let verifier = builder.build();
    verifier.spawn_refresh();
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    tracing::info!("resource API on http://{listen}, trusting tokens of {issuer}");
    axum::serve(listener, router(verifier)).await?;
    Ok(())
}
