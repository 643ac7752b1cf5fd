//! The service's domain layer, shared by REST and gRPC: policies (with fleet scoping and
//! live reload), keys, clusters and tokens, admission reviews, reports. No transport here.

mod callers;
mod clusters;
mod keys;
mod policies;
mod policy_report;
mod reports;
mod review;
pub mod selector;
mod trust;

use std::sync::{Arc, RwLock};

use signet_policy::Policy;
use signet_verify::Verifier;

pub use clusters::{IssuedToken, NewToken};
pub use keys::StoreKeys;
pub use policies::{AppliedPolicy, PolicySummary};
pub use reports::{PolicyReport, ReportPage};
pub use review::ReviewOutcome;
use selector::ClusterSelector;
pub use trust::CredentialsKey;

use crate::auth::Authenticator;
use crate::error::ApiError;
use crate::store::{ChangeKind, DecisionJournal, Store};

/// A loaded policy with what the service adds: its stored version and cluster selector.
#[derive(Debug, Clone)]
pub struct ActivePolicy {
    /// The policy as Kyverno reads it.
    pub policy: Policy,
    /// Version in the store; recorded with each decision.
    pub version: i64,
    /// `signet.dev/cluster-selector`, parsed.
    pub selector: ClusterSelector,
}

/// The domain service; cheap to clone.
#[derive(Debug, Clone)]
pub struct Service {
    pub(crate) store: Store,
    pub(crate) auth: Authenticator,
    pub(crate) verifier: Verifier,
    pub(crate) credentials_key: Option<CredentialsKey>,
    /// The shared verdict tier, when `REDIS_URL` is set.
    pub(crate) redis: Option<Arc<crate::cache::RedisStore>>,
    /// Decisions are written behind the answers by one writer.
    pub(crate) journal: DecisionJournal,
    /// Calling clusters' labels and heartbeats.
    pub(crate) callers: callers::Callers,
    policies: Arc<RwLock<Arc<Vec<ActivePolicy>>>>,
}

impl Service {
    /// Builds the service and loads the stored policies.
    pub async fn new(
        store: Store,
        auth: Authenticator,
        verifier: Verifier,
        credentials_key: Option<CredentialsKey>,
    ) -> Result<Self, ApiError> {
        let service = Service {
            journal: DecisionJournal::start(store.clone()),
            callers: callers::Callers::default(),
            store,
            auth,
            verifier,
            credentials_key,
            redis: None,
            policies: Arc::new(RwLock::new(Arc::new(Vec::new()))),
        };
        service.reload_policies().await?;
        service.reload_credentials().await?;
        Ok(service)
    }

    /// This service with `redis` as its shared verdict tier (reported by `/readyz`).
    pub fn with_redis(mut self, redis: Arc<crate::cache::RedisStore>) -> Self {
        self.redis = Some(redis);
        self
    }

    /// The shared verdict tier, when configured.
    pub fn redis(&self) -> Option<&crate::cache::RedisStore> {
        self.redis.as_deref()
    }

    /// The verifier (cache counters for metrics).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The decisions writer (backlog and failures for `/metrics` and `/readyz`).
    pub fn journal(&self) -> &DecisionJournal {
        &self.journal
    }

    /// The token authority.
    pub fn auth(&self) -> &Authenticator {
        &self.auth
    }

    /// The policies in force now.
    pub fn active_policies(&self) -> Arc<Vec<ActivePolicy>> {
        match self.policies.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads every policy from the store.
    pub async fn reload_policies(&self) -> Result<(), ApiError> {
        let records = self.store.list_policies().await?;
        let mut loaded = Vec::with_capacity(records.len());
        for r in records {
            // Stored documents were validated when applied; one that no longer loads (an
            // older Signet accepted it) is skipped loudly rather than taking all down.
            match policies::parse_stored(&r.document) {
                Ok((policy, selector)) => loaded.push(ActivePolicy {
                    policy,
                    version: r.version,
                    selector,
                }),
                Err(e) => {
                    tracing::error!(policy = %r.name, error = %e, "stored policy no longer loads")
                }
            }
        }
        let count = loaded.len();
        match self.policies.write() {
            Ok(mut p) => *p = Arc::new(loaded),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(loaded),
        }
        tracing::info!(policies = count, "policies loaded");
        Ok(())
    }

    /// Follows store changes (this replica's and others') until the process ends:
    /// policies are reloaded, token checks forgotten.
    pub fn watch_changes(&self) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        let mut changes = self.store.subscribe();
        tokio::spawn(async move {
            loop {
                match changes.recv().await {
                    Ok(change) => match change.kind {
                        ChangeKind::Policy => {
                            if let Err(e) = service.reload_policies().await {
                                tracing::warn!(error = %e, "policy reload failed");
                            }
                        }
                        ChangeKind::Token => service.auth.forget(None),
                        ChangeKind::Cluster => {
                            service.auth.forget(None);
                            service.callers.invalidate();
                        }
                        ChangeKind::Credential => {
                            if let Err(e) = service.reload_credentials().await {
                                tracing::warn!(error = %e, "registry credentials reload failed");
                            }
                        }
                        ChangeKind::TrustRoot => {
                            if let Err(e) = service.reload_trust_roots().await {
                                tracing::warn!(error = %e, "trust roots reload failed");
                            }
                        }
                        _ => {}
                    },
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let _ = service.reload_policies().await;
                        let _ = service.reload_trust_roots().await;
                        let _ = service.reload_credentials().await;
                        service.auth.forget(None);
                        service.callers.invalidate();
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        })
    }
}
