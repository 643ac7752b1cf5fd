//! Prometheus metrics served on `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of `signet_relay_admission_requests_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `mutate` or `validate`.
    pub endpoint: String,
    /// `allowed`, `denied`, `fallback_allowed`, `fallback_denied`, `cached` or `malformed`.
    pub outcome: String,
}

/// The relay's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Admission requests by endpoint and outcome.
    pub requests: Family<RequestLabels, Counter>,
    /// Duration of Review calls that the verifier answered.
    pub review_seconds: Histogram,
    /// Review calls that failed or timed out.
    pub verifier_errors: Counter,
    /// TLS certificate reloads.
    pub cert_reloads: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("signet_relay");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "admission_requests",
            "Admission requests by outcome",
            requests.clone(),
        );
        let review_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 12));
        registry.register(
            "review_duration_seconds",
            "Duration of answered Review calls",
            review_seconds.clone(),
        );
        let verifier_errors = Counter::default();
        registry.register(
            "verifier_errors",
            "Review calls the verifier did not answer in time",
            verifier_errors.clone(),
        );
        let cert_reloads = Counter::default();
        registry.register(
            "tls_reloads",
            "TLS certificate reloads",
            cert_reloads.clone(),
        );
        Metrics {
            registry,
            requests,
            review_seconds,
            verifier_errors,
            cert_reloads,
        }
    }
}

impl Metrics {
    /// Counts one admission request.
    pub fn count(&self, endpoint: &str, outcome: &str) {
        let labels = RequestLabels {
            endpoint: endpoint.into(),
            outcome: outcome.into(),
        };
        self.requests.get_or_create(&labels).inc();
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(%error, "encoding metrics");
        }
        text
    }
}
