//! "Create API key": the page without JavaScript, the post, and the key
//! shown once with Copy and Download.

use super::*;

/// Without JavaScript, "Create API key" leads here instead of the dialog.
pub async fn new_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let session = require_session(&app, &headers, &tab_path(&id)).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "api-keys").await?;
    access.require(WorkspaceAction::Administer)?;
    Ok(page(
        StatusCode::OK,
        crate::http::console::views::NewKeyPage {
            frame: frame(&app, &session, "workspaces"),
            ws,
            form: new_form(&app),
            error: None,
        },
    ))
}

pub async fn create(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path(id): Path<String>,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let (access, ws) = workspace_tab(&app, &session, &id, "api-keys").await?;
    let by = creator(&app, &session, &access, origin.clone()).await?;
    let refuse = |app: &App, form: &OAuthForm, ws, message: String| {
        page(
            StatusCode::BAD_REQUEST,
            crate::http::console::views::NewKeyPage {
                frame: frame(app, &session, "workspaces"),
                ws,
                form: posted_form(app, form),
                error: Some(message),
            },
        )
    };
    let now = app.clock.now();
    let parsed = (|| {
        let key_type: ApiKeyType = form
            .get("type")
            .unwrap_or_default()
            .parse()
            .map_err(|_| Refused("Choose the type of the key.".into()))?;
        let scopes = scopes_field(&app, &form);
        if scopes.is_empty() {
            return Err(Refused(
                "Choose at least one scope under Resource access.".into(),
            ));
        }
        Ok(NewKey {
            name: form.get("name").unwrap_or_default().to_owned(),
            key_type,
            scopes,
            expires_at: expiry_field(&form, now)?,
            rate_limits: limits_field(&form)?,
        })
    })();
    let new = match parsed {
        Ok(n) => n,
        Err(Refused(m)) => return Ok(refuse(&app, &form, ws, m)),
    };
    // A new credential is shown: as for regenerating the secret, only
    // after a recent sign-in.
    let fields = form_fields(&app, &form);
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    require_recent_auth(&app, &session, &mut form, &origin, &tab_path(&id), &fields).await?;
    match app.api_keys.create(&id, new, &by).await {
        Ok(made) => Ok(shown_once(&app, &session, ws, &made, None)),
        Err(ApiKeyError::Store(f)) => Err(f.into()),
        Err(e) => Ok(refuse(&app, &form, ws, refusal_text(&e))),
    }
}

pub(super) fn refusal_text(e: &ApiKeyError) -> String {
    match e {
        ApiKeyError::Forbidden { scope, .. } => {
            format!("You may not give a key {scope}.")
        }
        other => format!("{}.", capital(&other.to_string())),
    }
}

/// The new key, this once: copy, download as `keyflow.key` (the file the
/// CLI looks for), and the warning.
pub(super) fn shown_once(
    app: &App,
    session: &SignedIn,
    ws: crate::http::console::views::WorkspaceHeader,
    made: &keys::CreatedKey,
    rolled_until: Option<String>,
) -> Response {
    let key = made.key.expose().to_owned();
    page(
        StatusCode::OK,
        KeyCreatedPage {
            frame: frame(app, session, "workspaces"),
            download: format!(
                "data:text/plain;charset=utf-8,{}%0A",
                percent_encoding::utf8_percent_encode(&key, percent_encoding::NON_ALPHANUMERIC)
            ),
            key,
            name: made.record.name.clone(),
            prefix: made.record.prefix.clone(),
            key_id: made.record.id.clone(),
            rolled_until,
            ws,
        },
    )
}
