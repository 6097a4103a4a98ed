//! API keys: creation within the creator's own rights, verification with
//! one hash and one cache lookup, and batched usage counts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::clock::{SharedClock, UnixTime, rfc3339};
use crate::config::ApiKeyLimits;
use crate::domain::api_key::{self, ApiKeyFormatError, ApiKeyStatus, ApiKeyType};
use crate::domain::audit::{AuditContext, AuditEvent};
use crate::domain::scope::{ScopeCatalogue, ScopeSet};
use crate::domain::secret::{PlainSecret, SecretHasher};
use crate::node::leased_cache::LeasedCache;
use crate::node::rate_limit::Overrides;
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
    Storage(#[from] StorageError),
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
    /// id -> (uses, last use) waiting to be written.
    usage: Mutex<HashMap<String, (i64, UnixTime)>>,
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
            usage: Mutex::new(HashMap::new()),
            limits: ApiKeyLimits::default(),
        }
    }

    /// Checks a presented key: the checksum first (no lookup for a typo),
    /// then one cache lookup and one HMAC compared in constant time.
    pub async fn verify(&self, presented: &str) -> Result<Arc<ApiKeyRecord>, ApiKeyError> {
        let parsed = api_key::parse(presented)?;
        let prefix = parsed.display_prefix;
        let record = self
            .cache
            .get_or_load(prefix, || self.store.api_key_by_prefix(prefix))
            .await?
            .ok_or(ApiKeyError::Unknown)?;
        if !record.hash.matches(&self.hasher.hash_str(presented)) {
            return Err(ApiKeyError::Unknown);
        }
        let now = self.clock.now();
        match status(&record, now) {
            ApiKeyStatus::Active => {}
            other => return Err(ApiKeyError::NotActive(other)),
        }
        self.record_use(&record.id, now);
        Ok(record)
    }

    fn record_use(&self, id: &str, now: UnixTime) {
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        match usage.get_mut(id) {
            Some(u) => {
                u.0 += 1;
                u.1 = u.1.max(now);
            }
            None => {
                usage.insert(id.to_owned(), (1, now));
            }
        }
    }

    /// Writes gathered usage; on failure it is kept for the next flush.
    pub async fn flush_usage(&self) -> Result<(), StorageError> {
        let batch: Vec<ApiKeyUsage> = {
            let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
            usage
                .drain()
                .map(|(id, (uses, last_used_at))| ApiKeyUsage {
                    id,
                    uses,
                    last_used_at,
                })
                .collect()
        };
        if let Err(e) = self.store.record_api_key_usage(&batch).await {
            let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
            for u in batch {
                let slot = usage.entry(u.id).or_insert((0, u.last_used_at));
                slot.0 += u.uses;
                slot.1 = slot.1.max(u.last_used_at);
            }
            return Err(e);
        }
        Ok(())
    }

    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    pub fn renew_lease(&self, poll_started: Instant) {
        self.cache.renew_lease(poll_started);
    }

    pub fn drop_lease(&self) {
        self.cache.drop_lease();
    }

    /// Scopes must be known, fit the key type, and be held by the creator.
    fn check_scopes(
        &self,
        key_type: ApiKeyType,
        scopes: &ScopeSet,
        creator: &Creator,
    ) -> Result<(), ApiKeyError> {
        if scopes.is_empty() {
            return Err(ApiKeyError::Invalid(
                "scopes must name at least one scope".into(),
            ));
        }
        for s in scopes.iter() {
            if self.catalogue.get(s).is_none_or(|d| !d.applications) {
                return Err(ApiKeyError::Invalid(format!(
                    "scope {s:?} is unknown or not for API keys"
                )));
            }
            if !key_type.allows_scope(s) {
                return Err(ApiKeyError::Invalid(format!(
                    "a {key_type} key may not carry {s:?}"
                )));
            }
        }
        api_key::may_act_on(&creator.scopes, scopes).map_err(|s| ApiKeyError::Forbidden {
            scope: s.to_owned(),
            description: format!(
                "your credential does not hold {s}; request it in the token or use a credential that has it"
            ),
        })
    }

    /// The key `id` of the workspace, when the caller may act on it.
    async fn find_for(
        &self,
        workspace_id: &str,
        id: &str,
        creator: &Creator,
    ) -> Result<ApiKeyRecord, ApiKeyError> {
        let key = self.find(workspace_id, id).await?;
        // Fails closed: unreadable scopes never read as "none to hold".
        let scopes = ScopeSet::parse(&key.scopes).map_err(|e| {
            ApiKeyError::Storage(StorageError::Corrupt(format!(
                "API key {} scopes: {e}",
                key.id
            )))
        })?;
        api_key::may_act_on(&creator.scopes, &scopes).map_err(|s| ApiKeyError::Forbidden {
            scope: s.to_owned(),
            description: format!(
                "this key holds {s}, which your credential does not; only a credential holding every scope of a key may change, roll or revoke it"
            ),
        })?;
        Ok(key)
    }

    pub async fn create(
        &self,
        workspace_id: &str,
        new: NewKey,
        creator: &Creator,
    ) -> Result<CreatedKey, ApiKeyError> {
        let name = valid_name(&new.name)?;
        self.check_scopes(new.key_type, &new.scopes, creator)?;
        let now = self.clock.now();
        if new.expires_at.is_some_and(|e| e <= now) {
            return Err(ApiKeyError::Invalid(
                "expiresAt must be in the future".into(),
            ));
        }
        let rate_limits = new.rate_limits.map(overrides_json).transpose()?;
        let template = ApiKeyRecord {
            id: uuid::Uuid::new_v4().to_string(),
            workspace_id: workspace_id.to_owned(),
            name: name.to_owned(),
            key_type: new.key_type,
            prefix: String::new(),
            hash: self.hasher.hash_str(""),
            scopes: new.scopes.to_string(),
            rate_limits,
            created_at: now,
            created_by: creator.id.clone(),
            expires_at: new.expires_at,
            deactivated: false,
            revoked_at: None,
            last_used_at: None,
            usage_count: 0,
        };
        self.insert_fresh(template, creator, AuditEvent::ApiKeyCreated, None)
            .await
    }

    /// Generates the key material and stores it, trying another prefix in
    /// the rare case one is taken.
    async fn insert_fresh(
        &self,
        mut record: ApiKeyRecord,
        creator: &Creator,
        event: AuditEvent,
        rolled_from: Option<(&str, UnixTime)>,
    ) -> Result<CreatedKey, ApiKeyError> {
        for _ in 0..5 {
            let (key, prefix) = api_key::generate(record.key_type);
            record.prefix = prefix;
            record.hash = self.hasher.hash(&key);
            let audit = creator
                .audit
                .entry(event, record.created_at)
                .workspace(&record.workspace_id)
                .details(serde_json::json!({
                    "apiKeyId": record.id, "prefix": record.prefix, "type": record.key_type.as_str(),
                    "scopes": record.scopes, "rolledFrom": rolled_from.map(|r| r.0),
                }));
            let stored = match rolled_from {
                None => self
                    .store
                    .insert_api_key(&record, &audit)
                    .await
                    .map(|()| true),
                Some((old, until)) => {
                    self.store
                        .roll_api_key(&record.workspace_id, old, &record, until, &audit)
                        .await
                }
            };
            match stored {
                Ok(true) => return Ok(CreatedKey { key, record }),
                Ok(false) => {
                    let old = rolled_from.map_or(record.id.as_str(), |r| r.0);
                    return Err(self.missing(&record.workspace_id, old, creator).await);
                }
                Err(StorageError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiKeyError::Storage(StorageError::Conflict))
    }

    pub async fn update(
        &self,
        workspace_id: &str,
        id: &str,
        mut changes: ApiKeyChanges,
        creator: &Creator,
    ) -> Result<ApiKeyRecord, ApiKeyError> {
        let current = self.find_for(workspace_id, id, creator).await?;
        if let Some(name) = &changes.name {
            changes.name = Some(valid_name(name)?.to_owned());
        }
        if let Some(scopes) = &changes.scopes {
            let set = ScopeSet::parse(scopes).map_err(|e| ApiKeyError::Invalid(e.to_string()))?;
            self.check_scopes(current.key_type, &set, creator)?;
            changes.scopes = Some(set.to_string());
        }
        let audit = creator
            .audit
            .entry(AuditEvent::ApiKeyUpdated, self.clock.now())
            .workspace(workspace_id)
            .details(serde_json::json!({
                "apiKeyId": id, "name": changes.name, "scopes": changes.scopes, "deactivated": changes.deactivated,
            }));
        match self
            .store
            .update_api_key(workspace_id, id, &current.scopes, &changes, &audit)
            .await?
        {
            Some(k) => Ok(k),
            None => Err(self.missing(workspace_id, id, creator).await),
        }
    }

    pub async fn revoke(
        &self,
        workspace_id: &str,
        id: &str,
        creator: &Creator,
    ) -> Result<(), ApiKeyError> {
        let key = self
            .find_for(workspace_id, id, creator)
            .await
            .map_err(already_revoked)?;
        let audit = creator
            .audit
            .entry(AuditEvent::ApiKeyRevoked, self.clock.now())
            .workspace(workspace_id)
            .details(serde_json::json!({ "apiKeyId": id }));
        if !self
            .store
            .revoke_api_key(workspace_id, id, &key.scopes, &audit)
            .await?
        {
            let why = self.missing(workspace_id, id, creator).await;
            return Err(already_revoked(why));
        }
        crate::node::leased_cache::wait_for_propagation().await;
        Ok(())
    }

    /// A new key with the same settings; the old one works `overlap` more
    /// seconds (0: it stops now) and keeps its lastUsedAt visible.
    pub async fn roll(
        &self,
        workspace_id: &str,
        id: &str,
        overlap: i64,
        creator: &Creator,
    ) -> Result<CreatedKey, ApiKeyError> {
        if !(0..=MAX_OVERLAP_SECONDS).contains(&overlap) {
            return Err(ApiKeyError::Invalid(format!(
                "expiresOldInSeconds must be 0 to {MAX_OVERLAP_SECONDS}"
            )));
        }
        let old = self.find_for(workspace_id, id, creator).await?;
        let now = self.clock.now();
        let record = ApiKeyRecord {
            id: uuid::Uuid::new_v4().to_string(),
            created_at: now,
            created_by: creator.id.clone(),
            last_used_at: None,
            usage_count: 0,
            ..old
        };
        let created = self
            .insert_fresh(
                record,
                creator,
                AuditEvent::ApiKeyRolled,
                Some((id, now + overlap)),
            )
            .await?;
        // The old key's new deadline binds every node before we answer.
        crate::node::leased_cache::wait_for_propagation().await;
        Ok(created)
    }

    pub async fn list(
        &self,
        workspace_id: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<ApiKeyRecord>, ApiKeyError> {
        Ok(self.store.list_api_keys(workspace_id, prefix).await?)
    }

    /// The workspace's key `id`, unless it is revoked. Another workspace's
    /// key is not found, like one that never existed.
    async fn find(&self, workspace_id: &str, id: &str) -> Result<ApiKeyRecord, ApiKeyError> {
        let key = self
            .store
            .list_api_keys(workspace_id, None)
            .await?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or(ApiKeyError::NotFound)?;
        match key.revoked_at {
            Some(since) => Err(ApiKeyError::Revoked { id: key.id, since }),
            None => Ok(key),
        }
    }

    /// Why a conditional write found no key as `find_for` had checked it:
    /// revoked in between, or its scopes changed. A key widened beyond the
    /// caller is refused as such; any other change asks for a retry. The
    /// check and the write are separate statements, so the write is
    /// conditional on the scopes that were checked.
    async fn missing(&self, workspace_id: &str, id: &str, creator: &Creator) -> ApiKeyError {
        match self.find_for(workspace_id, id, creator).await {
            Err(e) => e,
            Ok(_) => ApiKeyError::Changed(id.to_owned()),
        }
    }

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
            "scopes": k.scopes.split(' ').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
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

#[async_trait::async_trait]
impl ApiKeyAuthenticator for ApiKeys {
    async fn authenticate(&self, key: &str) -> Result<Principal, Rejection> {
        let record = self.verify(key).await.map_err(|e| match e {
            ApiKeyError::Storage(e) => {
                tracing::error!(error = %e, "API key lookup failed");
                Rejection::Unavailable
            }
            other => Rejection::invalid_token(other.to_string()),
        })?;
        Ok(self.principal(&record))
    }
}

impl ApiKeys {
    /// The principal an API key stands for: the key itself, in its
    /// workspace, with its rate limits.
    pub fn principal(&self, record: &ApiKeyRecord) -> Principal {
        let mut p = principal(record);
        p.rate_limit = Some(Arc::new(RateLimitBudget {
            bucket: record.id.clone(),
            limits: self.limits_of(record),
        }));
        p
    }

    /// Uses `limits` as the per-type defaults (the operator's configuration).
    pub fn with_limits(mut self, limits: ApiKeyLimits) -> Self {
        self.limits = limits;
        self
    }
}

fn principal(record: &ApiKeyRecord) -> Principal {
    Principal {
        subject: record.id.clone(),
        client_id: record.prefix.clone(),
        workspace_id: Some(record.workspace_id.clone()),
        user_id: None,
        scopes: ScopeSet::parse(&record.scopes).unwrap_or_default(),
        kind: CredentialKind::ApiKey,
        jti: None,
        expires_at: record.expires_at,
        issued_at: Some(record.created_at),
        legacy_messages: None,
        rate_limit: None,
    }
}
