//! Write transactions that wait their turn in keyflow rather than in the
//! database.
//!
//! SQLite allows one writer at a time. When several pooled connections
//! start `BEGIN IMMEDIATE` together, the losers sleep in SQLite's busy
//! handler (1, 2, 5, 10 … 100 ms steps) and retry, so under load a write can
//! wait hundreds of milliseconds while the lock sits idle. Taking an async
//! mutex first queues writers fairly and hands the lock over at once.
//! PostgreSQL locks rows, not the database, and needs no turn.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::{Database, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Whose turn it is to write, for a backend with a single writer. The
/// default lets writers run concurrently.
#[derive(Debug, Clone, Default)]
pub struct WriteTurns(Option<Arc<Mutex<()>>>);

/// Held while writing; dropping it lets the next writer in.
pub type Turn = Option<OwnedMutexGuard<()>>;

impl WriteTurns {
    /// One writer at a time.
    pub fn serialized() -> Self {
        Self(Some(Arc::new(Mutex::new(()))))
    }

    pub async fn take(&self) -> Turn {
        match &self.0 {
            Some(m) => Some(Arc::clone(m).lock_owned().await),
            None => None,
        }
    }
}

/// A transaction that holds the writer's turn until it commits or rolls
/// back (on drop). It derefs to the connection, as `Transaction` does.
pub struct WriteTx<DB: Database> {
    tx: Transaction<'static, DB>,
    _turn: Turn,
}

impl<DB: Database> WriteTx<DB> {
    pub fn new(tx: Transaction<'static, DB>, turn: Turn) -> Self {
        Self { tx, _turn: turn }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl<DB: Database> Deref for WriteTx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: Database> DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serialized_turns_exclude_each_other() {
        let turns = WriteTurns::serialized();
        let first = turns.take().await;
        assert!(first.is_some());
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), turns.take());
        assert!(waiting.await.is_err(), "the second writer waits");
        drop(first);
        assert!(turns.take().await.is_some());
        assert!(WriteTurns::default().take().await.is_none());
    }
}
