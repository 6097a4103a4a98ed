//! Redirect URIs: what may be registered, and how a request's URI is
//! matched against the registration.

use url::{Host, Url};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RedirectUriError {
    #[error("redirect URI {0:?} is not an absolute URI")]
    NotAbsolute(String),
    /// RFC 6749 §3.1.2.
    #[error("redirect URI {0:?} has a fragment")]
    Fragment(String),
    /// RFC 9700 §2.6: only https, loopback http, or a native app's private
    /// scheme (RFC 8252 §7.1).
    #[error("redirect URI {0:?} must use https (http only for loopback addresses)")]
    Insecure(String),
}

/// Checks a URI at registration time.
pub fn validate(raw: &str) -> Result<(), RedirectUriError> {
    let url = Url::parse(raw).map_err(|_| RedirectUriError::NotAbsolute(raw.to_owned()))?;
    if url.fragment().is_some() || raw.contains('#') {
        return Err(RedirectUriError::Fragment(raw.to_owned()));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" | "javascript" | "data" | "file" | "vbscript" => {
            Err(RedirectUriError::Insecure(raw.to_owned()))
        }
        // RFC 8252 §7.1: reverse-domain private-use schemes contain a dot.
        s if s.contains('.') => Ok(()),
        _ => Err(RedirectUriError::Insecure(raw.to_owned())),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// Loopback IP literals only: RFC 8252 §8.3 advises against `localhost`.
fn is_loopback_ip(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

/// The registered URI `requested` matches, if any. Matching is exact
/// string comparison (RFC 9700 §4.1.3), except that for public native
/// clients a loopback IP redirect matches on any port (RFC 8252 §7.3).
pub fn find_match<'a>(
    registered: &'a [String],
    requested: &str,
    public_client: bool,
) -> Option<&'a str> {
    if let Some(exact) = registered.iter().find(|r| *r == requested) {
        return Some(exact);
    }
    if !public_client {
        return None;
    }
    let req = Url::parse(requested).ok()?;
    if req.scheme() != "http" || !is_loopback_ip(&req) || requested.contains('#') {
        return None;
    }
    registered.iter().map(String::as_str).find(|r| {
        Url::parse(r).is_ok_and(|mut reg| {
            if reg.scheme() != "http" || !is_loopback_ip(&reg) {
                return false;
            }
            let mut req = req.clone();
            let ports = reg.set_port(None).and(req.set_port(None));
            ports.is_ok() && reg == req
        })
    })
}

/// `base` with `params` appended to its query (RFC 6749 §4.1.2: the
/// registered query component is retained).
pub fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return base.to_owned();
    }
    match Url::parse(base) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => base.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(uris: &[&str]) -> Vec<String> {
        uris.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn registration_rules() {
        assert!(validate("https://app.example/cb").is_ok());
        assert!(validate("http://127.0.0.1/cb").is_ok());
        assert!(validate("http://localhost:3000/cb").is_ok());
        assert!(validate("com.example.app:/cb").is_ok());
        assert!(validate("http://app.example/cb").is_err());
        assert!(validate("https://app.example/cb#x").is_err());
        assert!(validate("/relative").is_err());
        assert!(validate("javascript:alert(1)").is_err());
    }

    #[test]
    fn exact_match_only_for_confidential_clients() {
        let r = reg(&["https://app.example/cb", "http://127.0.0.1:5000/cb"]);
        assert_eq!(
            find_match(&r, "https://app.example/cb", false),
            Some("https://app.example/cb")
        );
        for bad in [
            "https://app.example/cb/",
            "https://app.example/CB",
            "https://app.example/cb?x=1",
            "https://app.example.evil/cb",
            "http://127.0.0.1:5001/cb",
        ] {
            assert_eq!(find_match(&r, bad, false), None, "{bad}");
        }
    }

    #[test]
    fn public_clients_match_loopback_on_any_port() {
        let r = reg(&["http://127.0.0.1/cb", "http://[::1]:8080/cb"]);
        assert_eq!(
            find_match(&r, "http://127.0.0.1:49152/cb", true),
            Some("http://127.0.0.1/cb")
        );
        assert_eq!(
            find_match(&r, "http://[::1]:1234/cb", true),
            Some("http://[::1]:8080/cb")
        );
        assert_eq!(find_match(&r, "http://127.0.0.1:49152/other", true), None);
        assert_eq!(find_match(&r, "http://localhost:49152/cb", true), None);
        assert_eq!(find_match(&r, "http://127.0.0.1:49152/cb", false), None);
    }

    #[test]
    fn params_are_appended_to_the_query() {
        assert_eq!(
            with_params("https://a/cb?x=1", &[("code", "c d"), ("state", "s")]),
            "https://a/cb?x=1&code=c+d&state=s"
        );
        assert_eq!(with_params("https://a/out", &[]), "https://a/out");
    }
}
