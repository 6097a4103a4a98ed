//! Pages of `GET …/api-keys?limit&cursor`: the cursor is an opaque
//! offset into the oldest-first list.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::ApiError;
use crate::app::App;
use crate::storage::{ApiKeyRecord, KeyListQuery, KeySort};

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 100;

/// One page, oldest first (the unpaged order), and the cursor of the next.
/// Keys are never deleted, only revoked, and new ones sort last, so an
/// offset stays a stable cursor.
pub async fn page(
    app: &App,
    workspace_id: &str,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<(Vec<ApiKeyRecord>, Option<String>), ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be 1 to {MAX_PAGE}"
        )));
    }
    let offset = cursor.map(decode_cursor).transpose()?;
    let offset = offset.unwrap_or(0);
    let now = app.clock.now();
    let query = KeyListQuery {
        search: None,
        status: None,
        key_type: None,
        sort: KeySort::OldestFirst,
        now,
        expiring_before: now,
        offset,
        limit: u64::from(limit),
    };
    let (records, matching) = app.api_keys.page(workspace_id, &query).await?;
    let end = offset + records.len() as u64;
    let next = (!records.is_empty() && end < matching).then(|| encode_cursor(end));
    Ok((records, next))
}

fn encode_cursor(offset: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("keys:{offset}"))
}

fn decode_cursor(cursor: &str) -> Result<u64, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("keys:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::BadRequest("cursor is not one this API returned".into()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cursor_round_trips_and_a_foreign_one_is_refused() {
        assert_eq!(
            super::decode_cursor(&super::encode_cursor(150)).unwrap(),
            150
        );
        assert!(super::decode_cursor("YXVkaXQ6Mw").is_err());
        assert!(super::decode_cursor("not base64!").is_err());
    }
}
