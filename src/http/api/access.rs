//! Who a `/v1` caller is: the checks every management call makes on its
//! credential.

use super::{ADMIN_SCOPE, ApiError};
use crate::domain::audit::{Actor, AuditContext, Origin};
use crate::verifier::{CredentialKind, Principal, Rejection};

/// Who acts: the user, when a person authorized the token (a third-party
/// integration acting for them), else the client itself.
pub fn audit_context(principal: &Principal, origin: Origin) -> AuditContext {
    AuditContext {
        actor: match &principal.user_id {
            Some(user) => Actor::user(user),
            None => Actor::client(&principal.client_id),
        },
        origin,
    }
}

/// Access tokens of the workspace itself, with `workspace:admin`. Another
/// workspace's token gets 404 whatever its scopes.
pub fn authorize(principal: &Principal, workspace_id: &str) -> Result<(), ApiError> {
    require_token(principal)?;
    if principal.workspace_id.as_deref() != Some(workspace_id) {
        return Err(ApiError::NotFound);
    }
    principal.require_scope(ADMIN_SCOPE)?;
    Ok(())
}

fn require_token(principal: &Principal) -> Result<(), ApiError> {
    if principal.kind != CredentialKind::AccessToken {
        return Err(Rejection::missing_bearer().into());
    }
    Ok(())
}
