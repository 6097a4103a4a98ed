//! `ApiError`: every refusal of `/v1` as `{"error", "error_description"}`
//! (RFC 6750 challenges for credentials), and the one mapping of each
//! service's errors onto it.

use crate::service::api_keys::ApiKeyError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::StoreFailure;
use crate::service::accounts::AccountError;
use crate::service::directory::LookupError;
use crate::service::members::MemberError;
use crate::service::workspaces::{MAX_GRACE_SECONDS, WorkspaceError};
use crate::verifier::Rejection;

#[derive(Debug)]
pub enum ApiError {
    Auth(Rejection),
    /// Also the answer for another workspace's id, so ids cannot be probed.
    NotFound,
    /// No such API key in the workspace (nor another workspace's key).
    ApiKeyNotFound,
    /// No such member, invitation or client: the description says which.
    NoSuch(String),
    BadRequest(String),
    /// The credential is good and has the scope, but the person (or
    /// application) it acts for may not do this: a role too low, or not a
    /// platform administrator.
    Forbidden(String),
    /// RFC 9110 §15.5.10: the request conflicts with the resource's state,
    /// such as revoking a key that is revoked already.
    Conflict(String),
    Unavailable,
}

/// The body of every error `/v1` answers with.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "forbidden", "error_description": "your role in this workspace does not allow that: it needs an owner"}))]
pub struct ErrorBody {
    /// `invalid_request`, `not_found`, `forbidden`, `conflict`,
    /// `temporarily_unavailable`, or an RFC 6750 code (`invalid_token`,
    /// `insufficient_scope`).
    pub error: &'static str,
    pub error_description: String,
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        ApiError::Auth(r)
    }
}

impl From<StoreFailure> for ApiError {
    fn from(f: StoreFailure) -> Self {
        f.log();
        ApiError::Unavailable
    }
}

impl From<WorkspaceError> for ApiError {
    fn from(e: WorkspaceError) -> Self {
        match e {
            WorkspaceError::NotFound => ApiError::NotFound,
            WorkspaceError::InvalidGrace => ApiError::BadRequest(format!(
                "gracePeriodSeconds must be 0 to {MAX_GRACE_SECONDS}"
            )),
            e @ WorkspaceError::NoSuchClient(_) => ApiError::NoSuch(e.to_string()),
            WorkspaceError::ApplicationClient(id) => ApiError::BadRequest(format!(
                "{id} is a workspace's application key: regenerate its secret with \
                 POST /v1/workspace/{{workspace_id}}/application-token/regenerate"
            )),
            WorkspaceError::Store(f) => f.into(),
            e @ (WorkspaceError::InvalidName | WorkspaceError::PublicClient(_)) => {
                ApiError::BadRequest(e.to_string())
            }
        }
    }
}

impl From<MemberError> for ApiError {
    fn from(e: MemberError) -> Self {
        match e {
            MemberError::NoSuchWorkspace => ApiError::NotFound,
            e @ MemberError::Forbidden { .. } => ApiError::Forbidden(e.to_string()),
            e @ MemberError::InvalidEmail => ApiError::BadRequest(format!("email: {e}")),
            e @ (MemberError::AlreadyMember(_) | MemberError::LastOwner) => {
                ApiError::Conflict(e.to_string())
            }
            e @ (MemberError::NoSuchMember | MemberError::NoSuchInvitation) => {
                ApiError::NoSuch(e.to_string())
            }
            MemberError::Store(f) => f.into(),
        }
    }
}

/// Registering a third-party client: every refusal is the request's fault
/// except storage.
impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Storage(s) => StoreFailure::new("register the client", s).into(),
            AccountError::NoRedirectUri => {
                ApiError::BadRequest("redirectUris must name at least one URI".into())
            }
            e @ (AccountError::NoSuchClient(_) | AccountError::NoSuchResourceServer(_)) => {
                ApiError::NoSuch(e.to_string())
            }
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

impl From<LookupError> for ApiError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::Store(f) => f.into(),
            other => ApiError::NoSuch(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error, description) = match self {
            ApiError::Auth(r) => return r.into_response(),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "no such workspace".to_owned(),
            ),
            ApiError::ApiKeyNotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "no such API key".to_owned(),
            ),
            ApiError::NoSuch(d) => (StatusCode::NOT_FOUND, "not_found", d),
            ApiError::BadRequest(d) => (StatusCode::BAD_REQUEST, "invalid_request", d),
            ApiError::Forbidden(d) => (StatusCode::FORBIDDEN, "forbidden", d),
            ApiError::Conflict(d) => (StatusCode::CONFLICT, "conflict", d),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the server cannot serve this request right now; retry shortly".to_owned(),
            ),
        };
        let body = ErrorBody {
            error,
            error_description: description,
        };
        (status, axum::Json(body)).into_response()
    }
}

impl From<ApiKeyError> for ApiError {
    fn from(e: ApiKeyError) -> Self {
        match e {
            ApiKeyError::NotFound => ApiError::ApiKeyNotFound,
            e @ (ApiKeyError::Revoked { .. }
            | ApiKeyError::AlreadyRevoked { .. }
            | ApiKeyError::Changed(_)) => ApiError::Conflict(e.to_string()),
            ApiKeyError::Invalid(d) => ApiError::BadRequest(d),
            ApiKeyError::Forbidden { scope, description } => {
                Rejection::lacks_scope(&scope, description).into()
            }
            ApiKeyError::Store(f) => f.into(),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}
