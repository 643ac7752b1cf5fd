//! Forwarding an AdmissionRequest to the verifier, and what to answer when the
//! verifier cannot.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use signet_proto::v1::verifier_client::VerifierClient;
use signet_proto::v1::{FailurePolicy as ProtoPolicy, ReviewRequest, ReviewResponse};
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::admission::{Request, Response};
use crate::labels::NamespaceLabels;
use crate::metrics::Metrics;
use crate::{Config, FailurePolicy, VERSION};

/// Key of the allow cache: namespace, operation, kind and sorted image set.
type CacheKey = (String, String, String, Vec<String>);

/// What the relay last learnt from the verifier.
#[derive(Debug, Clone, Copy)]
struct Remembered {
    failure_policy: FailurePolicy,
    timeout_seconds: u32,
}

/// A Review client with the relay's fallback rules.
#[derive(Debug)]
pub struct Forwarder {
    client: VerifierClient<Channel>,
    authorization: MetadataValue<tonic::metadata::Ascii>,
    timeout: Duration,
    allow_cache: Duration,
    remembered: Mutex<Remembered>,
    cache: Mutex<HashMap<CacheKey, (Instant, Vec<String>)>>,
}

/// The answer to one admission request and how it was reached (a metrics label).
#[derive(Debug)]
pub struct Decision {
    /// The AdmissionResponse.
    pub response: Response,
    /// `allowed`, `denied`, `cached`, `fallback_allowed` or `fallback_denied`.
    pub outcome: &'static str,
}

/// The cache never holds more entries than this; the oldest go first.
const CACHE_CAPACITY: usize = 4096;

impl Forwarder {
    /// A forwarder for `config`; connects lazily, so the relay starts (and answers
    /// by its failure policy) while the verifier is away.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let mut endpoint = Endpoint::from_shared(config.verifier.clone())?
            .connect_timeout(config.timeout.min(Duration::from_secs(3)))
            .tcp_nodelay(true);
        if config.verifier.starts_with("https://") {
            let mut tls = ClientTlsConfig::new().with_native_roots();
            if let Some(path) = &config.verifier_ca {
                let pem =
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint.tls_config(tls)?;
        }
        let authorization = format!("Bearer {}", config.token.trim()).parse()?;
        Ok(Forwarder {
            client: VerifierClient::new(endpoint.connect_lazy()),
            authorization,
            timeout: config.timeout,
            allow_cache: config.allow_cache,
            remembered: Mutex::new(Remembered {
                failure_policy: config.failure_policy,
                timeout_seconds: 0,
            }),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The deadline of the next call: `--timeout-seconds`, lowered to one second
    /// below the verifier's last reported webhook timeout.
    pub fn deadline(&self) -> Duration {
        let remembered = self
            .remembered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .timeout_seconds;
        match remembered {
            t if t >= 2 => self.timeout.min(Duration::from_secs(u64::from(t) - 1)),
            _ => self.timeout,
        }
    }

    /// Decides `request`: by the verifier when it answers in time, otherwise by
    /// the allow cache or the failure policy.
    pub async fn decide(
        &self,
        request: &Request,
        labels: &NamespaceLabels,
        metrics: &Metrics,
    ) -> Decision {
        let mut call = tonic::Request::new(ReviewRequest {
            admission_request: request.raw.clone(),
            namespace_labels: labels.get(&request.namespace),
            relay_version: VERSION.to_string(),
        });
        let deadline = self.deadline();
        call.set_timeout(deadline);
        call.metadata_mut()
            .insert("authorization", self.authorization.clone());
        let started = Instant::now();
        let mut client = self.client.clone();
        let error = match tokio::time::timeout(deadline, client.review(call)).await {
            Ok(Ok(answer)) => {
                metrics
                    .review_seconds
                    .observe(started.elapsed().as_secs_f64());
                return self.answered(request, answer.into_inner());
            }
            Ok(Err(status)) => describe(&status),
            Err(_) => format!("signet verifier unreachable: no answer within {deadline:?}"),
        };
        metrics.verifier_errors.inc();
        tracing::warn!(uid = %request.uid, %error, "verifier did not answer");
        self.fallback(request, error)
    }

    fn answered(&self, request: &Request, answer: ReviewResponse) -> Decision {
        {
            let mut remembered = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
            match ProtoPolicy::try_from(answer.failure_policy) {
                Ok(ProtoPolicy::Fail) => remembered.failure_policy = FailurePolicy::Fail,
                Ok(ProtoPolicy::Ignore) => remembered.failure_policy = FailurePolicy::Ignore,
                _ => {}
            }
            if answer.timeout_seconds > 0 {
                remembered.timeout_seconds = answer.timeout_seconds;
            }
        }
        if answer.allowed && !self.allow_cache.is_zero() {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= CACHE_CAPACITY {
                let max_age = self.allow_cache;
                cache.retain(|_, (at, _)| at.elapsed() < max_age);
                if let Some(oldest) = cache
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
                {
                    cache.remove(&oldest);
                }
            }
            cache.insert(key(request), (Instant::now(), answer.warnings.clone()));
        }
        let response = Response {
            uid: request.uid.clone(),
            allowed: answer.allowed,
            status: (!answer.allowed).then_some((403, answer.message)),
            warnings: answer.warnings,
            patch: answer.patch,
        };
        Decision {
            response,
            outcome: if answer.allowed { "allowed" } else { "denied" },
        }
    }

    fn fallback(&self, request: &Request, error: String) -> Decision {
        let uid = request.uid.clone();
        if !self.allow_cache.is_zero() {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            let key = key(request);
            match cache.get(&key) {
                Some((at, warnings)) if at.elapsed() <= self.allow_cache => {
                    let mut warnings = warnings.clone();
                    warnings.push(format!(
                        "{error}; admitted from the relay's cache of a decision {}s old (images not pinned to digests)",
                        at.elapsed().as_secs()
                    ));
                    let response = Response {
                        uid,
                        allowed: true,
                        warnings,
                        ..Default::default()
                    };
                    return Decision {
                        response,
                        outcome: "cached",
                    };
                }
                Some(_) => {
                    cache.remove(&key);
                }
                None => {}
            }
        }
        let policy = self
            .remembered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failure_policy;
        match policy {
            FailurePolicy::Fail => Decision {
                response: Response::deny(
                    &uid,
                    500,
                    format!("{error}; denied by failurePolicy Fail"),
                ),
                outcome: "fallback_denied",
            },
            FailurePolicy::Ignore => Decision {
                response: Response {
                    uid,
                    allowed: true,
                    warnings: vec![format!(
                        "{error}; admitted unverified by failurePolicy Ignore"
                    )],
                    ..Default::default()
                },
                outcome: "fallback_allowed",
            },
        }
    }
}

fn key(request: &Request) -> CacheKey {
    (
        request.namespace.clone(),
        request.operation.clone(),
        request.kind.clone(),
        request.images.clone(),
    )
}

/// A message for a failed Review call, with the transport error's causes.
fn describe(status: &tonic::Status) -> String {
    let mut detail = status.message().to_string();
    let mut source = std::error::Error::source(status);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !detail.contains(&cause_text) {
            detail = format!("{detail}: {cause_text}");
        }
        source = cause.source();
    }
    match status.code() {
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => {
            format!("signet verifier unreachable: {detail}")
        }
        code => format!("signet verifier could not decide ({code:?}): {detail}"),
    }
}
