//! Usage counted in memory and written in batches: the token endpoint and
//! API-key verification make no database write per request.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::UnixTime;
use crate::domain::usage::{DailyCount, Outcome, day_of};
use crate::storage::{ClientUsage, StorageError, Store};

/// The uses of one subject (an API key or a client) waiting to be written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending {
    /// Successful uses and the latest of them, for the running totals.
    pub successes: i64,
    pub last_success: Option<UnixTime>,
    /// `(day, outcome, count)`: a handful of entries, scanned.
    pub days: Vec<(i64, Outcome, i64)>,
}

impl Pending {
    fn add(&mut self, day: i64, outcome: Outcome, count: i64) {
        match self
            .days
            .iter_mut()
            .find(|(d, o, _)| *d == day && *o == outcome)
        {
            Some(slot) => slot.2 += count,
            None => self.days.push((day, outcome, count)),
        }
    }

    fn merge(&mut self, other: Pending) {
        self.successes += other.successes;
        self.last_success = self.last_success.max(other.last_success);
        for (day, outcome, count) in other.days {
            self.add(day, outcome, count);
        }
    }
}

/// Uses per subject, UTC day and outcome, gathered between flushes. One
/// lock and, after a subject's first use, no allocation per use.
#[derive(Debug, Default)]
pub struct OutcomeCounts {
    pending: Mutex<HashMap<String, Pending>>,
}

impl OutcomeCounts {
    pub fn record(&self, subject: &str, outcome: Outcome, now: UnixTime) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let entry = match pending.get_mut(subject) {
            Some(e) => e,
            None => pending.entry(subject.to_owned()).or_default(),
        };
        if outcome == Outcome::Success {
            entry.successes += 1;
            entry.last_success = entry.last_success.max(Some(now));
        }
        entry.add(day_of(now), outcome, 1);
    }

    /// A use recorded as a success that was then refused (for want of a
    /// scope, or by a rate limit): the day's count moves from success to
    /// `outcome`, so each request has exactly one outcome. The running
    /// totals (uses, last use) keep it: the credential was presented and
    /// valid. If the success was flushed already, the batches still add
    /// up to the same counts.
    pub fn reclassify(&self, subject: &str, outcome: Outcome, now: UnixTime) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let entry = match pending.get_mut(subject) {
            Some(e) => e,
            None => pending.entry(subject.to_owned()).or_default(),
        };
        let day = day_of(now);
        entry.add(day, Outcome::Success, -1);
        entry.add(day, outcome, 1);
    }

    /// Everything gathered so far, leaving nothing behind.
    pub fn take(&self) -> HashMap<String, Pending> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Returns a batch that could not be written, for the next flush.
    pub fn put_back(&self, batch: HashMap<String, Pending>) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        for (subject, p) in batch {
            pending.entry(subject).or_default().merge(p);
        }
    }
}

/// The daily rows of a batch.
pub fn daily_rows(batch: &HashMap<String, Pending>) -> Vec<DailyCount> {
    batch
        .iter()
        .flat_map(|(subject, p)| {
            p.days.iter().map(|&(day, outcome, count)| DailyCount {
                subject: subject.clone(),
                day,
                outcome,
                count,
            })
        })
        .collect()
}

#[derive(Debug, Default)]
pub struct UsageRecorder {
    /// Keyed by secret id; a secret belongs to exactly one client.
    pending: Mutex<HashMap<String, ClientUsage>>,
    /// Every outcome of an application's token requests, by client id.
    outcomes: OutcomeCounts,
}

impl UsageRecorder {
    /// An application that failed to get a token: a wrong secret
    /// (`outcome` is not [`Outcome::Success`]; a success is [`Self::record`]).
    pub fn refused(&self, client_id: &str, outcome: Outcome, now: UnixTime) {
        self.outcomes.record(client_id, outcome, now);
    }

    pub fn record(&self, client_id: &str, secret_id: &str, now: UnixTime) {
        self.outcomes.record(client_id, Outcome::Success, now);
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
        let outcomes = self.outcomes.take();
        if batch.is_empty() && outcomes.is_empty() {
            return Ok(0);
        }
        match store.record_usage(&batch, &daily_rows(&outcomes)).await {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                for u in batch {
                    self.merge(u);
                }
                self.outcomes.put_back(outcomes);
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

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn outcomes_are_counted_per_day_and_a_refusal_moves_a_success() {
        let counts = OutcomeCounts::default();
        counts.record("k", Outcome::Success, 10);
        counts.record("k", Outcome::Success, DAY + 5);
        counts.record("k", Outcome::Invalid, DAY + 6);
        counts.reclassify("k", Outcome::RateLimited, DAY + 7);
        let batch = counts.take();
        let k = &batch["k"];
        assert_eq!((k.successes, k.last_success), (2, Some(DAY + 5)));
        let mut rows: Vec<_> = daily_rows(&batch)
            .into_iter()
            .map(|r| (r.day, r.outcome, r.count))
            .collect();
        rows.sort();
        assert_eq!(
            rows,
            [
                (0, Outcome::Success, 1),
                (1, Outcome::Success, 0),
                (1, Outcome::Invalid, 1),
                (1, Outcome::RateLimited, 1),
            ]
        );
        assert!(counts.take().is_empty(), "taken, nothing is left");
    }

    #[test]
    fn a_batch_put_back_merges_with_what_came_meanwhile() {
        let counts = OutcomeCounts::default();
        counts.record("k", Outcome::Success, 10);
        let batch = counts.take();
        counts.record("k", Outcome::Success, 20);
        counts.record("j", Outcome::Expired, 20);
        counts.put_back(batch);
        let again = counts.take();
        assert_eq!(again["k"].successes, 2);
        assert_eq!(again["k"].last_success, Some(20));
        assert_eq!(again["k"].days, [(0, Outcome::Success, 2)]);
        assert_eq!(again["j"].days, [(0, Outcome::Expired, 1)]);
    }
}
