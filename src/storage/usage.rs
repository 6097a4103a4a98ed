//! Usage per day and outcome, read back for the console and the API and
//! pruned after the retention. The batches are written with the totals,
//! by [`ApiKeyStore::record_api_key_usage`] and
//! [`ClientStore::record_usage`].
//!
//! [`ApiKeyStore::record_api_key_usage`]: super::ApiKeyStore::record_api_key_usage
//! [`ClientStore::record_usage`]: super::ClientStore::record_usage

use async_trait::async_trait;

use super::Result;
use crate::domain::usage::{DailyCount, Outcome};

#[async_trait]
pub trait UsageStore: Send + Sync {
    /// The daily counts of `key_ids` (a page of keys at most) from
    /// `from_day` to `to_day`, both included, by key and day. Another
    /// workspace's key has none.
    async fn api_key_usage(
        &self,
        workspace_id: &str,
        key_ids: &[&str],
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<DailyCount>>;

    /// The workspace's keys over the days: each outcome's total, and the
    /// `top` keys by successful uses (key id, count), most first.
    async fn api_key_usage_summary(
        &self,
        workspace_id: &str,
        from_day: i64,
        to_day: i64,
        top: u64,
    ) -> Result<(Vec<(Outcome, i64)>, Vec<(String, i64)>)>;

    /// The daily counts of a client's token requests.
    async fn client_usage(
        &self,
        client_id: &str,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<DailyCount>>;

    /// Deletes the counts of days before `before_day`; how many rows went.
    async fn prune_usage(&self, before_day: i64) -> Result<u64>;
}
