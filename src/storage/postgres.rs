//! PostgreSQL: the store for several nodes.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};

use super::write::{Turn, WriteTx};
use super::{Backend, Result, auth_sql::impl_auth_store, sql::impl_store};

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self { pool })
    }

    fn migrator() -> sqlx::migrate::Migrator {
        sqlx::migrate!("migrations/postgres")
    }

    async fn begin_write(&self) -> Result<WriteTx<Postgres>> {
        Ok(WriteTx::new(self.pool.begin().await?, None))
    }

    /// Row locks suffice: writers do not queue.
    async fn write_turn(&self) -> Turn {
        None
    }
}

impl_store!(PostgresStore, Postgres, Backend::Postgres);
impl_auth_store!(PostgresStore, Postgres);
