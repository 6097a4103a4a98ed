//! An exchange's writes in one statement round trip: the claim of the
//! code or refresh token it consumes, and the records of what it issues.
//!
//! Each statement is a round trip (to sqlx's worker thread for SQLite,
//! over the network for PostgreSQL), and a refresh, a code exchange or a
//! device poll wrote with five: `BEGIN`, the claim, two `INSERT`s and
//! `COMMIT`. The SQL here does the same in fewer, per backend:
//! - SQLite: one multi-statement batch inside the write transaction (3
//!   round trips). Each `INSERT` selects its row `WHERE changes() = 1`,
//!   true only if the statement before it changed a row, so a claim that
//!   fails inserts nothing, and the batch's changes add up to 0.
//! - PostgreSQL: one statement, atomic on its own (1 round trip). The
//!   claim's `UPDATE … RETURNING` is a data-modifying CTE, the `INSERT`s
//!   select their row from it, and the statement answers how many rows it
//!   claimed (0 or 1). Under concurrent claims the `UPDATE` waits for the
//!   row and re-checks its condition, as it did on its own.
//!
//! Parameters: the claim `$1`–`$4`, the access token `$5`–`$8`, the
//! refresh token `$9`–`$20` ([`bind_claim!`] binds them).

use crate::clock::UnixTime;
use crate::domain::secret::SecretHash;

/// What an exchange consumes before it issues. Each is used once, so its
/// claim is a conditional `UPDATE` that changes one row or none, and of two
/// concurrent exchanges exactly one claims it.
#[derive(Clone, Copy)]
pub(in crate::storage) enum Claim<'a> {
    /// RFC 6749 §4.1.2: a pending, unexpired code. `$3` exchanged, `$4`
    /// pending.
    AuthCode(&'a SecretHash),
    /// RFC 8628 §3.5: a device code the user allowed, unexpired. `$3`
    /// redeemed, `$4` allowed.
    DeviceCode(&'a SecretHash),
    /// RFC 9700 §4.14.2: a refresh token is replaced on use. A retry inside
    /// the grace period (a response lost on the way back) may use it again:
    /// `$3` is the earliest rotation time still accepted. The first
    /// rotation time is kept, so retrying cannot stretch the grace period.
    /// `$4` is unused (bound NULL).
    RefreshToken {
        hash: &'a SecretHash,
        rotated_not_before: UnixTime,
    },
}

macro_rules! claim_update {
    (AuthCode) => {
        "UPDATE authorization_codes SET state = $3 \
         WHERE code_hash = $1 AND state = $4 AND expires_at > $2"
    };
    (DeviceCode) => {
        "UPDATE device_codes SET state = $3 \
         WHERE device_code_hash = $1 AND state = $4 AND expires_at > $2"
    };
    (RefreshToken) => {
        "UPDATE refresh_tokens SET rotated_at = COALESCE(rotated_at, $2) \
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 \
         AND (rotated_at IS NULL OR rotated_at >= $3)"
    };
}

macro_rules! insert_access {
    () => {
        "INSERT INTO issued_access_tokens (jti, family_id, client_id, expires_at) \
         SELECT $5, $6, $7, $8"
    };
}

macro_rules! insert_refresh {
    () => {
        "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, workspace_id, scope, \
         auth_time, created_at, expires_at, rotated_at, revoked_at, resources) \
         SELECT $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20"
    };
}

/// A claim's statements for SQLite: without and with a refresh token.
macro_rules! sqlite_batches {
    ($claim:tt) => {
        [
            concat!(
                claim_update!($claim),
                "; ",
                insert_access!(),
                " WHERE changes() = 1"
            ),
            concat!(
                claim_update!($claim),
                "; ",
                insert_access!(),
                " WHERE changes() = 1; ",
                insert_refresh!(),
                " WHERE changes() = 1"
            ),
        ]
    };
}

/// A claim's statement for PostgreSQL: without and with a refresh token.
macro_rules! postgres_statements {
    ($claim:tt) => {
        [
            concat!(
                "WITH claimed AS (",
                claim_update!($claim),
                " RETURNING 1), access AS (",
                insert_access!(),
                " FROM claimed) SELECT count(*) FROM claimed"
            ),
            concat!(
                "WITH claimed AS (",
                claim_update!($claim),
                " RETURNING 1), access AS (",
                insert_access!(),
                " FROM claimed), refresh AS (",
                insert_refresh!(),
                " FROM claimed) SELECT count(*) FROM claimed"
            ),
        ]
    };
}

const SQLITE: [[&str; 2]; 3] = [
    sqlite_batches!(AuthCode),
    sqlite_batches!(DeviceCode),
    sqlite_batches!(RefreshToken),
];

const POSTGRES: [[&str; 2]; 3] = [
    postgres_statements!(AuthCode),
    postgres_statements!(DeviceCode),
    postgres_statements!(RefreshToken),
];

impl Claim<'_> {
    fn index(self) -> usize {
        match self {
            Claim::AuthCode(_) => 0,
            Claim::DeviceCode(_) => 1,
            Claim::RefreshToken { .. } => 2,
        }
    }

    /// The SQLite batch, run with `execute` inside the write transaction:
    /// its rows affected are 0 when the claim failed and nothing was
    /// written.
    pub(in crate::storage) fn sqlite(self, with_refresh: bool) -> &'static str {
        SQLITE[self.index()][usize::from(with_refresh)]
    }

    /// The PostgreSQL statement, run on its own: it returns one row, the
    /// number of rows claimed.
    pub(in crate::storage) fn postgres(self, with_refresh: bool) -> &'static str {
        POSTGRES[self.index()][usize::from(with_refresh)]
    }
}

/// Binds `$1`–`$20` of a [`Claim`]'s statement: `bind_claim!(query, claim,
/// now, issuance)`. A macro, not a function, because it serves both
/// backends' query types.
macro_rules! bind_claim {
    ($query:expr, $claim:expr, $now:expr, $issuance:expr) => {{
        use $crate::storage::sql::Claim;
        use $crate::storage::{CodeState, DeviceCodeState};
        let query = match $claim {
            Claim::AuthCode(hash) => $query
                .bind(&hash.0[..])
                .bind($now)
                .bind(CodeState::Exchanged.as_str())
                .bind(CodeState::Pending.as_str()),
            Claim::DeviceCode(hash) => $query
                .bind(&hash.0[..])
                .bind($now)
                .bind(DeviceCodeState::Redeemed.as_str())
                .bind(DeviceCodeState::Allowed.as_str()),
            Claim::RefreshToken {
                hash,
                rotated_not_before,
            } => $query
                .bind(&hash.0[..])
                .bind($now)
                .bind(rotated_not_before)
                .bind(None::<i64>),
        };
        let issuance: &$crate::storage::Issuance = $issuance;
        let a = &issuance.access;
        let query = query
            .bind(a.jti.as_str())
            .bind(a.family_id.as_str())
            .bind(a.client_id.as_str())
            .bind(a.expires_at);
        match &issuance.refresh {
            None => query,
            Some(r) => query
                .bind(&r.token_hash.0[..])
                .bind(r.family_id.as_str())
                .bind(r.client_id.as_str())
                .bind(r.user_id.as_str())
                .bind(r.workspace_id.as_str())
                .bind(r.scope.to_string())
                .bind(r.auth_time)
                .bind(r.created_at)
                .bind(r.expires_at)
                .bind(r.rotated_at)
                .bind(r.revoked_at)
                .bind(r.resources.join(" ")),
        }
    }};
}
pub(in crate::storage) use bind_claim;
