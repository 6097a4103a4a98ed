//! Whether this node can serve: the readiness probe's use case.

use crate::app::App;
use crate::service::{During, StoreFailure};

/// The database answers.
pub async fn ready(app: &App) -> Result<(), StoreFailure> {
    app.store.ping().await.during("ping the database")
}
