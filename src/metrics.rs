//! Prometheus metrics. Labels are bounded: endpoints are route templates,
//! grant types and outcomes come from fixed vocabularies, and nothing is
//! labelled per client.
//!
//! A family finds a series by hashing its labels under a lock. The series a
//! request or a token counts in are found once and kept ([`Endpoint`],
//! and a few counters per family kept by label): counting is then one
//! atomic add. A series is still created
//! on first use, so the exposition lists only what has happened.

use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub endpoint: &'static str,
    pub method: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    pub endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    pub grant_type: &'static str,
    /// `issued`, or the RFC 6749 error code returned.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClosedLabels {
    /// `header_timeout`, `idle_timeout`, `evicted` or `refused`.
    pub reason: &'static str,
}

type HistogramFamily = Family<EndpointLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    tokens: Family<TokenLabels, Counter>,
    connections_open: Gauge,
    connections_closed: Family<ClosedLabels, Counter>,
    /// Each grant type's `issued` and its common errors.
    token_counters: Counters<TokenLabels, 12>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn latency_histogram() -> Histogram {
    // 50 µs to about 3 s.
    Histogram::new(exponential_buckets(0.000_05, 3.0, 11))
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("keyflow");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by endpoint, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by endpoint",
            latency.clone(),
        );
        registry.register(
            "token_requests",
            "Token endpoint requests by grant type and outcome",
            tokens.clone(),
        );
        let connections_open = Gauge::default();
        let connections_closed = Family::<ClosedLabels, Counter>::default();
        registry.register(
            "connections_open",
            "Client connections open now",
            connections_open.clone(),
        );
        registry.register(
            "connections_closed_by_server",
            "Client connections keyflow closed by reason (timeouts, eviction at the cap)",
            connections_closed.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            tokens,
            connections_open,
            connections_closed,
            token_counters: Counters::default(),
        }
    }

    /// One answered request of `endpoint`.
    pub fn observe_request(
        &self,
        endpoint: &Endpoint,
        method: &'static str,
        status: u16,
        seconds: f64,
    ) {
        endpoint
            .latency
            .get_or_init(|| {
                self.latency.get_or_create_owned(&EndpointLabels {
                    endpoint: endpoint.name,
                })
            })
            .observe(seconds);
        let labels = RequestLabels {
            endpoint: endpoint.name,
            method,
            status,
        };
        endpoint.requests.inc(labels, &self.requests);
    }

    pub fn token_outcome(&self, grant_type: &'static str, outcome: &'static str) {
        let labels = TokenLabels {
            grant_type,
            outcome,
        };
        self.token_counters.inc(labels, &self.tokens);
    }

    pub fn connection_opened(&self) {
        self.connections_open.inc();
    }

    pub fn connection_ended(&self) {
        self.connections_open.dec();
    }

    pub fn connection_closed_by_server(&self, reason: &'static str) {
        self.connections_closed
            .get_or_create(&ClosedLabels { reason })
            .inc();
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// One route template's series, kept by whoever serves the route
/// (`http::middleware::Track` builds one per template).
#[derive(Debug)]
pub struct Endpoint {
    name: &'static str,
    latency: OnceLock<Histogram>,
    /// Its methods and statuses that occur: a handful per route.
    requests: Counters<RequestLabels, 4>,
}

impl Endpoint {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            latency: OnceLock::new(),
            requests: Counters::default(),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Up to `N` counters of one family, found by comparing labels in place
/// of hashing them. Each slot keeps the first label set that claims it; a
/// label set that finds every slot taken by others counts through the
/// family itself. Each slot holds the family's own counter (a clone shares
/// it), so a label set that two threads race into two slots counts once.
struct Counters<L, const N: usize> {
    slots: [OnceLock<(L, Counter)>; N],
}

impl<L, const N: usize> Default for Counters<L, N> {
    fn default() -> Self {
        Self {
            slots: std::array::from_fn(|_| OnceLock::new()),
        }
    }
}

impl<L, const N: usize> std::fmt::Debug for Counters<L, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let used = self.slots.iter().filter(|s| s.get().is_some()).count();
        write!(f, "Counters({used} of {N})")
    }
}

impl<L: Clone + std::hash::Hash + Eq, const N: usize> Counters<L, N> {
    fn inc(&self, labels: L, family: &Family<L, Counter>) {
        for slot in &self.slots {
            let (claimed, counter) =
                slot.get_or_init(|| (labels.clone(), family.get_or_create_owned(&labels)));
            if *claimed == labels {
                counter.inc();
                return;
            }
        }
        family.get_or_create(&labels).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposition_line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(prefix))
    }

    #[test]
    fn kept_counters_count_in_the_family_series_and_overflow_to_the_family() {
        let metrics = Metrics::new();
        // More label sets than the cache has slots: the later ones count
        // through the family, and every one counts exactly what happened.
        let outcomes = [
            "issued",
            "invalid_request",
            "invalid_client",
            "invalid_grant",
            "unauthorized_client",
            "unsupported_grant_type",
            "invalid_scope",
            "invalid_target",
            "server_error",
            "temporarily_unavailable",
            "access_denied",
            "slow_down",
            "authorization_pending",
            "expired_token",
        ];
        assert!(outcomes.len() > 12);
        for (i, outcome) in outcomes.iter().enumerate() {
            for _ in 0..=i {
                metrics.token_outcome("client_credentials", outcome);
            }
        }
        let text = metrics.render();
        for (i, outcome) in outcomes.iter().enumerate() {
            let prefix = format!(
                "keyflow_token_requests_total{{grant_type=\"client_credentials\",outcome=\"{outcome}\"}} "
            );
            let line = exposition_line(&text, &prefix)
                .unwrap_or_else(|| panic!("no series for {outcome} in\n{text}"));
            assert_eq!(line[prefix.len()..].trim(), (i + 1).to_string(), "{line}");
        }
    }

    #[test]
    fn an_endpoint_series_appears_on_first_use_and_is_shared_between_endpoints() {
        let metrics = Metrics::new();
        let token = Endpoint::new("/token");
        let also_token = Endpoint::new("/token");
        assert!(!metrics.render().contains("endpoint=\"/token\""));
        metrics.observe_request(&token, "POST", 200, 0.001);
        metrics.observe_request(&also_token, "POST", 200, 0.001);
        metrics.observe_request(&token, "POST", 401, 0.001);
        for status in [400, 404, 405, 429, 500] {
            metrics.observe_request(&token, "GET", status, 0.001);
        }
        let text = metrics.render();
        let ok = "keyflow_http_requests_total{endpoint=\"/token\",method=\"POST\",status=\"200\"} ";
        assert_eq!(
            exposition_line(&text, ok).map(|l| l[ok.len()..].trim()),
            Some("2"),
            "{text}"
        );
        for status in [400, 404, 405, 429, 500] {
            let line = format!(
                "keyflow_http_requests_total{{endpoint=\"/token\",method=\"GET\",status=\"{status}\"}} 1"
            );
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        let count = "keyflow_http_request_duration_seconds_count{endpoint=\"/token\"} ";
        assert_eq!(
            exposition_line(&text, count).map(|l| l[count.len()..].trim()),
            Some("8"),
            "{text}"
        );
    }
}
