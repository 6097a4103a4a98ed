//! keyflow's one stylesheet and one script, embedded in the binary and
//! served under a URL carrying a hash of their content: a page can cache
//! them for a year, a new build changes the URL, and the pages' CSP can
//! say `script-src 'self'` with no inline script at all.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub const ASSETS_PATH: &str = "/static/{file}";

const CSS: &str = include_str!("../../templates/static/keyflow.css");
const JS: &str = include_str!("../../templates/static/keyflow.js");

struct Asset {
    url: String,
    body: &'static str,
    content_type: &'static str,
}

fn asset(stem: &str, ext: &str, body: &'static str, content_type: &'static str) -> Asset {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body.as_bytes());
    let hash: String = digest.as_ref()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Asset {
        url: format!("/static/{stem}.{hash}.{ext}"),
        body,
        content_type,
    }
}

static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        asset("keyflow", "css", CSS, "text/css; charset=utf-8"),
        asset("keyflow", "js", JS, "text/javascript; charset=utf-8"),
    ]
});

/// The stylesheet's URL, for templates.
pub fn css_url() -> &'static str {
    &ASSETS[0].url
}

/// The script's URL, for templates.
pub fn js_url() -> &'static str {
    &ASSETS[1].url
}

pub async fn serve(Path(file): Path<String>) -> Response {
    let wanted = format!("/static/{file}");
    let Some(a) = ASSETS.iter().find(|a| a.url == wanted) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mut res = (StatusCode::OK, a.body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_a_content_hash() {
        assert!(css_url().starts_with("/static/keyflow."), "{}", css_url());
        assert!(css_url().ends_with(".css"));
        assert!(js_url().ends_with(".js"));
        assert_eq!(css_url().len(), "/static/keyflow..css".len() + 12);
    }
}
