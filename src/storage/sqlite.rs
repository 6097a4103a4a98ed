//! SQLite: the embedded default. WAL mode lets the CLI and a running server
//! share one file; writes take the lock up front (`BEGIN IMMEDIATE`) so two
//! writers wait for each other instead of failing on lock upgrade.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

use super::write::{Turn, WriteTurns, WriteTx};
use super::{Issuance, OpenMode, Result, StorageError, sql};
use crate::clock::UnixTime;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// SQLite has one writer: this node's writers queue here.
    turns: WriteTurns,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(url, OpenMode::Create).await
    }

    /// Opens the database file, creating it (mode 0600) only in
    /// [`OpenMode::Create`], and keeps it and its WAL files private.
    pub async fn open(url: &str, mode: OpenMode) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?;
        let file = (!is_in_memory(url, &options)).then(|| options.get_filename().to_owned());
        if let Some(path) = &file {
            match mode {
                OpenMode::Existing if !path.exists() => {
                    return Err(StorageError::Missing {
                        url: url.to_owned(),
                    });
                }
                OpenMode::Existing => {}
                OpenMode::Create => create_private_file(path)?,
            }
            keep_private(path);
        }
        if mode == OpenMode::Existing {
            // Looked at read-only first, so that a file that is not
            // keyflow's is left exactly as it was.
            let probe = options.clone().read_only(true);
            let mut conn = sqlx::ConnectOptions::connect(&probe).await?;
            let (set_up,): (bool,) = sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master \
                 WHERE type = 'table' AND name = '_sqlx_migrations')",
            )
            .fetch_one(&mut conn)
            .await?;
            sqlx::Connection::close(conn).await?;
            if !set_up {
                return Err(StorageError::NotSetUp {
                    url: url.to_owned(),
                });
            }
        }
        let options = options
            .create_if_missing(mode == OpenMode::Create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // sqlx pings a connection on every checkout by default. A
            // SQLite connection is in this process: the ping is a round
            // trip to the connection's worker thread that cannot find
            // anything the statement after it would not, and it was three
            // of the eight trips a refresh made (bench/README.md).
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        if let Some(path) = &file {
            // Opening in WAL mode made the -wal and -shm files.
            keep_private(path);
        }
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

    /// Consumes `claim` and records `issuance`, or neither: the claim and
    /// the inserts go to SQLite's worker thread as one batch inside the
    /// write transaction (see [`sql::Claim`]).
    async fn claim_and_issue(
        &self,
        claim: sql::Claim<'_>,
        now: UnixTime,
        issuance: &Issuance,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let batch = claim.sqlite(issuance.refresh.is_some());
        let changed = sql::bind_claim!(sqlx::query(batch), claim, now, issuance)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }
}

sql::impl_sql_store!(SqliteStore, Sqlite, Backend::Sqlite);

fn is_in_memory(url: &str, options: &SqliteConnectOptions) -> bool {
    options.get_filename() == Path::new(":memory:") || url.contains("mode=memory")
}

/// Creates an empty database file readable by its owner alone (SQLite
/// takes an empty file as a new database); one that exists is left as is.
fn create_private_file(path: &Path) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    match o.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StorageError::Database(sqlx::Error::Io(e))),
    }
}

/// The database file and its `-wal` and `-shm` companions hold every hash
/// and sealed key: takes group and other access away, and says so.
fn keep_private(db: &Path) {
    let with = |suffix: &str| {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    for path in [db.to_owned(), with("-wal"), with("-shm")] {
        crate::files::restrict(&path, 0o600);
    }
}
