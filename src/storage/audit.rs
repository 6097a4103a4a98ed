//! The audit log: append-only, filtered and paged on read.

use async_trait::async_trait;

use crate::domain::audit::{AuditEntry, AuditQuery, AuditRecord};

use super::Result;

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<()>;

    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>>;
}
