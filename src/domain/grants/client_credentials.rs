//! The client_credentials grant (RFC 6749 §4.4): a workspace's application
//! token acts for the workspace itself.

use crate::domain::access_token::Grant;
use crate::domain::client::{ClientKind, ClientRecord};
use crate::domain::resource::{ResourceError, ResourcePolicy};
use crate::domain::scope::{ScopeCatalogue, ScopeError, ScopeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentialsRequest {
    /// `None` when the request has no `scope`: the client's defaults apply
    /// (RFC 6749 §3.3).
    pub scope: Option<ScopeSet>,
    /// RFC 8707 resource indicators.
    pub resources: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClientCredentialsError {
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Resource(#[from] ResourceError),
    #[error("this client may not use the client_credentials grant")]
    UnauthorizedClient,
}

pub fn decide(
    client: &ClientRecord,
    request: ClientCredentialsRequest,
    scopes: &ScopeCatalogue,
    resources: &ResourcePolicy,
) -> Result<Grant, ClientCredentialsError> {
    if client.kind != ClientKind::Application {
        return Err(ClientCredentialsError::UnauthorizedClient);
    }
    let Some(workspace_id) = client.workspace_id.clone() else {
        return Err(ClientCredentialsError::UnauthorizedClient);
    };
    let scope = match request.scope {
        Some(s) => {
            scopes.check_for_application(&s)?;
            s
        }
        None => scopes.application_defaults(),
    };
    Ok(Grant {
        subject: client.client_id.clone(),
        client_id: client.client_id.clone(),
        workspace_id: Some(workspace_id),
        scope,
        audience: resources.audience(&request.resources)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> ClientRecord {
        ClientRecord {
            client_id: "app_1".into(),
            workspace_id: Some("ws".into()),
            kind: ClientKind::Application,
            name: "demo".into(),
            secret_rotated_at: None,
            tokens_issued: 0,
            last_used_at: None,
            created_at: 0,
            tokens_revoked_before: None,
        }
    }

    fn policy() -> ResourcePolicy {
        ResourcePolicy::new("https://as/v1".into(), ["https://reports".to_string()])
    }

    #[test]
    fn no_scope_means_the_default_scopes() {
        let req = ClientCredentialsRequest {
            scope: None,
            resources: vec![],
        };
        let g = decide(&client(), req, &ScopeCatalogue::default(), &policy()).unwrap();
        assert_eq!(g.scope.to_string(), "api:read api:write");
        assert_eq!(g.subject, "app_1");
        assert_eq!(g.workspace_id.as_deref(), Some("ws"));
        assert_eq!(g.audience, vec!["https://as/v1"]);
    }

    #[test]
    fn requested_scopes_and_resources_are_checked() {
        let req = |scope: &str, res: &[&str]| ClientCredentialsRequest {
            scope: Some(ScopeSet::parse(scope).unwrap()),
            resources: res.iter().map(|s| s.to_string()).collect(),
        };
        let cat = ScopeCatalogue::default();
        let g = decide(
            &client(),
            req("workspace:admin", &["https://reports"]),
            &cat,
            &policy(),
        )
        .unwrap();
        assert_eq!(g.scope.to_string(), "workspace:admin");
        assert_eq!(g.audience, vec!["https://reports"]);
        assert!(matches!(
            decide(&client(), req("openid", &[]), &cat, &policy()),
            Err(ClientCredentialsError::Scope(ScopeError::NotAllowed(_)))
        ));
        assert!(matches!(
            decide(
                &client(),
                req("api:read", &["https://other"]),
                &cat,
                &policy()
            ),
            Err(ClientCredentialsError::Resource(ResourceError::Unknown(_)))
        ));
    }
}
