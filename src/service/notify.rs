//! Sending keyflow's emails, when SMTP is configured. A failed delivery is
//! logged and reported to the caller, never fatal: the link it carried is
//! still shown to the person who created it.

use crate::app::App;

/// What happened to an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// No SMTP relay: the link is shown instead.
    NotConfigured,
    Sent,
    Failed,
}

pub async fn email(app: &App, to: &str, (subject, body): (String, String)) -> Delivery {
    let Some(mailer) = &app.settings.mail else {
        return Delivery::NotConfigured;
    };
    match mailer.send(to, &subject, body).await {
        Ok(()) => Delivery::Sent,
        Err(e) => {
            // The body carries a one-time link: only the subject is logged.
            tracing::warn!(error = %e, subject = %subject, "email not sent");
            Delivery::Failed
        }
    }
}
