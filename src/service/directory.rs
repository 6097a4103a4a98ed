//! Finding things by the names people use: a workspace by id or unique
//! name, a user by id or email, and the listings operators read (users
//! with their memberships, workspaces with their application keys,
//! registered clients). The CLI reads through these, as the console will.

use crate::domain::user::normalize_email;
use crate::domain::workspace::Workspace;
use crate::service::{During, StoreFailure};
use crate::storage::{ClientKind, ClientRecord, Store};
use crate::storage::{Membership, OAuthClientRecord, UserRecord};

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("no workspace has the id or name {0:?}; `keyflow workspace list` shows them")]
    NoWorkspace(String),
    #[error("{} workspaces are named {name:?}; name one by its id ({})", ids.len(), ids.join(", "))]
    AmbiguousWorkspace { name: String, ids: Vec<String> },
    #[error("no user has the id or email {0:?}; `keyflow user list` shows them")]
    NoUser(String),
    #[error("no third-party client {0:?}; `keyflow client list` shows them")]
    NoClient(String),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

/// A workspace named by its id or, when no id matches, by its name if
/// exactly one workspace has it.
pub async fn workspace(store: &dyn Store, given: &str) -> Result<Workspace, LookupError> {
    if let Some(ws) = store
        .get_workspace(given)
        .await
        .during("read the workspace")?
    {
        return Ok(ws);
    }
    let mut named: Vec<Workspace> = store
        .list_workspaces()
        .await
        .during("list the workspaces")?
        .into_iter()
        .filter(|w| w.name == given)
        .collect();
    match named.len() {
        1 => Ok(named.remove(0)),
        0 => Err(LookupError::NoWorkspace(given.to_owned())),
        _ => Err(LookupError::AmbiguousWorkspace {
            name: given.to_owned(),
            ids: named.into_iter().map(|w| w.id).collect(),
        }),
    }
}

/// A user named by id (`usr_…`) or by email address.
pub async fn user(store: &dyn Store, given: &str) -> Result<UserRecord, LookupError> {
    let found = match normalize_email(given) {
        Some(email) => store.user_by_email(&email).await,
        None => store.user_by_id(given).await,
    };
    found
        .during("read the user")?
        .ok_or_else(|| LookupError::NoUser(given.to_owned()))
}

/// Every user with the workspaces they belong to, oldest first.
pub async fn users(store: &dyn Store) -> Result<Vec<(UserRecord, Vec<Membership>)>, LookupError> {
    let mut out = Vec::new();
    for u in store.list_users().await.during("list the users")? {
        let memberships = store
            .memberships(&u.id)
            .await
            .during("read the memberships")?;
        out.push((u, memberships));
    }
    Ok(out)
}

/// Every workspace with its application client (none only if the data is
/// damaged), oldest first.
pub async fn workspaces(
    store: &dyn Store,
) -> Result<Vec<(Workspace, Option<ClientRecord>)>, LookupError> {
    let mut out = Vec::new();
    for ws in store
        .list_workspaces()
        .await
        .during("list the workspaces")?
    {
        let app = store
            .application_client(&ws.id)
            .await
            .during("read the application client")?;
        out.push((ws, app));
    }
    Ok(out)
}

/// Every client of `kind`, oldest first.
pub async fn clients(
    store: &dyn Store,
    kind: ClientKind,
) -> Result<Vec<ClientRecord>, LookupError> {
    Ok(store.list_clients(kind).await.during("list the clients")?)
}

/// A third-party client and what the operator registered for it.
pub async fn third_party_client(
    store: &dyn Store,
    client_id: &str,
) -> Result<(ClientRecord, OAuthClientRecord), LookupError> {
    store
        .oauth_client(client_id)
        .await
        .during("read the client")?
        .ok_or_else(|| LookupError::NoClient(client_id.to_owned()))
}
