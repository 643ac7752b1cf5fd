//! Change notifications between replicas.
//!
//! Every write to policies, keys, trust roots, credentials, clusters or tokens
//! announces itself as a [`Change`]. On PostgreSQL the announcement is a
//! `pg_notify('signet_changes', '<kind>:<name>')` issued inside the writing
//! transaction, so it is delivered to every replica (this one included) exactly
//! when the write commits, and never for a write that rolled back. Each store
//! keeps one `LISTEN` connection and forwards what arrives to
//! [`Store::subscribe`](super::Store::subscribe) receivers. The embedded SQLite
//! store has one process, so it publishes in-process after the commit.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

/// The channel every replica listens on.
pub const CHANNEL: &str = "signet_changes";

/// The name a [`Change`] carries when everything of its kind may have changed: sent
/// after the listener reconnects, since notifications sent while it was away are lost.
pub const ANY_NAME: &str = "*";

/// What kind of stored thing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Policy,
    Key,
    TrustRoot,
    Credential,
    Cluster,
    Token,
}

impl ChangeKind {
    /// Every kind, for a resynchronisation after missed notifications.
    pub const ALL: [ChangeKind; 6] = [
        ChangeKind::Policy,
        ChangeKind::Key,
        ChangeKind::TrustRoot,
        ChangeKind::Credential,
        ChangeKind::Cluster,
        ChangeKind::Token,
    ];

    /// The word used in notification payloads.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Policy => "policy",
            ChangeKind::Key => "key",
            ChangeKind::TrustRoot => "trust_root",
            ChangeKind::Credential => "credential",
            ChangeKind::Cluster => "cluster",
            ChangeKind::Token => "token",
        }
    }

    fn parse(s: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One change: the kind and the name of what was created, replaced or deleted.
///
/// Names: policies by qualified name (`name` or `namespace/name`), keys as
/// `namespace/name`, trust roots by name, credentials by registry (those of a named
/// set as `SET@REGISTRY`), clusters by
/// name, tokens by id. A name of [`ANY_NAME`] (`*`) means "reload every thing of
/// this kind". A receiver that lags (`RecvError::Lagged`) should reload everything too.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub name: String,
}

impl Change {
    /// A change of `kind` to the thing called `name`.
    pub fn new(kind: ChangeKind, name: impl Into<String>) -> Change {
        Change {
            kind,
            name: name.into(),
        }
    }

    /// The `pg_notify` payload, `<kind>:<name>`.
    pub fn payload(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.name)
    }

    /// Parses a payload written by [`Change::payload`]; `None` for anything else
    /// (another program may share the channel name).
    pub fn from_payload(payload: &str) -> Option<Change> {
        let (kind, name) = payload.split_once(':')?;
        Some(Change::new(ChangeKind::parse(kind)?, name))
    }
}

/// Connects a listener to `url` and subscribes it to [`CHANNEL`].
pub(crate) async fn connect_listener(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Forwards notifications from `listener` to `tx` for as long as the task runs (the
/// store aborts it when its last handle is dropped or it is closed).
///
/// A lost connection is re-established with exponential backoff (0.1 s … 5 s); the
/// first failure of a streak is logged as a warning, the rest at debug level, so a
/// database outage does not flood the log. After every reconnection a `*` change of
/// each kind is sent, because whatever was notified in between is gone.
pub(crate) async fn run_listener(
    url: String,
    mut listener: PgListener,
    tx: broadcast::Sender<Change>,
) {
    const MIN_BACKOFF: Duration = Duration::from_millis(100);
    const MAX_BACKOFF: Duration = Duration::from_secs(5);
    loop {
        // Forward until the connection fails.
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    if let Some(change) = Change::from_payload(n.payload()) {
                        // No receivers is fine: nobody is interested yet.
                        let _ = tx.send(change);
                    }
                }
                Ok(None) => {
                    tracing::warn!("store change listener lost its connection; reconnecting");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "store change listener failed; reconnecting");
                    break;
                }
            }
        }
        // Start from a fresh connection: after an error the old one may be half-closed.
        let mut backoff = MIN_BACKOFF;
        let mut attempts = 0u32;
        listener = loop {
            tokio::time::sleep(backoff).await;
            match connect_listener(&url).await {
                Ok(l) => break l,
                Err(e) => {
                    attempts += 1;
                    if attempts == 1 {
                        tracing::warn!(error = %e, "store change listener cannot reconnect yet; retrying");
                    } else {
                        tracing::debug!(error = %e, attempts, "store change listener still reconnecting");
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        };
        tracing::info!("store change listener reconnected");
        for kind in ChangeKind::ALL {
            let _ = tx.send(Change::new(kind, ANY_NAME));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip() {
        for kind in ChangeKind::ALL {
            let c = Change::new(kind, "ns/na:me");
            assert_eq!(Change::from_payload(&c.payload()), Some(c));
        }
        assert_eq!(Change::from_payload("nope"), None);
        assert_eq!(Change::from_payload("bogus:x"), None);
    }
}
