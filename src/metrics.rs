//! Prometheus metrics. Labels are bounded: endpoints are route templates,
//! grant types and outcomes come from fixed vocabularies, and nothing is
//! labelled per client.

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
        }
    }

    pub fn observe_request(&self, labels: RequestLabels, seconds: f64) {
        self.latency
            .get_or_create(&EndpointLabels {
                endpoint: labels.endpoint,
            })
            .observe(seconds);
        self.requests.get_or_create(&labels).inc();
    }

    pub fn token_outcome(&self, grant_type: &'static str, outcome: &'static str) {
        self.tokens
            .get_or_create(&TokenLabels {
                grant_type,
                outcome,
            })
            .inc();
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
