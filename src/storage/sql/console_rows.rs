//! Rows of members, invitations and one-time links, and their conversion
//! into records; data that cannot be valid becomes
//! [`StorageError::Corrupt`].

use crate::domain::invitation::{InvitationRecord, PendingInvitation};
use crate::domain::one_time_link::{LinkPurpose, OneTimeLink};
use crate::domain::user::Role;
use crate::domain::user_record::Member;
use crate::storage::{Result, StorageError};

use super::hash;

fn role(s: &str) -> Result<Role> {
    s.parse().map_err(StorageError::Corrupt)
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct MemberRow {
    user_id: String,
    email: String,
    name: Option<String>,
    role: String,
    joined_at: i64,
}

pub(in crate::storage) fn member(row: MemberRow) -> Result<Member> {
    Ok(Member {
        role: role(&row.role)?,
        user_id: row.user_id,
        email: row.email,
        name: row.name,
        joined_at: row.joined_at,
    })
}

/// `SELECT <invitation columns> FROM invitations WHERE <condition>`.
macro_rules! select_invitations {
    ($condition:literal) => {
        concat!(
            "SELECT id, token_hash, workspace_id, email, role, invited_by, created_at, expires_at, \
             accepted_at, revoked_at FROM invitations WHERE ",
            $condition
        )
    };
}
pub(in crate::storage) use select_invitations;

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct InvitationRow {
    id: String,
    token_hash: Vec<u8>,
    workspace_id: String,
    email: String,
    role: String,
    invited_by: Option<String>,
    created_at: i64,
    expires_at: i64,
    accepted_at: Option<i64>,
    revoked_at: Option<i64>,
}

pub(in crate::storage) fn invitation(row: InvitationRow) -> Result<InvitationRecord> {
    Ok(InvitationRecord {
        token_hash: hash(&row.token_hash, "invitation")?,
        role: role(&row.role)?,
        id: row.id,
        workspace_id: row.workspace_id,
        email: row.email,
        invited_by: row.invited_by,
        created_at: row.created_at,
        expires_at: row.expires_at,
        accepted_at: row.accepted_at,
        revoked_at: row.revoked_at,
    })
}

pub(in crate::storage) fn pending_invitation(row: InvitationRow) -> Result<PendingInvitation> {
    let i = invitation(row)?;
    Ok(PendingInvitation {
        id: i.id,
        email: i.email,
        role: i.role,
        created_at: i.created_at,
        expires_at: i.expires_at,
    })
}

#[derive(sqlx::FromRow)]
pub(in crate::storage) struct LinkRow {
    token_hash: Vec<u8>,
    purpose: String,
    user_id: Option<String>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

pub(in crate::storage) fn link(row: LinkRow) -> Result<OneTimeLink> {
    Ok(OneTimeLink {
        token_hash: hash(&row.token_hash, "link")?,
        purpose: LinkPurpose::parse(&row.purpose)
            .ok_or_else(|| StorageError::Corrupt(format!("link purpose {:?}", row.purpose)))?,
        user_id: row.user_id,
        created_at: row.created_at,
        expires_at: row.expires_at,
        used_at: row.used_at,
    })
}
