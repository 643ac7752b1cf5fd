//! Prometheus metrics: requests, decisions by result, verification latency, cache hits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use signet_verify::cache::CacheStats;
use signet_verify::Decision;

use crate::store::DecisionJournal;

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
    /// Verdicts served from the shared (Redis) tier.
    cache_l2_hits: Counter,
    /// Verifications actually run.
    verifications: Counter,
    /// 1 when Redis answers, 0 when it does not; absent without Redis.
    redis_up: Gauge,
    /// Decisions answered and not yet committed to the store.
    decisions_backlog: Gauge,
    /// Decisions the store refused for good.
    decisions_dropped: Counter,
    /// 1 while decisions cannot be committed (the store is unavailable).
    decisions_failing: Gauge,
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
        let cache_l2_hits = Counter::default();
        registry.register(
            "cache_l2_hits",
            "Verdicts served from the shared (Redis) verdict cache",
            cache_l2_hits.clone(),
        );
        let verifications = Counter::default();
        registry.register(
            "verifications",
            "Verifications run (verdict cache misses and uncached entries)",
            verifications.clone(),
        );
        let redis_up = Gauge::default();
        registry.register(
            "cache_redis_up",
            "1 when the shared verdict cache (Redis) answers, else 0",
            redis_up.clone(),
        );
        let decisions_backlog = Gauge::default();
        registry.register(
            "decisions_backlog",
            "Decisions answered and not yet committed to the store",
            decisions_backlog.clone(),
        );
        let decisions_dropped = Counter::default();
        registry.register(
            "decisions_dropped",
            "Decisions the store refused for good (each is logged)",
            decisions_dropped.clone(),
        );
        let decisions_failing = Gauge::default();
        registry.register(
            "decisions_store_failing",
            "1 while decisions cannot be committed because the store is unavailable",
            decisions_failing.clone(),
        );
        Metrics {
            registry: Arc::new(Mutex::new(registry)),
            requests,
            decisions,
            latency,
            cache_hits,
            cache_l2_hits,
            verifications,
            redis_up,
            decisions_backlog,
            decisions_dropped,
            decisions_failing,
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

    /// Copies the verifier's cache counters and the Redis state into the metrics.
    pub fn sync_cache(&self, stats: &CacheStats, redis_up: Option<bool>) {
        fn catch_up(counter: &Counter, total: &AtomicU64) {
            let total = total.load(Ordering::Relaxed);
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        catch_up(&self.cache_hits, &stats.l1_hits);
        catch_up(&self.cache_l2_hits, &stats.l2_hits);
        catch_up(&self.verifications, &stats.verifications);
        self.redis_up.set(i64::from(redis_up.unwrap_or(false)));
    }

    /// Copies the decision writer's state into the metrics.
    pub fn sync_journal(&self, journal: &DecisionJournal) {
        self.decisions_backlog
            .set(i64::try_from(journal.backlog()).unwrap_or(i64::MAX));
        let dropped = journal.dropped();
        self.decisions_dropped
            .inc_by(dropped.saturating_sub(self.decisions_dropped.get()));
        self.decisions_failing
            .set(i64::from(journal.failure().is_some()));
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
