//! SQLite: the embedded default. WAL mode lets the CLI and a running server
//! share one file; writes take the lock up front (`BEGIN IMMEDIATE`) so two
//! writers wait for each other instead of failing on lock upgrade.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

use super::write::{Turn, WriteTurns, WriteTx};
use super::{Backend, Result, auth_sql::impl_auth_store, sql::impl_store};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// SQLite has one writer: this node's writers queue here.
    turns: WriteTurns,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            turns: WriteTurns::serialized(),
        })
    }

    fn migrator() -> sqlx::migrate::Migrator {
        sqlx::migrate!("migrations/sqlite")
    }

    async fn begin_write(&self) -> Result<WriteTx<Sqlite>> {
        let turn = self.turns.take().await;
        Ok(WriteTx::new(
            self.pool.begin_with("BEGIN IMMEDIATE").await?,
            turn,
        ))
    }

    /// For a single statement that writes outside a transaction.
    async fn write_turn(&self) -> Turn {
        self.turns.take().await
    }
}

impl_store!(SqliteStore, Sqlite, Backend::Sqlite);
impl_auth_store!(SqliteStore, Sqlite);
