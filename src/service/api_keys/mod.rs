//! API keys: creation within the creator's own rights ([`manage`]),
//! verification with one hash and one cache lookup, and batched usage
//! counts ([`verify`]).

mod manage;
mod verify;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock::{SharedClock, UnixTime, rfc3339};
use crate::config::ApiKeyLimits;
use crate::domain::api_key::{self, ApiKeyFormatError, ApiKeyStatus, ApiKeyType};
use crate::domain::audit::{AuditContext, AuditEvent};
use crate::domain::scope::{ScopeCatalogue, ScopeSet};
use crate::domain::secret::{PlainSecret, SecretHasher};
use crate::domain::usage::Outcome;
use crate::node::leased_cache::LeasedCache;
use crate::node::rate_limit::Overrides;
use crate::node::usage::{OutcomeCounts, daily_rows};
use crate::service::{During, StoreFailure};
use crate::storage::{ApiKeyChanges, ApiKeyRecord, ApiKeyUsage, StorageError, Store};
use crate::verifier::{ApiKeyAuthenticator, CredentialKind, Principal, RateLimitBudget, Rejection};

/// The longest overlap a roll may give the old key.
pub const MAX_OVERLAP_SECONDS: i64 = 7 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error(transparent)]
    Format(#[from] ApiKeyFormatError),
    #[error("unknown API key")]
    Unknown,
    #[error("the API key is {0:?}")]
    NotActive(ApiKeyStatus),
    #[error("{0}")]
    Invalid(String),
    #[error("no such API key")]
    NotFound,
    /// A change or roll of a revoked key: revocation is for good.
    #[error("API key {id} is revoked (since {}); a revoked key cannot be changed or rolled", rfc3339(*.since))]
    Revoked { id: String, since: UnixTime },
    /// The key's scopes changed between the check of the caller's right to
    /// act on it and the write, which then wrote nothing.
    #[error(
        "API key {0} changed while this request acted on it; nothing was changed: read it again and retry"
    )]
    Changed(String),
    /// A second revocation, which changes nothing.
    #[error("API key {id} is already revoked (since {})", rfc3339(*.since))]
    AlreadyRevoked { id: String, since: UnixTime },
    /// The caller lacks `scope`, which the key would hold (or holds).
    #[error("{description}")]
    Forbidden { scope: String, description: String },
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

pub fn status(key: &ApiKeyRecord, now: UnixTime) -> ApiKeyStatus {
    if key.revoked_at.is_some() {
        ApiKeyStatus::Revoked
    } else if key.expires_at.is_some_and(|e| e <= now) {
        ApiKeyStatus::Expired
    } else if key.deactivated {
        ApiKeyStatus::Deactivated
    } else {
        ApiKeyStatus::Active
    }
}

/// Who asks for a key, and what they hold: a key never grants more.
#[derive(Debug, Clone)]
pub struct Creator {
    pub id: String,
    pub scopes: ScopeSet,
    pub audit: AuditContext,
}

impl ApiKeys {
    /// A person managing keys in the console, under the API's rule for a
    /// token a person authorized: owners and admins write (members only
    /// read), and they hold every scope an application may hold, which is
    /// what the workspace's own application token, acting as an owner,
    /// holds. The rule that no key is managed by a weaker caller then
    /// applies as on the API.
    pub fn person_creator(
        &self,
        user_id: &str,
        access: &crate::service::members::WorkspaceAccess,
        audit: AuditContext,
    ) -> Result<Creator, crate::service::members::MemberError> {
        access.require(crate::domain::permission::WorkspaceAction::Administer)?;
        Ok(Creator {
            id: user_id.to_owned(),
            scopes: self.catalogue.application_scopes(),
            audit,
        })
    }

    /// The scopes a key may be given, with their descriptions, in the
    /// catalogue's order.
    pub fn grantable_scopes(&self) -> Vec<(String, String)> {
        self.catalogue
            .names()
            .filter_map(|n| self.catalogue.get(n))
            .filter(|d| d.applications)
            .map(|d| (d.name.clone(), d.description.clone()))
            .collect()
    }

    pub fn catalogue(&self) -> &ScopeCatalogue {
        &self.catalogue
    }
}

/// A workspace's keys in figures over a range of days: the overview of
/// the console's API Keys tab. Two aggregates over every key and every
/// usage row of the range, so it is kept [`OVERVIEW_TTL`] per workspace
/// (usage itself is written every 5 s) and dropped on any key change, or
/// usage flush, on this node.
#[derive(Debug, Clone, Default)]
pub struct KeyOverview {
    pub counts: crate::storage::KeyCounts,
    /// The first few keys unused since the cut-off.
    pub stale: Vec<ApiKeyRecord>,
    /// Uses per outcome (`Outcome::index`) over the range.
    pub totals: [i64; 6],
    /// (key id, successful uses), most first.
    pub top: Vec<(String, i64)>,
}

pub const OVERVIEW_TTL: Duration = Duration::from_secs(5);

/// An overview, when it was read, and the write count it saw.
type CachedOverview = (Instant, u64, Arc<KeyOverview>);

impl ApiKeys {
    /// The overview of `workspace_id` over `range`, unused since
    /// `stale_before`, with up to `shown` stale keys; from the cache while
    /// fresh.
    pub async fn overview(
        &self,
        workspace_id: &str,
        range: crate::service::usage::DayRange,
        stale_before: UnixTime,
        shown: u64,
    ) -> Result<Arc<KeyOverview>, ApiKeyError> {
        let generation = self.writes.load(Ordering::Acquire);
        if let Some((at, seen, o)) = self
            .overviews
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(workspace_id)
            && *seen == generation
            && at.elapsed() < OVERVIEW_TTL
        {
            return Ok(Arc::clone(o));
        }
        let (counts, stale) = self
            .store
            .api_key_counts(workspace_id, self.clock.now(), stale_before, shown)
            .await
            .during("count the API keys")?;
        let (totals, top) = crate::service::usage::Usage::new(self.store.as_ref())
            .api_keys_summary(workspace_id, range, 5)
            .await?;
        let o = Arc::new(KeyOverview {
            counts,
            stale,
            totals,
            top,
        });
        let mut cache = self.overviews.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(
            workspace_id.to_owned(),
            (Instant::now(), generation, Arc::clone(&o)),
        );
        Ok(o)
    }

    /// Marks a key change (or usage written): cached overviews are stale.
    pub(super) fn changed(&self) {
        self.writes.fetch_add(1, Ordering::AcqRel);
    }
}

/// What a new key should be.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub key_type: ApiKeyType,
    pub scopes: ScopeSet,
    pub expires_at: Option<UnixTime>,
    /// Overrides of the type's default rate limits.
    pub rate_limits: Option<Overrides>,
}

/// A key shown this once.
#[derive(Debug)]
pub struct CreatedKey {
    pub key: PlainSecret,
    pub record: ApiKeyRecord,
}

pub struct ApiKeys {
    store: Arc<dyn Store>,
    hasher: SecretHasher,
    clock: SharedClock,
    catalogue: ScopeCatalogue,
    cache: LeasedCache<ApiKeyRecord>,
    /// Uses by key id, day and outcome, waiting to be written.
    usage: OutcomeCounts,
    /// Each workspace's overview, for a few seconds (see [`KeyOverview`]).
    overviews: Mutex<HashMap<String, CachedOverview>>,
    /// Bumped by every key change on this node, which the overviews then
    /// no longer show.
    writes: AtomicU64,
    limits: ApiKeyLimits,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys").finish_non_exhaustive()
    }
}

impl ApiKeys {
    pub fn new(
        store: Arc<dyn Store>,
        hasher: SecretHasher,
        clock: SharedClock,
        catalogue: ScopeCatalogue,
    ) -> Self {
        Self {
            store,
            hasher,
            clock,
            catalogue,
            cache: LeasedCache::default(),
            usage: OutcomeCounts::default(),
            overviews: Mutex::new(HashMap::new()),
            writes: AtomicU64::new(0),
            limits: ApiKeyLimits::default(),
        }
    }

    /// Checks a presented key: the checksum first (no lookup for a typo),
    /// then one cache lookup and one HMAC compared in constant time.
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }
}

/// Revoking a revoked key is a conflict of its own wording.
fn already_revoked(e: ApiKeyError) -> ApiKeyError {
    match e {
        ApiKeyError::Revoked { id, since } => ApiKeyError::AlreadyRevoked { id, since },
        other => other,
    }
}

/// Validated overrides, as stored.
pub fn overrides_json(o: Overrides) -> Result<String, ApiKeyError> {
    o.validate().map_err(ApiKeyError::Invalid)?;
    Ok(serde_json::to_string(&o).expect("overrides serialize"))
}

impl ApiKeys {
    /// The limits a key has: its type's defaults with its overrides.
    pub fn limits_of(&self, record: &ApiKeyRecord) -> crate::node::rate_limit::Limits {
        let overrides: Overrides = record
            .rate_limits
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        overrides.apply(self.limits.for_type(record.key_type))
    }

    /// A key as the `/v1` API and the CLI show it: never the key itself.
    pub fn describe(&self, k: &ApiKeyRecord) -> serde_json::Value {
        serde_json::json!({
            "id": k.id,
            "name": k.name,
            "type": k.key_type,
            "prefix": k.prefix,
            "scopes": k.scopes.iter().collect::<Vec<_>>(),
            "createdAt": rfc3339(k.created_at),
            "createdBy": k.created_by,
            "expiresAt": k.expires_at.map(rfc3339),
            "lastUsedAt": k.last_used_at.map(rfc3339),
            "usageCount": k.usage_count,
            "status": status(k, self.now()),
            "rateLimits": self.limits_of(k),
        })
    }
}

fn valid_name(name: &str) -> Result<&str, ApiKeyError> {
    crate::domain::label(name).ok_or_else(|| {
        ApiKeyError::Invalid(format!(
            "name must be 1 to {} characters",
            crate::domain::MAX_LABEL_CHARS
        ))
    })
}
