//! Rolling and revoking a key: the confirmation pages that the row's
//! buttons lead to without script, and the actions themselves.

use super::*;

/// Without JavaScript, "Roll" and "Revoke" lead to these pages.
pub async fn roll_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    confirmation(&app, &headers, &id, &key_id, |frame, ws, key| RollKeyPage {
        frame,
        ws,
        key,
    })
    .await
}

pub async fn revoke_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    confirmation(&app, &headers, &id, &key_id, |frame, ws, key| {
        RevokeKeyPage { frame, ws, key }
    })
    .await
}

/// A confirmation page about one key, for those who may act on it.
async fn confirmation<P: axum::response::IntoResponse>(
    app: &App,
    headers: &HeaderMap,
    id: &str,
    key_id: &str,
    view: impl FnOnce(
        crate::http::console::views::Frame,
        crate::http::console::views::WorkspaceHeader,
        KeyRowView,
    ) -> P,
) -> Result<Response, PageError> {
    let session = require_session(app, headers, &key_path(id, key_id)).await?;
    let (access, ws) = workspace_tab(app, &session, id, "api-keys").await?;
    access.require(WorkspaceAction::Administer)?;
    let k = app.api_keys.get(id, key_id).await.map_err(key_error)?;
    let creators = Creators::of(app, id, std::slice::from_ref(&k)).await?;
    let empty = UsageSeries::from_rows(0, 0, &[]);
    let key = row(app, &k, &creators, None, &empty, app.clock.now());
    Ok(page(
        StatusCode::OK,
        view(frame(app, &session, "workspaces"), ws, key),
    ))
}

pub async fn roll(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path((id, key_id)): Path<(String, String)>,
    BrowserForm(mut form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let (_, ws, by, k) = acting_on(&app, &session, &id, &key_id, origin.clone()).await?;
    let overlap = form
        .get("overlap")
        .unwrap_or("0")
        .parse::<i64>()
        .ok()
        .filter(|o| OVERLAP_CHOICES.contains(o))
        .ok_or_else(|| {
            PageError::from(error_page(
                StatusCode::BAD_REQUEST,
                "Choose when the old key stops",
                "Immediately, after 1 hour, after 24 hours or after 7 days.",
            ))
        })?;
    let overlap_field = overlap.to_string();
    let action = format!("{}/roll", key_path(&id, &key_id));
    let fields = [("overlap", overlap_field.as_str())];
    require_recent_auth(&app, &session, &mut form, &origin, &action, &fields).await?;
    let made = app
        .api_keys
        .roll(&id, &k.id, overlap, &by)
        .await
        .map_err(key_error)?;
    let until = (overlap > 0).then(|| when(app.clock.now() + overlap));
    Ok(shown_once(&app, &session, ws, &made, until))
}

pub async fn revoke(
    State(app): State<Arc<App>>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path((id, key_id)): Path<(String, String)>,
    BrowserForm(form): BrowserForm,
) -> Result<Response, PageError> {
    let session = form_session(&app, &headers, &form).await?;
    let (_, _, by, k) = acting_on(&app, &session, &id, &key_id, origin).await?;
    app.api_keys
        .revoke(&id, &k.id, &by)
        .await
        .map_err(key_error)?;
    Ok(see_other(&format!("{}?done=revoked", tab_path(&id))))
}
