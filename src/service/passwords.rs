//! Password resets: a link a platform admin creates for a user, or one a
//! person asks for by email ("Forgot your password?", only when SMTP is
//! configured). A link works once, for an hour; only its hash is stored;
//! using it sets the password and signs the user out everywhere.

use serde_json::json;

use crate::app::App;
use crate::domain::audit::{Actor, AuditContext, AuditEntry, AuditEvent, Origin};
use crate::domain::one_time_link::{LinkPurpose, OneTimeLink};
use crate::domain::secret::PlainSecret;
use crate::domain::user::{PasswordError, normalize_email};
use crate::mail::messages;
use crate::node::rate_limit::Category;
use crate::service::notify::{self, Delivery};
use crate::service::sessions::{SignInError, SignedIn};
use crate::service::{During, StoreFailure};
use crate::storage::LinkUse;

pub const RESET_PATH: &str = "/reset-password";

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("no such user")]
    NoSuchUser,
    #[error("this link has been used or has expired")]
    LinkUnusable,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("too many failed attempts")]
    Throttled(u64),
    #[error(transparent)]
    Password(#[from] crate::domain::user::PasswordError),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

/// A new reset link, shown to the admin who made it and emailed when SMTP
/// is configured.
#[derive(Debug)]
pub struct ResetLink {
    pub url: String,
    pub email: String,
    pub delivery: Delivery,
}

pub struct Passwords<'a> {
    app: &'a App,
}

impl<'a> Passwords<'a> {
    pub fn new(app: &'a App) -> Self {
        Self { app }
    }

    /// A platform admin's reset link for `user_id`.
    pub async fn reset_link(
        &self,
        user_id: &str,
        ctx: &AuditContext,
    ) -> Result<ResetLink, ResetError> {
        let user = self
            .app
            .store
            .user_by_id(user_id)
            .await
            .during("read the user")?
            .ok_or(ResetError::NoSuchUser)?;
        let (url, delivery) = self.issue(&user.id, &user.email, ctx).await?;
        Ok(ResetLink {
            url,
            email: user.email,
            delivery,
        })
    }

    /// "Forgot your password?": emails a link when the address has an
    /// account and SMTP is configured. The answer is the same either way,
    /// so the form tells nobody which addresses have accounts.
    pub async fn request_by_email(&self, email: &str, origin: Origin) -> Result<(), StoreFailure> {
        if self.app.settings.mail.is_none() {
            return Ok(());
        }
        let Some(email) = normalize_email(email) else {
            return Ok(());
        };
        if !self.may_email(&email, origin.ip.as_deref()).await {
            return Ok(());
        }
        let Some(user) = self
            .app
            .store
            .user_by_email(&email)
            .await
            .during("read the user")?
            .filter(|u| u.disabled_at.is_none())
        else {
            return Ok(());
        };
        let ctx = AuditContext {
            actor: Actor::user(&user.id),
            origin,
        };
        self.issue(&user.id, &user.email, &ctx).await?;
        Ok(())
    }

    /// At most one reset email a minute per address and ten per client
    /// address, so the form cannot flood a mailbox or the relay. The
    /// limiter is this node's, as the token endpoint's is.
    async fn may_email(&self, email: &str, ip: Option<&str>) -> bool {
        let app = self.app;
        let now = app.clock.now_us();
        let mut buckets = vec![(format!("reset-email:{email}"), 1)];
        if let Some(ip) = ip {
            buckets.push((format!("reset-ip:{ip}"), 10));
        }
        for (bucket, limit) in buckets {
            match app
                .token_limiter
                .check(&bucket, Category::Write, limit, now)
                .await
            {
                Ok(d) if d.allowed => {}
                Ok(_) => return false,
                Err(e) => {
                    tracing::warn!(error = %e, "reset-email limiter failed");
                    return false;
                }
            }
        }
        true
    }

    async fn issue(
        &self,
        user_id: &str,
        email: &str,
        ctx: &AuditContext,
    ) -> Result<(String, Delivery), StoreFailure> {
        let now = self.app.clock.now();
        let token = PlainSecret::generate("");
        let link = OneTimeLink::issue(
            self.app.clients.hasher().hash(&token),
            LinkPurpose::PasswordReset,
            Some(user_id.to_owned()),
            now,
        );
        let audit = ctx
            .entry(AuditEvent::PasswordResetLinkCreated, now)
            .details(json!({"userId": user_id}));
        self.app
            .store
            .create_link(&link, Some(&audit))
            .await
            .during("create the reset link")?;
        let url = format!(
            "{}{RESET_PATH}?token={}",
            self.app.settings.issuer,
            token.expose()
        );
        let delivery = notify::email(self.app, email, messages::password_reset(&url)).await;
        Ok((url, delivery))
    }

    /// Changes the signed-in person's password after checking the current one; every other
    /// session of the person ends, this one stays.
    pub async fn change_password(
        &self,
        signed_in: &SignedIn,
        current: PlainSecret,
        new: &str,
        origin: Origin,
    ) -> Result<(), PasswordChangeError> {
        self.app
            .sessions()
            .confirm_password(signed_in, current, &origin)
            .await
            .map_err(|e| match e {
                SignInError::Throttled(s) => PasswordChangeError::Throttled(s),
                SignInError::Store(f) => PasswordChangeError::Store(f),
                _ => PasswordChangeError::WrongPassword,
            })?;
        let hash = crate::service::accounts::hash_new_password(new).await?;
        let now = self.app.clock.now();
        let user_id = &signed_in.user.id;
        let audit = AuditEntry::new(AuditEvent::PasswordChanged, Actor::user(user_id), now)
            .origin(origin)
            .details(json!({"userId": user_id, "otherSessionsEnded": true}));
        self.app
            .store
            .set_password(
                user_id,
                &hash,
                Some(&self.app.sessions().hash(&signed_in.session_id)),
                &audit,
            )
            .await
            .during("change the password")?;
        Ok(())
    }

    pub async fn link_usable(&self, token: &str) -> Result<bool, StoreFailure> {
        let hash = self.app.clients.hasher().hash_str(token);
        let link = self
            .app
            .store
            .usable_link(&hash, LinkPurpose::PasswordReset, self.app.clock.now())
            .await
            .during("read the reset link")?;
        Ok(link.is_some())
    }

    /// Uses the link: sets the password and ends every session of the user.
    pub async fn reset(
        &self,
        token: &str,
        new_password: &str,
        origin: Origin,
    ) -> Result<String, ResetError> {
        let now = self.app.clock.now();
        let token_hash = self.app.clients.hasher().hash_str(token);
        // Read first to name the user in the audit entry; the store's
        // conditional update still decides the single use.
        let user_id = self
            .app
            .store
            .usable_link(&token_hash, LinkPurpose::PasswordReset, now)
            .await
            .during("read the reset link")?
            .and_then(|l| l.user_id)
            .ok_or(ResetError::LinkUnusable)?;
        let hash = crate::service::accounts::hash_new_password(new_password).await?;
        let audit = AuditEntry::new(AuditEvent::PasswordReset, Actor::user(&user_id), now)
            .origin(origin)
            .details(json!({"userId": user_id, "sessionsEnded": true}));
        match self
            .app
            .store
            .reset_password(&token_hash, &hash, now, &audit)
            .await
            .during("reset the password")?
        {
            LinkUse::Done { user_id } => Ok(user_id),
            LinkUse::Unusable | LinkUse::EmailTaken => Err(ResetError::LinkUnusable),
        }
    }
}
