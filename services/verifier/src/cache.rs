//! The shared verdict tier (L2): Redis, used by every replica when `REDIS_URL` is set.
//! Redis is a help, never a dependency: when it is unreachable the verifier keeps
//! deciding with its in-process cache, logs the outage once, reports it in `/metrics`
//! and `/readyz`, and uses Redis again as soon as it answers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use signet_verify::cache::{CacheConfig, Claim, VerdictStore};

/// Longest wait for Redis on a decision's path.
const TIMEOUT: Duration = Duration::from_millis(250);
/// Least time between two connection attempts while Redis is down.
const RETRY: Duration = Duration::from_millis(500);

/// Cache settings from the command line.
#[derive(Debug, Clone, Default)]
pub struct CacheOptions {
    /// Redis URL of the shared tier, if any.
    pub redis_url: Option<String>,
    /// The in-process and shared cache settings.
    pub config: CacheConfig,
}

/// Verdicts in Redis, reconnecting on demand.
pub struct RedisStore {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<ConnectionManager>>,
    /// Whether the last call reached Redis, and why not when it did not.
    status: Mutex<Result<(), String>>,
    last_attempt: Mutex<Option<Instant>>,
    /// Set while an outage has been logged, so that it is logged once.
    logged: AtomicBool,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("status", &self.status())
            .finish()
    }
}

impl RedisStore {
    /// A store for `url`; it connects on first use, so Redis may be down at start.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        Ok(RedisStore {
            client: redis::Client::open(url)?,
            conn: tokio::sync::Mutex::new(None),
            status: Mutex::new(Err("not connected yet".into())),
            last_attempt: Mutex::new(None),
            logged: AtomicBool::new(false),
        })
    }

    /// `Ok` when the last call reached Redis, else why not.
    pub fn status(&self) -> Result<(), String> {
        match self.status.lock() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Whether Redis answered the last call.
    pub fn is_up(&self) -> bool {
        self.status().is_ok()
    }

    /// Checks Redis now (readiness probes), reconnecting if needed.
    pub async fn ping(&self) -> Result<(), String> {
        let result = match self.connection().await {
            Some(mut c) => tokio::time::timeout(TIMEOUT, redis::cmd("PING").query_async(&mut c))
                .await
                .map_err(|_| "no answer".to_owned())
                .and_then(|r: redis::RedisResult<String>| r.map_err(|e| e.to_string()))
                .map(drop),
            None => self.status(),
        };
        self.record(result.clone());
        result
    }

    fn record(&self, result: Result<(), String>) {
        match &result {
            Ok(()) => {
                if self.logged.swap(false, Ordering::Relaxed) {
                    tracing::info!("redis reachable again: shared verdict cache in use");
                }
            }
            Err(why) => {
                if !self.logged.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %why, "redis unreachable: deciding with the in-process cache only");
                }
            }
        }
        if let Ok(mut s) = self.status.lock() {
            *s = result;
        }
    }

    /// The connection, opening one when there is none (at most every [`RETRY`]).
    async fn connection(&self) -> Option<ConnectionManager> {
        let mut conn = self.conn.lock().await;
        if let Some(c) = conn.as_ref() {
            return Some(c.clone());
        }
        if let Ok(mut last) = self.last_attempt.lock() {
            if last.is_some_and(|t| t.elapsed() < RETRY) {
                return None;
            }
            *last = Some(Instant::now());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1);
        match ConnectionManager::new_with_config(self.client.clone(), config).await {
            Ok(c) => {
                *conn = Some(c.clone());
                Some(c)
            }
            Err(e) => {
                self.record(Err(e.to_string()));
                None
            }
        }
    }

    /// Forgets a connection that failed, so that the next call opens a fresh one now.
    async fn drop_connection(&self, why: String) {
        *self.conn.lock().await = None;
        if let Ok(mut last) = self.last_attempt.lock() {
            *last = None;
        }
        self.record(Err(why));
    }
}

/// Attempts per call: a connection that broke while idle (Redis restarted) fails once,
/// then a fresh one is opened.
const ATTEMPTS: usize = 2;

/// Deletes a claim only if it still holds this replica's token: a claim that expired
/// and was taken by another replica is theirs.
const RELEASE: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/// `ttl` in whole milliseconds, at least 1 (Redis refuses a zero expiry).
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Where the claim on a verdict's verification is kept, beside the verdict.
fn claim_key(key: &str) -> String {
    format!("{key}:claim")
}

impl RedisStore {
    /// Runs `cmd`, reconnecting once if the connection broke; `None` when Redis cannot
    /// be reached (recorded as an outage).
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Option<T> {
        for _ in 0..ATTEMPTS {
            let mut c = self.connection().await?;
            match tokio::time::timeout(TIMEOUT, cmd.query_async::<T>(&mut c)).await {
                Ok(Ok(v)) => {
                    self.record(Ok(()));
                    return Some(v);
                }
                Ok(Err(e)) => self.drop_connection(e.to_string()).await,
                Err(_) => self.drop_connection("no answer".into()).await,
            }
        }
        None
    }
}

#[async_trait]
impl VerdictStore for RedisStore {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.query(redis::cmd("GET").arg(key)).await.flatten()
    }

    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) {
        let mut set = redis::cmd("PSETEX");
        set.arg(key).arg(millis(ttl)).arg(value);
        let _ = self.query::<()>(&set).await;
    }

    async fn claim(&self, key: &str, ttl: Duration) -> Claim {
        let token = format!("{:016x}", rand::random::<u64>());
        let mut set = redis::cmd("SET");
        set.arg(claim_key(key))
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl));
        match self.query::<Option<String>>(&set).await {
            Some(Some(_)) => Claim::Granted(token),
            Some(None) => Claim::Held,
            None => Claim::Unavailable,
        }
    }

    async fn release(&self, key: &str, token: &str) {
        let mut eval = redis::cmd("EVAL");
        eval.arg(RELEASE).arg(1).arg(claim_key(key)).arg(token);
        let _ = self.query::<i64>(&eval).await;
    }
}
