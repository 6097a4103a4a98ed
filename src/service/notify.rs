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

/// How often a node looks for secrets due for rotation.
pub const ROTATION_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// Tells the owners of each workspace whose secret key is older than
/// `--rotation-due-days`, once per secret. Claiming is a conditional
/// update, so with several nodes each notice still goes out once. Without
/// SMTP nothing is claimed, so that notices still go out once it is set.
pub async fn rotation_notices(app: &App) -> Result<usize, crate::service::StoreFailure> {
    use crate::service::During;
    if app.settings.mail.is_none() {
        return Ok(0);
    }
    let now = app.clock.now();
    let due_days = app.settings.rotation_due_days;
    let claimed = app
        .store
        .claim_rotation_notices(now - due_days * 86_400, now)
        .await
        .during("claim rotation notices")?;
    let mut sent = 0;
    for (workspace_id, rotated_at) in claimed {
        let Some(workspace) = app
            .store
            .get_workspace(&workspace_id)
            .await
            .during("read the workspace")?
        else {
            continue;
        };
        let link = format!(
            "{}/console/workspaces/{workspace_id}/integration",
            app.settings.issuer
        );
        let days = (now - rotated_at) / 86_400;
        let owners = app
            .store
            .members(&workspace_id)
            .await
            .during("read the owners")?
            .into_iter()
            .filter(|m| m.role == crate::domain::user::Role::Owner);
        for owner in owners {
            let message = crate::mail::messages::rotation_due(&workspace.name, days, &link);
            if email(app, &owner.email, message).await == Delivery::Sent {
                sent += 1;
            }
        }
    }
    Ok(sent)
}

/// Runs [`rotation_notices`] every [`ROTATION_CHECK_INTERVAL`] until
/// `shutdown` turns true; nothing when SMTP is not configured.
pub fn spawn_rotation_notices(
    app: std::sync::Arc<App>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    app.settings.mail.as_ref()?;
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(ROTATION_CHECK_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(f) = rotation_notices(&app).await {
                        f.log();
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    }))
}
