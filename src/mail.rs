//! Email, when an operator configures SMTP (`--smtp-url`): invitations,
//! password-reset links and the notice that a workspace's secret is due
//! for rotation. Sent with lettre over SMTP (RFC 5321), STARTTLS or TLS as
//! the URL says. Without SMTP, keyflow shows each link to the person who
//! created it instead, and nothing here runs.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the recipient {0:?} is not a mailbox")]
    Recipient(String),
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// Sends keyflow's emails through one SMTP relay.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    // The URL may carry the relay's password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// `url` as lettre reads it: `smtp://host:25` (plain), `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host:465` (TLS).
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("not an SMTP URL: {e}"))?
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("{from:?} is not a mailbox: {e}"))?;
        Ok(Self { transport, from })
    }

    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let to = to
            .parse::<Mailbox>()
            .map_err(|_| MailError::Recipient(to.to_owned()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Smtp(e.to_string()))
    }
}

/// What keyflow says in each email: plain text, the link on a line of its
/// own so that mail clients make it clickable.
pub mod messages {
    pub fn invitation(workspace: &str, role: &str, link: &str, expires: &str) -> (String, String) {
        (
            format!("You are invited to {workspace} on keyflow"),
            format!(
                "You are invited to join the workspace {workspace} as {role}.\n\n\
                 Accept the invitation here:\n{link}\n\n\
                 The link works once and expires {expires}. If you did not expect it, ignore this email.\n"
            ),
        )
    }

    pub fn password_reset(link: &str) -> (String, String) {
        (
            "Reset your keyflow password".to_owned(),
            format!(
                "Someone asked to reset the password of your keyflow account.\n\n\
                 Choose a new password here:\n{link}\n\n\
                 The link works once, for one hour, and signs you out everywhere. \
                 If you did not ask for it, ignore this email: your password stays as it is.\n"
            ),
        )
    }

    pub fn rotation_due(workspace: &str, days: i64, link: &str) -> (String, String) {
        (
            format!("The secret key of {workspace} is due for rotation"),
            format!(
                "The secret key of the workspace {workspace} was last regenerated {days} days ago.\n\n\
                 Regenerate it in the console, with a grace period if your integrations need time to switch:\n{link}\n"
            ),
        )
    }
}
