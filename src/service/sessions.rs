//! Browser sessions: signing in with a password, finding the session a
//! cookie names, and signing out. Only the hash of a session id is stored.

use serde_json::json;

use crate::app::App;
use crate::clock::UnixTime;
use crate::domain::audit::{Actor, AuditEntry, AuditEvent, Origin};
use crate::domain::secret::{PlainSecret, Redacted, SecretHash};
use crate::domain::user::{normalize_email, verify_password};
use crate::service::{During, StoreFailure};
use crate::storage::{SessionRecord, UserRecord};

/// A signed-in browser.
#[derive(Clone)]
pub struct SignedIn {
    /// The cookie value, which also binds CSRF tokens.
    pub session_id: String,
    pub session: SessionRecord,
    pub user: UserRecord,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("session_id", &Redacted)
            .field("session", &self.session)
            .field("user", &self.user)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("not an email address")]
    InvalidEmail,
    /// Too many failed attempts for the account or the address: retry
    /// after this many seconds. The password was not checked.
    #[error("too many failed sign-ins")]
    Throttled(u64),
    #[error("wrong email or password")]
    WrongCredentials,
    /// Said only after the right password, so it tells nothing to a guesser.
    #[error("the account is disabled")]
    Disabled,
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

pub struct Sessions<'a> {
    app: &'a App,
}

impl<'a> Sessions<'a> {
    pub fn new(app: &'a App) -> Self {
        Self { app }
    }

    pub(crate) fn hash(&self, session_id: &str) -> SecretHash {
        self.app.clients.hasher().hash_str(session_id)
    }

    /// The live session a cookie names, with its user; `None` when it has
    /// expired, was ended, or its user is disabled.
    pub async fn current(&self, session_id: &str) -> Result<Option<SignedIn>, StoreFailure> {
        let store = &self.app.store;
        let Some(session) = store
            .session(&self.hash(session_id), self.app.clock.now())
            .await
            .during("read the session")?
        else {
            return Ok(None);
        };
        let user = store
            .user_by_id(&session.user_id)
            .await
            .during("read the session's user")?;
        Ok(user
            .filter(|u| u.disabled_at.is_none())
            .map(|user| SignedIn {
                session_id: session_id.to_owned(),
                session,
                user,
            }))
    }

    /// Checks the password and starts a new session, ending `replacing`
    /// (the browser's previous session, if any) so that a session fixed
    /// before login is worthless after it.
    pub async fn sign_in(
        &self,
        username: &str,
        password: PlainSecret,
        origin: Origin,
        replacing: Option<&str>,
    ) -> Result<SignedIn, SignInError> {
        let app = self.app;
        let email = normalize_email(username).ok_or(SignInError::InvalidEmail)?;
        // The attempt is counted before the password is checked, so parallel
        // attempts cannot outrun the budget (OWASP, "Account lockout").
        let reservation = app
            .login_throttle
            .reserve(&email, origin.ip.as_deref(), app.clock.now_us())
            .await
            .during("reserve a sign-in attempt")?
            .map_err(SignInError::Throttled)?;
        let user = app
            .store
            .user_by_email(&email)
            .await
            .during("read the user")?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let ok = app
            .password_checks
            .run(move || verify_password(password.expose(), stored.as_deref()))
            .await
            .unwrap_or(false);
        let now = app.clock.now();
        let Some(user) = user.filter(|_| ok) else {
            return Err(self
                .failed(&email, origin, now, SignInError::WrongCredentials)
                .await);
        };
        // The attempt stays counted for a disabled account.
        if user.disabled_at.is_some() {
            return Err(self
                .failed(&email, origin, now, SignInError::Disabled)
                .await);
        }
        app.login_throttle
            .refund(reservation)
            .await
            .during("refund a sign-in attempt")?;
        Ok(self.begin(user, origin, now, replacing).await?)
    }

    /// Audits a failed sign-in and answers `error`, or the storage failure.
    async fn failed(
        &self,
        email: &str,
        origin: Origin,
        now: UnixTime,
        error: SignInError,
    ) -> SignInError {
        // The email is recorded so that operators can see attacks on one
        // account; the password never is.
        let audit = AuditEntry::new(AuditEvent::LoginFailed, Actor::system(), now)
            .origin(origin)
            .details(json!({"email": email}));
        match self.app.store.append_audit(&audit).await {
            Ok(()) => error,
            Err(e) => StoreFailure::new("audit a failed sign-in", e).into(),
        }
    }

    /// Signs in a person who has just proved who they are another way
    /// (setting their password through a setup or invitation link).
    pub async fn start(&self, user: UserRecord, origin: Origin) -> Result<SignedIn, StoreFailure> {
        self.begin(user, origin, self.app.clock.now(), None).await
    }

    async fn begin(
        &self,
        user: UserRecord,
        origin: Origin,
        now: UnixTime,
        replacing: Option<&str>,
    ) -> Result<SignedIn, StoreFailure> {
        if let Some(old) = replacing {
            // Best effort: the old session is unusable to this browser
            // either way, since its cookie is replaced.
            let _ = self.app.store.delete_session(&self.hash(old)).await;
        }
        let id = PlainSecret::generate("");
        let session = SessionRecord {
            id_hash: self.hash(id.expose()),
            user_id: user.id.clone(),
            auth_time: now,
            created_at: now,
            expires_at: now + self.app.settings.auth.session_ttl,
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
        };
        let audit =
            AuditEntry::new(AuditEvent::LoginSucceeded, Actor::user(&user.id), now).origin(origin);
        self.app
            .store
            .create_session(&session, &audit)
            .await
            .during("start a session")?;
        Ok(SignedIn {
            session_id: id.expose().to_owned(),
            session,
            user,
        })
    }

    /// Checks the signed-in person's password again, counted against the
    /// same budget as the sign-in form so that a stolen session cannot
    /// guess it.
    pub(crate) async fn confirm_password(
        &self,
        signed_in: &SignedIn,
        password: PlainSecret,
        origin: &Origin,
    ) -> Result<(), SignInError> {
        let app = self.app;
        let email = &signed_in.user.email;
        let reservation = app
            .login_throttle
            .reserve(email, origin.ip.as_deref(), app.clock.now_us())
            .await
            .during("reserve a sign-in attempt")?
            .map_err(SignInError::Throttled)?;
        let stored = signed_in.user.password_hash.clone();
        let ok = app
            .password_checks
            .run(move || verify_password(password.expose(), Some(&stored)))
            .await
            .unwrap_or(false);
        if !ok {
            let now = app.clock.now();
            return Err(self
                .failed(email, origin.clone(), now, SignInError::WrongCredentials)
                .await);
        }
        app.login_throttle
            .refund(reservation)
            .await
            .during("refund a sign-in attempt")?;
        Ok(())
    }

    /// Re-authentication before a sensitive action: the password again,
    /// and the session's `auth_time` moves to now (OIDC Core §2).
    pub async fn reauthenticate(
        &self,
        signed_in: &SignedIn,
        password: PlainSecret,
        origin: Origin,
    ) -> Result<(), SignInError> {
        self.confirm_password(signed_in, password, &origin).await?;
        let now = self.app.clock.now();
        self.app
            .store
            .reauthenticate(&self.hash(&signed_in.session_id), now)
            .await
            .during("record the re-authentication")?;
        let audit = AuditEntry::new(
            AuditEvent::Reauthenticated,
            Actor::user(&signed_in.user.id),
            now,
        )
        .origin(origin);
        self.app
            .store
            .append_audit(&audit)
            .await
            .during("audit a re-authentication")?;
        Ok(())
    }

    /// The person's live sessions, each marked when it is the one asking.
    pub async fn list(
        &self,
        signed_in: &SignedIn,
    ) -> Result<Vec<(SessionRecord, bool)>, StoreFailure> {
        let mine = self.hash(&signed_in.session_id);
        let sessions = self
            .app
            .store
            .user_sessions(&signed_in.user.id, self.app.clock.now())
            .await
            .during("list the sessions")?;
        Ok(sessions
            .into_iter()
            .map(|s| {
                let current = s.id_hash.matches(&mine);
                (s, current)
            })
            .collect())
    }

    /// Signs the person out of every browser, this one included.
    pub async fn sign_out_everywhere(
        &self,
        signed_in: &SignedIn,
        origin: Origin,
    ) -> Result<u64, StoreFailure> {
        let user_id = &signed_in.user.id;
        let now = self.app.clock.now();
        let audit = AuditEntry::new(AuditEvent::SessionsEnded, Actor::user(user_id), now)
            .origin(origin)
            .details(json!({"userId": user_id}));
        self.app
            .store
            .end_sessions(user_id, None, &audit)
            .await
            .during("end every session")
    }

    /// Ends the session (RP-Initiated Logout 1.0 §2); `client_id` names
    /// the client that asked, for the audit log.
    pub async fn sign_out(
        &self,
        signed_in: &SignedIn,
        client_id: Option<&str>,
        origin: Origin,
    ) -> Result<(), StoreFailure> {
        self.app
            .store
            .delete_session(&self.hash(&signed_in.session_id))
            .await
            .during("end the session")?;
        let audit = AuditEntry::new(
            AuditEvent::LoggedOut,
            Actor::user(&signed_in.user.id),
            self.app.clock.now(),
        )
        .origin(origin)
        .details(json!({"clientId": client_id}));
        // The session is gone; a lost audit entry must not undo that.
        if let Err(e) = self.app.store.append_audit(&audit).await {
            StoreFailure::new("audit a sign-out", e).log();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_in_browser_shows_no_session_id_or_password_hash() {
        let signed_in = SignedIn {
            session_id: "session-cookie-value-0123456789".into(),
            session: SessionRecord {
                id_hash: SecretHash::from_slice(&[7; 32]).unwrap(),
                user_id: "usr_1".into(),
                auth_time: 1,
                created_at: 1,
                expires_at: 2,
                ip: None,
                user_agent: None,
            },
            user: UserRecord {
                id: "usr_1".into(),
                email: "ann@example.com".into(),
                name: None,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                created_at: 1,
                disabled_at: None,
                platform_admin: false,
            },
        };
        let shown = format!("{signed_in:?}");
        assert!(shown.contains("ann@example.com"), "{shown}");
        assert!(!shown.contains("session-cookie-value"), "{shown}");
        assert!(!shown.contains("argon2id"), "{shown}");
    }
}
