//! The device authorization grant's person-facing side (RFC 8628 §3.1–3.3):
//! a client starts an authorization and gets its codes; a signed-in person
//! finds it by the user code on `/device` and allows or denies it. The
//! client's polling is [`crate::service::tokens`]'s.

use serde_json::json;

use crate::app::App;
use crate::domain::audit::{Actor, AuditEntry, AuditEvent, Origin};
use crate::domain::authorize_request::requested_scope;
use crate::domain::device_code::{
    DEFAULT_EXPIRES_IN, DEFAULT_INTERVAL, DeviceApproval, DeviceCodeRecord, DeviceCodeState,
    UserCode,
};
use crate::domain::scope::ScopeSet;
use crate::domain::secret::PlainSecret;
use crate::service::authorization::ConsentError;
use crate::service::clients::AuthenticatedClient;
use crate::service::sessions::SignedIn;
use crate::service::{During, StoreFailure};
use crate::storage::{ClientRecord, DeviceDecision, Membership, OAuthClientRecord, StorageError};

/// What the client is told (RFC 8628 §3.2); the codes are shown once.
#[derive(Debug)]
pub struct StartedDevice {
    pub device_code: PlainSecret,
    pub user_code: UserCode,
    pub expires_in: i64,
    pub interval: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// RFC 6749 §5.2 `unauthorized_client`.
    #[error("this client may not use the device authorization grant")]
    UnauthorizedClient,
    /// RFC 6749 §5.2 `invalid_scope`.
    #[error("{0}")]
    InvalidScope(String),
    /// RFC 8707 §2 `invalid_target`.
    #[error("{0}")]
    InvalidTarget(String),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

/// A pending authorization as the person sees it before deciding.
#[derive(Debug)]
pub struct PendingDevice {
    pub user_code: UserCode,
    pub record: DeviceCodeRecord,
    pub client: ClientRecord,
    pub oauth: OAuthClientRecord,
}

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// Not a code, unknown, decided already or expired: one answer for all,
    /// so that a guess learns nothing (RFC 8628 §5.1).
    #[error("that code is not valid, or it has expired")]
    InvalidCode,
    /// The workspace named is not one of the person's.
    #[error("choose one of your workspaces")]
    NoWorkspace,
    #[error(transparent)]
    Consent(#[from] ConsentError),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

pub struct DeviceAuthorizations<'a> {
    app: &'a App,
}

impl<'a> DeviceAuthorizations<'a> {
    pub fn new(app: &'a App) -> Self {
        Self { app }
    }

    /// RFC 8628 §3.1–3.2: stores a new authorization for `client` and
    /// answers its codes. Both are stored as keyed hashes; a user code
    /// already in use is drawn again.
    pub async fn start(
        &self,
        client: &AuthenticatedClient,
        scope: Option<ScopeSet>,
        resources: Vec<String>,
    ) -> Result<StartedDevice, StartError> {
        let oauth = self
            .app
            .tokens()
            .device_client(client)
            .await?
            .ok_or(StartError::UnauthorizedClient)?;
        let scope = requested_scope(scope.unwrap_or_default(), &oauth, &self.app.settings.scopes)
            .map_err(StartError::InvalidScope)?;
        self.app
            .settings
            .resources
            .audience(&resources)
            .map_err(|e| StartError::InvalidTarget(e.to_string()))?;
        let hasher = self.app.clients.hasher();
        let now = self.app.clock.now();
        for _ in 0..3 {
            let device_code = PlainSecret::generate("");
            let user_code = UserCode::generate();
            let record = DeviceCodeRecord {
                device_code_hash: hasher.hash(&device_code),
                user_code_hash: hasher.hash_str(user_code.expose()),
                family_id: uuid::Uuid::new_v4().to_string(),
                client_id: oauth.client_id.clone(),
                scope: scope.clone(),
                resources: resources.clone(),
                created_at: now,
                expires_at: now + DEFAULT_EXPIRES_IN,
                interval: DEFAULT_INTERVAL,
                last_polled_at: None,
                state: DeviceCodeState::Pending,
                approval: None,
            };
            match self.app.store.insert_device_code(&record).await {
                Ok(()) => {
                    return Ok(StartedDevice {
                        device_code,
                        user_code,
                        expires_in: DEFAULT_EXPIRES_IN,
                        interval: DEFAULT_INTERVAL,
                    });
                }
                Err(StorageError::Conflict) => continue,
                Err(e) => return Err(StoreFailure::new("store a device code", e).into()),
            }
        }
        let taken = StorageError::Conflict;
        Err(StoreFailure::new("draw an unused user code", taken).into())
    }

    /// The pending, unexpired authorization a person's typed code names.
    pub async fn find(&self, typed: &str) -> Result<PendingDevice, DecideError> {
        let user_code = UserCode::parse(typed).ok_or(DecideError::InvalidCode)?;
        let hash = self.app.clients.hasher().hash_str(user_code.expose());
        let record = self
            .app
            .store
            .device_code_by_user_code(&hash)
            .await
            .during("read the device authorization")?
            .filter(|r| r.state == DeviceCodeState::Pending && self.app.clock.now() < r.expires_at)
            .ok_or(DecideError::InvalidCode)?;
        let (client, oauth) = self
            .app
            .authorizations()
            .client(&record.client_id)
            .await?
            .ok_or(DecideError::InvalidCode)?;
        Ok(PendingDevice {
            user_code,
            record,
            client,
            oauth,
        })
    }

    /// RFC 8628 §3.3: the person's decision. Allowing records their
    /// consent in the workspace chosen (remembered, and listed among their
    /// connected apps, as for the code flow) with what their role grants.
    pub async fn decide(
        &self,
        pending: &PendingDevice,
        signed_in: &SignedIn,
        workspace: Option<&Membership>,
        origin: Origin,
    ) -> Result<(), DecideError> {
        let user_id = &signed_in.user.id;
        let now = self.app.clock.now();
        let client_id = &pending.record.client_id;
        let decided = match workspace {
            Some(m) => {
                let given = self
                    .app
                    .authorizations()
                    .consent_to(user_id, client_id, &pending.record.scope, m, origin.clone())
                    .await?;
                let audit =
                    AuditEntry::new(AuditEvent::DeviceAuthorized, Actor::user(user_id), now)
                        .workspace(&m.workspace_id)
                        .origin(origin)
                        .details(json!({"clientId": client_id, "scope": given.scope.to_string()}));
                let approval = DeviceApproval {
                    user_id: user_id.clone(),
                    workspace_id: m.workspace_id.clone(),
                    scope: given.scope.clone(),
                    auth_time: signed_in.session.auth_time,
                };
                let decision = DeviceDecision::Allow {
                    approval: &approval,
                    consent: &given.record,
                    consent_audit: &given.audit,
                };
                self.record_decision(pending, decision, &audit).await?
            }
            None => {
                let audit = AuditEntry::new(AuditEvent::DeviceDenied, Actor::user(user_id), now)
                    .origin(origin)
                    .details(json!({"clientId": client_id}));
                self.record_decision(pending, DeviceDecision::Deny, &audit)
                    .await?
            }
        };
        if !decided {
            return Err(DecideError::InvalidCode);
        }
        Ok(())
    }
}

impl DeviceAuthorizations<'_> {
    /// Decides and, when allowed, records the consent, in one transaction.
    async fn record_decision(
        &self,
        pending: &PendingDevice,
        decision: DeviceDecision<'_>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreFailure> {
        let now = self.app.clock.now();
        self.app
            .store
            .decide_device_code(&pending.record.user_code_hash, decision, now, audit)
            .await
            .during("record the decision on a device authorization")
    }
}

impl App {
    /// The device authorization grant's use cases, on this node.
    pub fn devices(&self) -> DeviceAuthorizations<'_> {
        DeviceAuthorizations::new(self)
    }
}
