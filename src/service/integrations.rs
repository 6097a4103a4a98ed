//! Operator actions on clients that belong to no workspace: registering,
//! changing and deleting third-party integrations, and deleting resource
//! servers. The CLI calls these; they hold the rules, the store holds the
//! rows.

use crate::app::App;
use crate::clock::UnixTime;
use crate::crypto::signing::Algorithm;
use crate::domain::audit::{AuditContext, AuditEvent};
use crate::domain::redirect_uri;
use crate::domain::scope::{ScopeCatalogue, ScopeSet};
use crate::domain::secret::{PlainSecret, SecretHasher, random_base62};
use crate::domain::workspace::new_secret_key;
use crate::service::accounts::AccountError;
use crate::service::directory::{self, LookupError};
use crate::storage::OAuthClientRecord;
use crate::storage::{ClientKind, ClientRecord, NewSecret, Store};

pub const CLIENT_ID_PREFIX: &str = "cli_";
/// Scopes a client gets when the operator names none.
pub const DEFAULT_CLIENT_SCOPES: &str = "openid profile email offline_access api:read api:write";

#[derive(Debug)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub scopes: Vec<String>,
    pub logo_uri: Option<String>,
    pub id_token_alg: Algorithm,
    /// RFC 8628: may it use the device grant as well as the authorization
    /// code grant every third-party client has.
    pub device_grant: bool,
}

/// A registered client, with the one-time plaintext of its secret.
#[derive(Debug)]
pub struct CreatedClient {
    pub client_id: String,
    pub secret: Option<PlainSecret>,
}

/// What `update_client` changes; `None` leaves a setting as it is.
#[derive(Debug, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    /// `Some(None)` removes the logo.
    pub logo_uri: Option<Option<String>>,
    pub id_token_alg: Option<Algorithm>,
    /// RFC 8628: `Some(false)` turns device sign-in off.
    pub device_grant: Option<bool>,
}

pub async fn create_client(
    store: &dyn Store,
    hasher: &SecretHasher,
    catalogue: &ScopeCatalogue,
    new: NewClient,
    now: UnixTime,
    ctx: &AuditContext,
) -> Result<CreatedClient, AccountError> {
    let scopes = if new.scopes.is_empty() {
        ScopeSet::parse(DEFAULT_CLIENT_SCOPES).expect("default scopes are valid")
    } else {
        scope_set(&new.scopes)
    };
    let client_id = format!("{CLIENT_ID_PREFIX}{}", random_base62(24));
    let oauth = OAuthClientRecord {
        client_id: client_id.clone(),
        public: new.public,
        redirect_uris: new.redirect_uris,
        post_logout_redirect_uris: new.post_logout_redirect_uris,
        scopes,
        logo_uri: new.logo_uri,
        id_token_alg: new.id_token_alg,
        device_grant: new.device_grant,
    };
    let name = check(catalogue, &new.name, &oauth)?;
    let client = ClientRecord {
        client_id,
        workspace_id: None,
        kind: ClientKind::ThirdParty,
        name: name.to_owned(),
        secret_rotated_at: (!new.public).then_some(now),
        tokens_issued: 0,
        last_used_at: None,
        created_at: now,
        tokens_revoked_before: None,
    };
    let secret = (!new.public).then(new_secret_key);
    let stored = secret.as_ref().map(|s| NewSecret::new(hasher.hash(s)));
    let audit = ctx
        .entry(AuditEvent::ClientCreated, now)
        .details(serde_json::json!({
            "clientId": client.client_id,
            "kind": "third_party",
            "name": name,
            "public": new.public,
            "redirectUris": oauth.redirect_uris,
            "scope": oauth.scopes,
            "grantTypes": oauth.grant_type_names(),
        }));
    store
        .create_oauth_client(&client, &oauth, stored.as_ref(), &audit)
        .await?;
    Ok(CreatedClient {
        client_id: client.client_id,
        secret,
    })
}

/// Changes a third-party client's registration, checked as at creation.
/// Narrowed scopes apply to the grants it already has at their next
/// refresh; redirect URIs apply to the next authorization request.
pub async fn update_client(
    store: &dyn Store,
    catalogue: &ScopeCatalogue,
    client_id: &str,
    changes: ClientChanges,
    now: UnixTime,
    ctx: &AuditContext,
) -> Result<(), AccountError> {
    let missing = || AccountError::NoSuchClient(client_id.to_owned());
    let (client, mut oauth) = store.oauth_client(client_id).await?.ok_or_else(missing)?;
    let name = changes.name.unwrap_or(client.name);
    if let Some(uris) = changes.redirect_uris {
        oauth.redirect_uris = uris;
    }
    if let Some(uris) = changes.post_logout_redirect_uris {
        oauth.post_logout_redirect_uris = uris;
    }
    if let Some(scopes) = changes.scopes {
        oauth.scopes = scope_set(&scopes);
    }
    if let Some(logo) = changes.logo_uri {
        oauth.logo_uri = logo;
    }
    if let Some(alg) = changes.id_token_alg {
        oauth.id_token_alg = alg;
    }
    if let Some(device) = changes.device_grant {
        oauth.device_grant = device;
    }
    let name = check(catalogue, &name, &oauth)?;
    let audit = ctx
        .entry(AuditEvent::ClientUpdated, now)
        .details(serde_json::json!({
            "clientId": client_id,
            "name": name,
            "redirectUris": oauth.redirect_uris,
            "postLogoutRedirectUris": oauth.post_logout_redirect_uris,
            "scope": oauth.scopes,
            "idTokenAlg": oauth.id_token_alg.as_str(),
            "grantTypes": oauth.grant_type_names(),
        }));
    if !store.update_oauth_client(name, &oauth, &audit).await? {
        return Err(missing());
    }
    // Nodes cache registrations under the credentials epoch: a narrowed
    // scope or a withdrawn grant holds everywhere once this returns.
    crate::node::leased_cache::wait_for_propagation().await;
    Ok(())
}

/// Deletes a third-party client or a resource server with its secrets.
/// Every grant made to a third-party client ends with it: consents, refresh
/// tokens, pending codes, and its access tokens, which are denylisted.
/// Returns once no node accepts its secret any more.
pub async fn delete_client(
    store: &dyn Store,
    client_id: &str,
    kind: ClientKind,
    now: UnixTime,
    ctx: &AuditContext,
) -> Result<(), AccountError> {
    let audit = ctx
        .entry(AuditEvent::ClientDeleted, now)
        .details(serde_json::json!({"clientId": client_id, "kind": kind.as_str()}));
    if !store.delete_client(client_id, kind, now, &audit).await? {
        return Err(match kind {
            ClientKind::ResourceServer => AccountError::NoSuchResourceServer(client_id.to_owned()),
            _ => AccountError::NoSuchClient(client_id.to_owned()),
        });
    }
    crate::node::leased_cache::wait_for_propagation().await;
    Ok(())
}

/// Third-party clients as a running server manages them for `/v1`: the
/// functions above, on the node's store, secret hasher, scope catalogue
/// and clock. [`crate::app::App::integrations`] builds one.
pub struct Integrations<'a> {
    app: &'a App,
}

impl<'a> Integrations<'a> {
    pub fn new(app: &'a App) -> Self {
        Self { app }
    }

    /// Every third-party client with its registration, oldest first.
    pub async fn list(&self) -> Result<Vec<(ClientRecord, OAuthClientRecord)>, LookupError> {
        let store = self.app.store.as_ref();
        let mut out = Vec::new();
        for c in directory::clients(store, ClientKind::ThirdParty).await? {
            match directory::third_party_client(store, &c.client_id).await {
                Ok(found) => out.push(found),
                // Deleted between the two reads: it is no longer listed.
                Err(LookupError::NoClient(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    pub async fn create(
        &self,
        new: NewClient,
        ctx: &AuditContext,
    ) -> Result<CreatedClient, AccountError> {
        let app = self.app;
        create_client(
            app.store.as_ref(),
            app.clients.hasher(),
            &app.settings.scopes,
            new,
            app.clock.now(),
            ctx,
        )
        .await
    }
}

fn scope_set(given: &[String]) -> ScopeSet {
    given
        .iter()
        .flat_map(|s| s.split(' '))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The registration rules, the same at creation and on every change;
/// returns the checked name.
fn check<'a>(
    catalogue: &ScopeCatalogue,
    name: &'a str,
    oauth: &OAuthClientRecord,
) -> Result<&'a str, AccountError> {
    let name = crate::domain::label(name).ok_or(AccountError::InvalidName)?;
    if oauth.redirect_uris.is_empty() {
        return Err(AccountError::NoRedirectUri);
    }
    for uri in &oauth.redirect_uris {
        redirect_uri::validate(uri)?;
    }
    for uri in &oauth.post_logout_redirect_uris {
        redirect_uri::validate(uri).map_err(AccountError::PostLogoutUri)?;
    }
    // A malformed scope-token is in no catalogue, so it is refused here too.
    if let Some(unknown) = oauth.scopes.iter().find(|s| catalogue.get(s).is_none()) {
        return Err(AccountError::UnknownScope(unknown.to_owned()));
    }
    if let Some(logo) = &oauth.logo_uri
        && !url::Url::parse(logo).is_ok_and(|u| u.scheme() == "https")
    {
        return Err(AccountError::InvalidLogo);
    }
    Ok(name)
}
