//! Where a request came from, for the audit log: the peer address, or the
//! client address a trusted proxy reports in `X-Forwarded-For`.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use crate::app::App;
use crate::domain::audit::Origin;

const MAX_USER_AGENT: usize = 256;

pub struct RequestOrigin(pub Origin);

impl FromRequestParts<Arc<App>> for RequestOrigin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let trusted = |ip: &IpAddr| app.settings.trusted_proxies.iter().any(|n| n.contains(ip));
        let mut ip = peer;
        if peer.as_ref().is_some_and(trusted) {
            // Walk X-Forwarded-For from the right: the first address that is
            // not one of our proxies is the client.
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                .collect::<Vec<_>>();
            if let Some(client) = forwarded.iter().rev().find(|ip| !trusted(ip)) {
                ip = Some(*client);
            }
        }
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(MAX_USER_AGENT).collect());
        Ok(Self(Origin {
            ip: ip.map(|i| i.to_string()),
            user_agent,
        }))
    }
}
