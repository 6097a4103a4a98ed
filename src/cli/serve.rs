//! `keyflow serve`.

use std::sync::Arc;

use anyhow::Context;

use crate::app::App;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::crypto::key_check::Generate;
use crate::crypto::master_key::MasterKeySource;
use crate::storage::{OpenMode, redact_url};

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let store = super::open_store(&settings, OpenMode::Create).await?;
    let (master, source) =
        super::unlock(&settings, store.as_ref(), Generate::OnEmptyDatabase).await?;
    if let MasterKeySource::File {
        path,
        created: true,
    } = &source
    {
        tracing::info!(path = %path.display(), "generated a new master key; back it up, every node needs the same one");
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding --listen {}", settings.listen))?;
    let local = listener.local_addr()?;
    let database = redact_url(&settings.database_url);
    let issuer = settings.issuer.clone();
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let app = App::new(settings, store, master, Arc::new(SystemClock)).await?;
    tracing::info!(
        "keyflow listening on {scheme}://{local} (issuer {issuer}), database {database}; \
         the console is at {issuer}/console"
    );
    // The one place a link's token is logged: the operator starting the
    // first node needs it, and it works once, for an hour.
    if let Some(token) = app.signup().first_run_link().await? {
        tracing::info!(
            "first run: open {issuer}/setup?token={} to set up keyflow and create the platform admin \
             (the link works once, for one hour; restart keyflow for a new one)",
            token.expose()
        );
    }
    crate::server::run(app, listener, crate::server::shutdown_signal()).await?;
    tracing::info!("keyflow stopped");
    Ok(())
}
