//! PostgreSQL: the store for several nodes.

use std::time::Duration;

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};

use super::write::{Turn, WriteTx};
use super::{Issuance, OpenMode, Result, StorageError, sql};
use crate::clock::UnixTime;

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(url, OpenMode::Create).await
    }

    /// Connects to the database; in [`OpenMode::Existing`] it must exist
    /// and hold keyflow's tables.
    pub async fn open(url: &str, mode: OpenMode) -> Result<Self> {
        let pool = match Self::pool(url).await {
            Ok(pool) => pool,
            Err(e) if is_missing_database(&e) => match mode {
                OpenMode::Existing => {
                    return Err(StorageError::Missing {
                        url: super::redact_url(url),
                    });
                }
                OpenMode::Create => {
                    Postgres::create_database(url).await?;
                    tracing::info!(database = %super::redact_url(url), "created the database");
                    Self::pool(url).await?
                }
            },
            Err(e) => return Err(e.into()),
        };
        if mode == OpenMode::Existing {
            let (set_up,): (bool,) =
                sqlx::query_as("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                    .fetch_one(&pool)
                    .await?;
            if !set_up {
                return Err(StorageError::NotSetUp {
                    url: super::redact_url(url),
                });
            }
        }
        Ok(Self { pool })
    }

    async fn pool(url: &str) -> std::result::Result<PgPool, sqlx::Error> {
        PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            // sqlx pings a connection on every checkout by default: one
            // network round trip per checkout, three of a refresh's six.
            // A connection that was used within the last second is taken as
            // alive, as HikariCP's `aliveBypassWindowMs` does; one idle for
            // longer is still pinged, so a restarted server or a connection
            // a firewall dropped is replaced before a request uses it.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > RECENTLY_USED {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect(url)
            .await
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

    /// Consumes `claim` and records `issuance`, or neither, in one
    /// statement (see [`sql::Claim`]).
    async fn claim_and_issue(
        &self,
        claim: sql::Claim<'_>,
        now: UnixTime,
        issuance: &Issuance,
    ) -> Result<bool> {
        let statement = claim.postgres(issuance.refresh.is_some());
        let (claimed,): (i64,) = sql::bind_claim!(sqlx::query_as(statement), claim, now, issuance)
            .fetch_one(&self.pool)
            .await?;
        Ok(claimed > 0)
    }
}

/// How recently a pooled connection must have been used to skip the ping
/// before it is handed out.
const RECENTLY_USED: Duration = Duration::from_secs(1);

sql::impl_sql_store!(PostgresStore, Postgres, Backend::Postgres);

/// SQLSTATE 3D000, invalid_catalog_name: the database does not exist.
fn is_missing_database(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("3D000"))
}
