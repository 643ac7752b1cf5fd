//! Prometheus metrics: requests, decisions by result, verification latency, cache hits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use signet_verify::cache::CacheStats;
use signet_verify::verdict::{Verdict, VerdictResult};
use signet_verify::Decision;

use crate::store::DecisionJournal;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// The `result` label of a verdict: a failure under Audit is a warning, as in the reports.
const RESULTS: [&str; 5] = ["pass", "fail", "warn", "error", "skip"];

fn result_index(v: &Verdict) -> usize {
    match v.result {
        VerdictResult::Pass => 0,
        VerdictResult::Fail if v.audit => 2,
        VerdictResult::Fail => 1,
        VerdictResult::Error => 3,
        VerdictResult::Skip => 4,
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrpcLabels {
    method: &'static str,
    code: &'static str,
}

/// The gRPC methods counted apart; any other path is counted as `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrpcMethod {
    /// `signet.v1.Verifier/Review`.
    Review,
    /// `signet.v1.Verifier/VerifyImage`.
    VerifyImage,
    /// Any other path (answered UNIMPLEMENTED).
    Other,
}

impl GrpcMethod {
    /// The `method` label.
    pub fn as_str(self) -> &'static str {
        match self {
            GrpcMethod::Review => "Review",
            GrpcMethod::VerifyImage => "VerifyImage",
            GrpcMethod::Other => "other",
        }
    }
}

/// The `code` label, indexed by the code's number (tonic's names for the codes).
const GRPC_CODES: [&str; 17] = [
    "Ok",
    "Cancelled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

/// gRPC calls by method and code. Each series' counter is looked up in the family once
/// and kept, so counting a call is one atomic add: no lock, no label built.
#[derive(Debug)]
pub struct GrpcRequests {
    family: Family<GrpcLabels, Counter>,
    handles: [[OnceLock<Counter>; GRPC_CODES.len()]; 3],
}

impl GrpcRequests {
    /// Counts one call that ended with `code`.
    pub fn record(&self, method: GrpcMethod, code: tonic::Code) {
        let c = (code as usize).min(GRPC_CODES.len() - 1);
        self.handles[method as usize][c]
            .get_or_init(|| {
                self.family.get_or_create_owned(&GrpcLabels {
                    method: method.as_str(),
                    code: GRPC_CODES[c],
                })
            })
            .inc();
    }
}

/// The service's metrics; cheap to clone.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    requests: Family<RequestLabels, Counter>,
    grpc_requests: Arc<GrpcRequests>,
    /// Verdicts by result, in [`RESULTS`] order; every result is exposed from the start.
    verdicts: [Counter; RESULTS.len()],
    latency: Histogram,
    /// Verdicts served from the cache.
    pub cache_hits: Counter,
    /// Verdicts served from the shared (Redis) tier.
    cache_l2_hits: Counter,
    /// Verdicts waited for while another replica verified them.
    cache_l2_waits: Counter,
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
        let grpc_requests = Arc::new(GrpcRequests {
            family: Family::default(),
            handles: [const { [const { OnceLock::new() }; GRPC_CODES.len()] }; 3],
        });
        registry.register(
            "grpc_requests",
            "gRPC calls by method and status code",
            grpc_requests.family.clone(),
        );
        registry.register(
            "verdicts",
            "Verdicts by result (pass, fail, warn: a fail under Audit, error, skip)",
            decisions.clone(),
        );
        let verdicts =
            RESULTS.map(|result| decisions.get_or_create_owned(&ResultLabels { result }));
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
        let cache_l2_waits = Counter::default();
        registry.register(
            "cache_l2_waits",
            "Verdicts waited for in the shared verdict cache while another replica verified them",
            cache_l2_waits.clone(),
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
            grpc_requests,
            verdicts,
            latency,
            cache_hits,
            cache_l2_hits,
            cache_l2_waits,
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

    /// The gRPC call counters, for the layer that counts every call.
    pub fn grpc_requests(&self) -> Arc<GrpcRequests> {
        self.grpc_requests.clone()
    }

    /// Counts a decision's verdicts by result and observes their latencies.
    pub fn record_decision(&self, d: &Decision) {
        for v in &d.verdicts {
            self.verdicts[result_index(v)].inc();
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
        catch_up(&self.cache_l2_waits, &stats.l2_waits);
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn verdict(result: VerdictResult, audit: bool) -> Verdict {
        Verdict {
            image: "registry.example/app:v1".into(),
            digest: None,
            policy: "p".into(),
            rule: "r".into(),
            result,
            message: String::new(),
            audit,
            attestors_satisfied: Vec::new(),
            duration: Duration::from_millis(3),
        }
    }

    #[test]
    fn verdicts_are_counted_by_result_with_a_fail_under_audit_as_warn() {
        let m = Metrics::default();
        let d = Decision {
            verdicts: vec![
                verdict(VerdictResult::Pass, false),
                verdict(VerdictResult::Pass, true),
                verdict(VerdictResult::Fail, false),
                verdict(VerdictResult::Fail, true),
                verdict(VerdictResult::Error, false),
            ],
            allowed: false,
            message: None,
            warnings: Vec::new(),
            patch: Vec::new(),
        };
        m.record_decision(&d);
        let text = m.render();
        for line in [
            "signet_verdicts_total{result=\"pass\"} 2\n",
            "signet_verdicts_total{result=\"fail\"} 1\n",
            "signet_verdicts_total{result=\"warn\"} 1\n",
            "signet_verdicts_total{result=\"error\"} 1\n",
            "signet_verdicts_total{result=\"skip\"} 0\n",
            "signet_verification_duration_seconds_count 5\n",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
    }

    #[test]
    fn grpc_calls_are_counted_by_method_and_code() {
        let m = Metrics::default();
        let calls = m.grpc_requests();
        calls.record(GrpcMethod::Review, tonic::Code::Ok);
        calls.record(GrpcMethod::Review, tonic::Code::Ok);
        calls.record(GrpcMethod::VerifyImage, tonic::Code::Unauthenticated);
        calls.record(GrpcMethod::Other, tonic::Code::Unimplemented);
        let text = m.render();
        for line in [
            "signet_grpc_requests_total{method=\"Review\",code=\"Ok\"} 2\n",
            "signet_grpc_requests_total{method=\"VerifyImage\",code=\"Unauthenticated\"} 1\n",
            "signet_grpc_requests_total{method=\"other\",code=\"Unimplemented\"} 1\n",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
        assert_eq!(
            text.matches("signet_grpc_requests_total{").count(),
            3,
            "only the series seen are exposed:\n{text}"
        );
    }

    #[test]
    fn code_labels_follow_the_code_numbers() {
        for (n, name) in GRPC_CODES.iter().enumerate() {
            let code = tonic::Code::from(i32::try_from(n).expect("small"));
            assert_eq!(format!("{code:?}"), *name);
        }
    }
}
