//! The store: policies, keys, trust roots, registry credentials (per registry, and in
//! named sets), clusters, tokens, decisions and settings.
//!
//! One implementation over [`sqlx::AnyPool`] serves two backends:
//!
//! - **PostgreSQL** (`postgres://…`), for production and for several replicas;
//! - **SQLite** embedded in the data directory (`<data-dir>/signet.db`) when no
//!   database URL is configured, so `signet-verifier` starts on a bare machine and
//!   keeps its data across restarts.
//!
//! Both run the same SQL, written in the subset the two accept: `$n` placeholders
//! each used once and in order, TEXT ids made in Rust, times as BIGINT unix
//! milliseconds, booleans as BIGINT 0/1, JSON as TEXT. One migrations folder
//! (`migrations/` at the repository root) is embedded in the binary and applied by
//! [`Store::open`] and [`Store::migrate`].
//!
//! Writes that other replicas must see (everything except decisions, cluster
//! heartbeats and settings) announce themselves; see [`notify`] and
//! [`Store::subscribe`].
//!
//! Every call returns [`StoreError::Unavailable`] when the database cannot be
//! reached; a write that returned `Ok` has been committed.

mod clusters;
mod credential_sets;
mod credentials;
mod decisions;
mod error;
mod journal;
mod keys;
pub mod notify;
mod policies;
mod settings;
mod tokens;
mod trust_roots;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

pub use clusters::ClusterRecord;
pub use credential_sets::{NamedCredentialSecret, NamedCredentialSummary};
pub use credentials::{CredentialSecret, CredentialSummary};
pub use decisions::{DecisionFilter, DecisionRecord, SummaryRow, MAX_PAGE, RESULT_FILTERS};
pub use error::StoreError;
pub use journal::DecisionJournal;
pub use keys::KeyRecord;
pub use notify::{Change, ChangeKind};
pub use policies::{NewPolicy, PolicyRecord, PolicyRevision};
pub use tokens::{TokenRecord, TOKEN_ROLES};
pub use trust_roots::TrustRootRecord;

/// The embedded database's file name inside the data directory.
pub const SQLITE_FILE: &str = "signet.db";

/// How long a call waits for a free connection before it fails as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The migrations in `migrations/` at the repository root, embedded at build time.
///
/// Migrations already applied by a newer build are tolerated: during a rolling
/// upgrade the old replicas keep running against the new schema, which is why
/// migrations only ever add (tables, nullable columns, indexes).
fn migrator() -> sqlx::migrate::Migrator {
    let mut m = sqlx::migrate!("../../migrations");
    m.set_ignore_missing(true);
    m
}

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A handle on the store. Cheap to clone: every clone shares one pool and one
/// change feed.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: AnyPool,
    backend: Backend,
    changes: broadcast::Sender<Change>,
    listener: Option<JoinHandle<()>>,
    /// Decision subjects this process has stored.
    known_subjects: decisions::KnownSubjects,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(l) = &self.listener {
            l.abort();
        }
    }
}

impl std::fmt::Debug for Store {
    // The pool's options hold the database URL, which may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.backend)
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A fresh random id (32 lowercase hex characters); the tests and benches name their
/// PostgreSQL databases with it (decisions have time-ordered ids of their own).
pub fn new_id() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Opens the store and applies pending migrations.
    ///
    /// `database_url` `postgres://…` (or `postgresql://…`) selects PostgreSQL;
    /// `sqlite:…` selects that SQLite file; `None` selects the embedded store in
    /// `data_dir` (created if missing). On PostgreSQL the change listener is
    /// connected before this returns, so no change committed afterwards is missed.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = match database_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                (u.to_string(), Backend::Postgres)
            }
            Some(u) if u.starts_with("sqlite:") => (u.to_string(), Backend::Sqlite),
            // Never echo the URL: it may carry a password.
            Some(_) => {
                return Err(StoreError::Invalid(
                    "database URL must start with postgres://, postgresql:// or sqlite:".into(),
                ))
            }
            None => (sqlite_url_in(data_dir)?, Backend::Sqlite),
        };
        let options: AnyConnectOptions = url
            .parse()
            .map_err(|_| StoreError::Invalid("database URL cannot be parsed".into()))?;
        let pool_options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        let pool_options = match backend {
            Backend::Postgres => pool_options.max_connections(10),
            Backend::Sqlite => pool_options
                // Writers are serialised by the database anyway (BEGIN IMMEDIATE); a few
                // connections let readers run beside the writer under WAL.
                .max_connections(4)
                // An embedded connection cannot be lost to the network, and sqlx's check
                // on acquire (a ping) is one more hand-off to the connection's worker
                // thread for every statement.
                .test_before_acquire(false)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        // WAL lets readers run while one writer commits; FULL makes every
                        // commit durable before it returns, so what the API acknowledged
                        // (policies, keys, tokens) and every committed decision survive a
                        // power cut.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        Ok(())
                    })
                }),
        };
        let pool = pool_options.connect_with(options).await?;
        let (changes, _) = broadcast::channel(1024);
        let listener = match backend {
            Backend::Postgres => {
                let listener = match notify::connect_listener(&url).await {
                    Ok(l) => l,
                    Err(e) => {
                        pool.close().await;
                        return Err(e.into());
                    }
                };
                Some(tokio::spawn(notify::run_listener(
                    url,
                    listener,
                    changes.clone(),
                )))
            }
            Backend::Sqlite => None,
        };
        let store = Store {
            inner: Arc::new(Inner {
                pool,
                backend,
                changes,
                listener,
                known_subjects: decisions::KnownSubjects::default(),
            }),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies every migration not yet applied. Safe to run from several replicas
    /// at once: sqlx takes a database lock while it migrates.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrator().run(&self.inner.pool).await?;
        Ok(())
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Checks that the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.inner.pool).await?;
        Ok(())
    }

    /// A receiver of every [`Change`] committed from now on, by this replica or
    /// (on PostgreSQL) any other.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.inner.changes.subscribe()
    }

    /// Closes the pool and stops the change listener; every later call fails with
    /// [`StoreError::Unavailable`]. Waits for connections in use to be returned.
    pub async fn close(&self) {
        if let Some(l) = &self.inner.listener {
            l.abort();
        }
        self.inner.pool.close().await;
    }

    /// The pool, for modules of the store.
    fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead
    /// of one failing when it upgrades a read lock.
    async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        let tx = match self.inner.backend {
            Backend::Sqlite => self.inner.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.inner.pool.begin().await?,
        };
        Ok(tx)
    }

    /// Announces `change` as part of `tx` (PostgreSQL: delivered when `tx` commits).
    async fn notify_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        change: &Change,
    ) -> Result<(), StoreError> {
        if self.inner.backend == Backend::Postgres {
            // pg_notify returns `void`, which the Any driver cannot decode: cast it.
            sqlx::query("SELECT pg_notify('signet_changes', $1)::text")
                .bind(change.payload())
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Commits `tx`, then publishes `changes` in-process where the database does
    /// not deliver them (SQLite).
    async fn commit(
        &self,
        tx: Transaction<'static, Any>,
        changes: Vec<Change>,
    ) -> Result<(), StoreError> {
        tx.commit().await?;
        if self.inner.backend == Backend::Sqlite {
            for c in changes {
                // No receivers is fine.
                let _ = self.inner.changes.send(c);
            }
        }
        Ok(())
    }
}

/// `sqlite://<data_dir>/signet.db?mode=rwc`, creating `data_dir` first.
fn sqlite_url_in(data_dir: &Path) -> Result<String, StoreError> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot create data directory {}: {e}",
            data_dir.display()
        ))
    })?;
    let dir = data_dir.canonicalize().map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot resolve data directory {}: {e}",
            data_dir.display()
        ))
    })?;
    let file = dir.join(SQLITE_FILE);
    let path = file.to_str().ok_or_else(|| {
        StoreError::Invalid(format!(
            "data directory {} is not valid UTF-8",
            data_dir.display()
        ))
    })?;
    Ok(format!("sqlite://{}?mode=rwc", percent_encode_path(path)))
}

/// Percent-encodes everything but unreserved characters and `/`, so that a path
/// with `?`, `#`, `%` or spaces survives URL parsing (sqlx decodes it again).
fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Converts a stored 0/1 into a bool.
fn flag(v: i64) -> bool {
    v != 0
}

/// Rejects a JSON text that does not parse; `what` names it in the message.
fn check_json(what: &str, text: &str) -> Result<(), StoreError> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| StoreError::Invalid(format!("{what} is not valid JSON: {e}")))
}

/// Rejects an empty name; `what` names it in the message.
fn check_name(what: &str, name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid(format!("{what} must not be empty")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded() {
        assert_eq!(percent_encode_path("/a b/c?d#e%"), "/a%20b/c%3Fd%23e%25");
        assert_eq!(percent_encode_path("/srv/signet-data"), "/srv/signet-data");
    }

    #[test]
    fn ids_are_random_hex() {
        let a = new_id();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, new_id());
    }
}
