//! Settings of outgoing email.

use anyhow::Context;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// SMTP relay for invitations, password resets and rotation notices, e.g.
    /// smtp://relay:587?tls=required or smtps://user:pass@relay:465. Without it,
    /// links are shown to the person who created them instead.
    #[arg(long, env = "KEYFLOW_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// The sender of keyflow's emails (default: keyflow <noreply@ISSUER-HOST>).
    #[arg(long, env = "KEYFLOW_SMTP_FROM")]
    pub smtp_from: Option<String>,
}

/// Validated [`MailArgs`]: the mailer keyflow sends with, when SMTP is
/// configured.
pub fn mailer(a: &MailArgs, issuer: &str) -> anyhow::Result<Option<crate::mail::Mailer>> {
    let Some(url) = a.smtp_url.as_deref() else {
        return Ok(None);
    };
    let host = url::Url::parse(issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into());
    let from = a
        .smtp_from
        .clone()
        .unwrap_or_else(|| format!("keyflow <noreply@{host}>"));
    crate::mail::Mailer::new(url, &from)
        .map(Some)
        .map_err(anyhow::Error::msg)
        .context("--smtp-url / KEYFLOW_SMTP_URL or --smtp-from / KEYFLOW_SMTP_FROM")
}
