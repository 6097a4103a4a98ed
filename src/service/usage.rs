//! Usage analytics: the daily counts of API keys and application tokens
//! over a range of UTC days, for the console's charts and `/v1`. The
//! counts are written by the usage flush (`node::usage`), so they trail
//! requests by up to its interval.

use std::collections::HashMap;

use crate::clock::UnixTime;
use crate::domain::usage::{DailyCount, UsageSeries, day_label, day_of, parse_day};
use crate::service::{During, StoreFailure};
use crate::storage::Store;

/// The charts' span when none is asked for.
pub const DEFAULT_DAYS: i64 = 30;
/// The longest range one request may ask for.
pub const MAX_DAYS: i64 = 366;

/// Days `from..=to`, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub from: i64,
    pub to: i64,
}

impl DayRange {
    /// The `days` days up to and including today.
    pub fn last(days: i64, now: UnixTime) -> Self {
        let to = day_of(now);
        Self {
            from: to - days + 1,
            to,
        }
    }

    /// `from` and `to` as `YYYY-MM-DD` (or RFC 3339 times), both optional:
    /// `to` defaults to today, `from` to 29 days before `to`.
    pub fn parse(from: Option<&str>, to: Option<&str>, now: UnixTime) -> Result<Self, String> {
        let day = |name: &str, v: &str| {
            parse_day(v)
                .ok_or_else(|| format!("{name} must be a date (YYYY-MM-DD) or an RFC 3339 time"))
        };
        let to = match to {
            Some(t) => day("to", t)?,
            None => day_of(now),
        };
        let from = match from {
            Some(f) => day("from", f)?,
            None => to - DEFAULT_DAYS + 1,
        };
        if from > to {
            return Err(format!(
                "from ({}) is after to ({})",
                day_label(from),
                day_label(to)
            ));
        }
        if to - from + 1 > MAX_DAYS {
            return Err(format!("a range covers at most {MAX_DAYS} days"));
        }
        Ok(Self { from, to })
    }
}

/// Reads the counts; who may read them is the caller's check.
pub struct Usage<'a> {
    store: &'a dyn Store,
}

impl<'a> Usage<'a> {
    pub fn new(store: &'a dyn Store) -> Self {
        Self { store }
    }

    /// One key's series (the caller has found the key in the workspace).
    pub async fn api_key(
        &self,
        workspace_id: &str,
        key_id: &str,
        range: DayRange,
    ) -> Result<UsageSeries, StoreFailure> {
        let rows = self
            .store
            .api_key_usage(workspace_id, &[key_id], range.from, range.to)
            .await
            .during("read the API key's usage")?;
        Ok(UsageSeries::from_rows(range.from, range.to, &rows))
    }

    /// The series of each of `key_ids` in one read (a page of the key
    /// table); a key without counts, or not in the workspace, is absent.
    pub async fn api_keys(
        &self,
        workspace_id: &str,
        key_ids: &[&str],
        range: DayRange,
    ) -> Result<HashMap<String, UsageSeries>, StoreFailure> {
        let rows = self
            .store
            .api_key_usage(workspace_id, key_ids, range.from, range.to)
            .await
            .during("read the API keys' usage")?;
        let mut by_key: HashMap<String, Vec<DailyCount>> = HashMap::new();
        for row in rows {
            by_key.entry(row.subject.clone()).or_default().push(row);
        }
        Ok(by_key
            .into_iter()
            .map(|(id, rows)| (id, UsageSeries::from_rows(range.from, range.to, &rows)))
            .collect())
    }

    /// The workspace's keys over the range: each outcome's total, and the
    /// `top` keys by successful uses.
    pub async fn api_keys_summary(
        &self,
        workspace_id: &str,
        range: DayRange,
        top: u64,
    ) -> Result<([i64; 6], Vec<(String, i64)>), StoreFailure> {
        let (totals, leaders) = self
            .store
            .api_key_usage_summary(workspace_id, range.from, range.to, top)
            .await
            .during("summarise the API keys' usage")?;
        let mut by_outcome = [0i64; 6];
        for (o, n) in totals {
            by_outcome[o.index()] += n;
        }
        Ok((by_outcome, leaders))
    }

    /// The token requests of a client (a workspace's application key).
    pub async fn client(
        &self,
        client_id: &str,
        range: DayRange,
    ) -> Result<UsageSeries, StoreFailure> {
        let rows = self
            .store
            .client_usage(client_id, range.from, range.to)
            .await
            .during("read the application's usage")?;
        Ok(UsageSeries::from_rows(range.from, range.to, &rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000; // 2027-01-15

    #[test]
    fn ranges_default_to_the_last_thirty_days_and_are_bounded() {
        let r = DayRange::parse(None, None, NOW).unwrap();
        assert_eq!((r.to, r.to - r.from + 1), (day_of(NOW), 30));
        assert_eq!(r, DayRange::last(30, NOW));
        let r = DayRange::parse(Some("2027-01-01"), Some("2027-01-02"), NOW).unwrap();
        assert_eq!((day_label(r.from), day_label(r.to)).0, "2027-01-01");
        assert_eq!(r.to - r.from, 1);
        assert!(DayRange::parse(Some("2027-01-03"), Some("2027-01-02"), NOW).is_err());
        assert!(DayRange::parse(Some("2025-01-01"), Some("2027-01-02"), NOW).is_err());
        let e = DayRange::parse(Some("yesterday"), None, NOW).unwrap_err();
        assert!(e.contains("from must be a date"), "{e}");
    }
}
