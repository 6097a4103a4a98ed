//! The hot path: a presented key checked with one hash and one cache
//! lookup, its use counted in memory and written in batches.

use super::*;

impl ApiKeys {
    pub async fn verify(&self, presented: &str) -> Result<Arc<ApiKeyRecord>, ApiKeyError> {
        let parsed = api_key::parse(presented)?;
        let prefix = parsed.display_prefix;
        let record = self
            .cache
            .get_or_load(prefix, || self.store.api_key_by_prefix(prefix))
            .await
            .during("look up the API key")?
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
}

#[async_trait::async_trait]
impl ApiKeyAuthenticator for ApiKeys {
    async fn authenticate(&self, key: &str) -> Result<Principal, Rejection> {
        let record = self.verify(key).await.map_err(|e| match e {
            ApiKeyError::Store(f) => {
                f.log();
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
        scopes: record.scopes.clone(),
        kind: CredentialKind::ApiKey,
        jti: None,
        expires_at: record.expires_at,
        issued_at: Some(record.created_at),
        legacy_messages: None,
        rate_limit: None,
    }
}
