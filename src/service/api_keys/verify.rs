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
        let now = self.clock.now();
        if !record.hash.matches(&self.hasher.hash_str(presented)) {
            // A known prefix with the wrong rest: counted against the key
            // whose prefix it carries.
            self.usage.record(&record.id, Outcome::Invalid, now);
            return Err(ApiKeyError::Unknown);
        }
        let status = status(&record, now);
        let outcome = match status {
            ApiKeyStatus::Active => Outcome::Success,
            ApiKeyStatus::Expired => Outcome::Expired,
            ApiKeyStatus::Deactivated | ApiKeyStatus::Revoked => Outcome::Disabled,
        };
        self.usage.record(&record.id, outcome, now);
        match status {
            ApiKeyStatus::Active => Ok(record),
            other => Err(ApiKeyError::NotActive(other)),
        }
    }

    /// A request with the valid key `id` that was refused later: for want
    /// of a scope, or by the key's rate limit. Its verification counted as
    /// a success; the request now counts as `outcome` instead.
    pub fn record_refusal(&self, id: &str, outcome: Outcome) {
        self.usage.reclassify(id, outcome, self.clock.now());
    }

    /// Writes gathered usage; on failure it is kept for the next flush.
    pub async fn flush_usage(&self) -> Result<(), StorageError> {
        let batch = self.usage.take();
        if batch.is_empty() {
            return Ok(());
        }
        let totals: Vec<ApiKeyUsage> = batch
            .iter()
            .filter_map(|(id, p)| {
                Some(ApiKeyUsage {
                    id: id.clone(),
                    uses: p.successes,
                    last_used_at: p.last_success?,
                })
            })
            .collect();
        if let Err(e) = self
            .store
            .record_api_key_usage(&totals, &daily_rows(&batch))
            .await
        {
            self.usage.put_back(batch);
            return Err(e);
        }
        // This node's overviews now trail the database.
        self.changed();
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

    fn refused(&self, subject: &str, outcome: Outcome) {
        self.record_refusal(subject, outcome);
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
        refusals: None,
        rate_limit: None,
    }
}
