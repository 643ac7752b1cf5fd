//! Prometheus metrics: requests, decisions by result, verification latency, cache hits.

use std::sync::{Arc, Mutex};

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use signet_verify::Decision;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

/// The service's metrics; cheap to clone.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    requests: Family<RequestLabels, Counter>,
    decisions: Family<ResultLabels, Counter>,
    latency: Histogram,
    /// Verdicts served from the cache.
    pub cache_hits: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("signet");
        let requests = Family::<RequestLabels, Counter>::default();
        let decisions = Family::<ResultLabels, Counter>::default();
        // 100 µs to ~13 s.
        let latency = Histogram::new(exponential_buckets(0.0001, 2.0, 18));
        let cache_hits = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by method and status",
            requests.clone(),
        );
        registry.register("verdicts", "Verdicts by result", decisions.clone());
        registry.register(
            "verification_duration_seconds",
            "Time to decide one image under one rule",
            latency.clone(),
        );
        registry.register(
            "cache_hits",
            "Verdicts served from the verdict cache",
            cache_hits.clone(),
        );
        Metrics {
            registry: Arc::new(Mutex::new(registry)),
            requests,
            decisions,
            latency,
            cache_hits,
        }
    }
}

impl Metrics {
    /// Counts one HTTP request.
    pub fn record_request(&self, method: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                status,
            })
            .inc();
    }

    /// Counts a decision's verdicts and their latencies.
    pub fn record_decision(&self, d: &Decision) {
        for v in &d.verdicts {
            self.decisions
                .get_or_create(&ResultLabels {
                    result: v.result.as_str().to_owned(),
                })
                .inc();
            self.latency.observe(v.duration.as_secs_f64());
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(registry) = self.registry.lock() {
            // Writing to a String cannot fail.
            let _ = encode(&mut out, &registry);
        }
        out
    }
}
