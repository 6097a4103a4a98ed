//! Usage counted in memory and written in batches: the token endpoint makes
//! no database write per token.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::UnixTime;
use crate::storage::{ClientUsage, StorageError, Store};

#[derive(Debug, Default)]
pub struct UsageRecorder {
    /// Keyed by secret id; a secret belongs to exactly one client.
    pending: Mutex<HashMap<String, ClientUsage>>,
}

impl UsageRecorder {
    pub fn record(&self, client_id: &str, secret_id: &str, now: UnixTime) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(u) = pending.get_mut(secret_id) {
            u.tokens_issued += 1;
            u.last_used_at = u.last_used_at.max(now);
            return;
        }
        pending.insert(
            secret_id.to_owned(),
            ClientUsage {
                client_id: client_id.to_owned(),
                secret_id: secret_id.to_owned(),
                tokens_issued: 1,
                last_used_at: now,
            },
        );
    }

    /// Writes what has gathered. On failure the counts are kept for the next
    /// flush, so a database outage loses nothing.
    pub async fn flush(&self, store: &dyn Store) -> Result<usize, StorageError> {
        let batch: Vec<ClientUsage> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.drain().map(|(_, u)| u).collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        match store.record_usage(&batch).await {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                for u in batch {
                    self.merge(u);
                }
                Err(e)
            }
        }
    }

    fn merge(&self, u: ClientUsage) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let e = pending.entry(u.secret_id.clone()).or_insert(ClientUsage {
            tokens_issued: 0,
            ..u.clone()
        });
        e.tokens_issued += u.tokens_issued;
        e.last_used_at = e.last_used_at.max(u.last_used_at);
    }

    pub fn pending_len(&self) -> usize {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}
