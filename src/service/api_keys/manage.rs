//! Creating, changing, rolling and revoking keys, each within the rights
//! of the credential that asks.

use super::*;

impl ApiKeys {
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
        // Unreadable stored scopes failed the read as corrupt, so they
        // never read as "none to hold".
        api_key::may_act_on(&creator.scopes, &key.scopes).map_err(|s| ApiKeyError::Forbidden {
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
            scopes: new.scopes.clone(),
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
                Ok(true) => {
                    self.changed();
                    return Ok(CreatedKey { key, record });
                }
                Ok(false) => {
                    let old = rolled_from.map_or(record.id.as_str(), |r| r.0);
                    return Err(self.missing(&record.workspace_id, old, creator).await);
                }
                Err(StorageError::Conflict) => continue,
                Err(e) => return Err(StoreFailure::new("store the API key", e).into()),
            }
        }
        Err(StoreFailure::new("store the API key", StorageError::Conflict).into())
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
            .update_api_key(
                workspace_id,
                id,
                &current.scopes.to_string(),
                &changes,
                &audit,
            )
            .await
            .during("change the API key")?
        {
            Some(k) => {
                self.changed();
                Ok(k)
            }
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
            .revoke_api_key(workspace_id, id, &key.scopes.to_string(), &audit)
            .await
            .during("revoke the API key")?
        {
            let why = self.missing(workspace_id, id, creator).await;
            return Err(already_revoked(why));
        }
        self.changed();
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
        Ok(self
            .store
            .list_api_keys(workspace_id, prefix)
            .await
            .during("list the API keys")?)
    }

    /// The workspace's key `id`, revoked or not; another workspace's key is
    /// not found.
    pub async fn get(&self, workspace_id: &str, id: &str) -> Result<ApiKeyRecord, ApiKeyError> {
        self.store
            .api_key(workspace_id, id)
            .await
            .during("read the API key")?
            .ok_or(ApiKeyError::NotFound)
    }

    /// One page of the workspace's keys that match `q`, and how many match.
    pub async fn page(
        &self,
        workspace_id: &str,
        q: &crate::storage::KeyListQuery,
    ) -> Result<(Vec<ApiKeyRecord>, u64), ApiKeyError> {
        Ok(self
            .store
            .api_key_page(workspace_id, q)
            .await
            .during("list the API keys")?)
    }

    /// The workspace's key `id`, unless it is revoked. Another workspace's
    /// key is not found, like one that never existed.
    async fn find(&self, workspace_id: &str, id: &str) -> Result<ApiKeyRecord, ApiKeyError> {
        let key = self.get(workspace_id, id).await?;
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
}
