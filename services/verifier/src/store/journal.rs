//! Decisions are recorded behind the answer.
//!
//! Reports are how people see what the fleet admitted; admission is what keeps clusters
//! running. Committing each decision before answering tied the two together: every
//! Review waited for a commit (most of a warm Review's time), and a store outage failed
//! every Review although its verdict was known. Kyverno makes the same choice and writes
//! its reports in the background.
//!
//! What is kept, so nothing is lost quietly:
//! - a decision is queued before its answer leaves, and the queue is bounded: when it is
//!   full, callers wait for room (back-pressure) rather than any row being dropped;
//! - one writer commits whatever gathered in the queue over a few milliseconds in one
//!   statement or transaction;
//! - a commit that fails because the store is unavailable is retried with backoff, rows
//!   kept (ids make a retry that follows a lost acknowledgement harmless); the outage is
//!   logged once when it starts and once when it ends;
//! - while the store is known to be unavailable, new rows are refused with
//!   [`StoreError::Unavailable`], so the calls that would have made them fail cleanly
//!   (the relay then applies the policy's `failurePolicy`) instead of being answered
//!   with decisions that exist only in this process's memory;
//! - [`DecisionJournal::flush`] waits until everything queued before it is committed:
//!   report queries call it, so a replica always reads its own decisions, and shutdown
//!   calls it, so a stopped verifier has stored everything it answered.
//!
//! A process that crashes loses what is queued: under ordinary load, the rows of the last
//! [`LINGER`]; during an outage, only the rows queued before it was noticed.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{DecisionRecord, Store, StoreError};

/// Callers whose rows may wait for the writer at once; more wait for room.
const QUEUE: usize = 8192;
/// Rows per commit at most: bounds a transaction's size and one batch's latency.
const MAX_BATCH_ROWS: usize = 2000;
/// How long the writer lets rows gather before a commit (not after a full batch: the next
/// is already queued). Nobody waits for the commit, and
/// a commit's cost is mostly per commit (WAL frames, the flush, index pages touched), so
/// fewer, larger commits leave more CPU to admissions. Measured with the review bench on
/// the embedded store (2026-11-27), going from 10 ms to 50 ms halved SQLite's CPU per
/// cold verification (232 → 113 µs: sequential Reviews gathered 2 rows per commit, now
/// ~10) and cut it by a quarter per warm Review (20.7 → 15 µs). Reports do not wait for
/// it ([`DecisionJournal::flush`]); what it costs is the window a crash loses.
const LINGER: Duration = Duration::from_millis(50);
/// First and longest wait between attempts while the store is unavailable.
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(5);

enum Message {
    Rows(Vec<DecisionRecord>),
    /// Answered once every row queued before it is committed.
    Flush(oneshot::Sender<()>),
}

/// What the writer reports about itself (`/metrics`, `/readyz`).
#[derive(Debug, Default)]
struct State {
    /// Rows queued and not yet committed.
    backlog: AtomicUsize,
    /// Rows the store refused for good (not for being unavailable).
    dropped: AtomicU64,
    /// Why commits fail, while they fail because the store is unavailable.
    failing: Mutex<Option<String>>,
    /// `failing` is set: read by every append, so kept apart from the lock.
    unavailable: AtomicBool,
    /// Batches the writer let gather for [`LINGER`].
    lingered: AtomicU64,
}

impl State {
    fn failing(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.failing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records that commits fail for `why`; true when the outage begins with this call.
    fn fail(&self, why: String) -> bool {
        let began = self.failing().replace(why).is_none();
        self.unavailable.store(true, Ordering::Release);
        began
    }

    /// Records that commits succeed; true when an outage ends with this call.
    fn recover(&self) -> bool {
        self.unavailable.store(false, Ordering::Release);
        self.failing().take().is_some()
    }
}

/// Appends decisions through one writer that commits them after the caller has moved
/// on; cheap to clone. The writer ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct DecisionJournal {
    queue: mpsc::Sender<Message>,
    state: Arc<State>,
}

impl DecisionJournal {
    /// Starts the writer for `store` on the current tokio runtime.
    pub fn start(store: Store) -> DecisionJournal {
        DecisionJournal::with_capacity(store, QUEUE)
    }

    /// Starts a writer whose queue holds `callers` callers' rows (tests use small ones).
    pub fn with_capacity(store: Store, callers: usize) -> DecisionJournal {
        let (queue, rx) = mpsc::channel(callers.max(1));
        let state = Arc::new(State::default());
        tokio::spawn(write(store, rx, state.clone()));
        DecisionJournal { queue, state }
    }

    /// Queues `rows` for the store; returns once they are queued, waiting only when the
    /// queue is full. Rows the store would refuse are refused here, with the reason, and
    /// so is every row while the store is unavailable.
    pub async fn append(&self, rows: Vec<DecisionRecord>) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        for row in &rows {
            super::decisions::check_decision(row)?;
        }
        if self.state.unavailable.load(Ordering::Acquire) {
            let why = self.failure().unwrap_or_default();
            return Err(StoreError::Unavailable(format!(
                "decisions cannot be recorded now: {why}"
            )));
        }
        let n = rows.len();
        // Counted before sending: the writer may commit them before `send` returns.
        self.state.backlog.fetch_add(n, Ordering::Relaxed);
        if self.queue.send(Message::Rows(rows)).await.is_err() {
            self.state.backlog.fetch_sub(n, Ordering::Relaxed);
            return Err(stopped());
        }
        Ok(())
    }

    /// Returns once every row queued before this call is committed (or dropped as
    /// refused by the store). While the store is unavailable this waits for it.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Message::Flush(done))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }

    /// [`flush`](Self::flush), giving up after `limit`; true when everything was committed.
    pub async fn flush_within(&self, limit: Duration) -> bool {
        matches!(tokio::time::timeout(limit, self.flush()).await, Ok(Ok(())))
    }

    /// Rows handed to the journal (queued, or waiting for room) and not yet committed.
    pub fn backlog(&self) -> usize {
        self.state.backlog.load(Ordering::Relaxed)
    }

    /// Rows the store refused for good since start.
    pub fn dropped(&self) -> u64 {
        self.state.dropped.load(Ordering::Relaxed)
    }

    /// Why commits are failing now, if they are.
    pub fn failure(&self) -> Option<String> {
        self.state.failing().clone()
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the decision writer has stopped".into())
}

/// The writer: one commit per batch of whatever is queued, in order.
async fn write(store: Store, mut queue: mpsc::Receiver<Message>, state: Arc<State>) {
    let mut rows = Vec::new();
    let mut flushes = Vec::new();
    let mut linger = true;
    while let Some(first) = queue.recv().await {
        if linger && matches!(first, Message::Rows(_)) {
            state.lingered.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(LINGER).await;
        }
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Rows(mut r) => rows.append(&mut r),
                Message::Flush(done) => flushes.push(done),
            }
            if rows.len() < MAX_BATCH_ROWS {
                next = queue.try_recv().ok();
            }
        }
        // A full batch means rows arrive faster than one batch per linger: the next one is
        // already queued, and waiting again would hold every appender back behind it
        // (measured: 2 000 rows per ~60 ms, ~33k decisions/s, was all one writer took).
        linger = rows.len() < MAX_BATCH_ROWS;
        commit(&store, &rows, &state).await;
        state.backlog.fetch_sub(rows.len(), Ordering::Relaxed);
        rows.clear();
        for done in flushes.drain(..) {
            // A flusher that gave up no longer listens.
            let _ = done.send(());
        }
    }
}

/// Commits `rows`; when the store refuses the batch for a reason other than being
/// unavailable, commits them one by one so only the refused rows are dropped.
async fn commit(store: &Store, rows: &[DecisionRecord], state: &State) {
    if rows.is_empty() {
        return;
    }
    let Err(e) = insert_until_stored(store, rows, state).await else {
        return;
    };
    if rows.len() > 1 {
        tracing::warn!(error = %e, rows = rows.len(), "decision batch refused; storing its rows one by one");
        for row in rows {
            if let Err(e) = insert_until_stored(store, std::slice::from_ref(row), state).await {
                refused(state, row, &e);
            }
        }
    } else {
        refused(state, &rows[0], &e);
    }
}

fn refused(state: &State, row: &DecisionRecord, e: &StoreError) {
    state.dropped.fetch_add(1, Ordering::Relaxed);
    tracing::error!(
        error = %e,
        decision = %row.id,
        cluster = %row.cluster,
        policy = %row.policy,
        image = %row.image,
        "the store refused a decision; it is not recorded"
    );
}

/// Inserts `rows`, waiting out an unavailable store; any other error is returned.
async fn insert_until_stored(
    store: &Store,
    rows: &[DecisionRecord],
    state: &State,
) -> Result<(), StoreError> {
    let mut wait = RETRY_FIRST;
    loop {
        match store.insert_decisions(rows).await {
            Ok(()) => {
                if state.recover() {
                    tracing::info!(rows = rows.len(), "decisions are stored again");
                }
                return Ok(());
            }
            Err(StoreError::Unavailable(why)) => {
                if state.fail(why.clone()) {
                    tracing::warn!(
                        error = %why,
                        backlog = state.backlog.load(Ordering::Relaxed),
                        "decisions cannot be stored now; keeping them and retrying"
                    );
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
            Err(other) => return Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> DecisionRecord {
        DecisionRecord {
            id: id.into(),
            time: 1,
            cluster: "c".into(),
            namespace: "ns".into(),
            kind: "Pod".into(),
            name: "p".into(),
            operation: "CREATE".into(),
            image: "img".into(),
            digest: None,
            policy: "pol".into(),
            policy_version: 1,
            rule: "r".into(),
            result: "pass".into(),
            action: "enforce".into(),
            message: String::new(),
            dry_run: false,
        }
    }

    async fn count(store: &Store) -> usize {
        store
            .query_decisions(&Default::default(), 0, None)
            .await
            .expect("query")
            .0
            .len()
    }

    #[tokio::test]
    async fn concurrent_appends_are_all_committed_by_a_flush() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(None, dir.path()).await.expect("store");
        let journal = DecisionJournal::start(store.clone());
        let calls: Vec<_> = (0..200)
            .map(|i| {
                let j = journal.clone();
                tokio::spawn(async move { j.append(vec![row(&format!("d{i:04}"))]).await })
            })
            .collect();
        for c in calls {
            c.await.expect("task").expect("append");
        }
        journal.flush().await.expect("flush");
        assert_eq!(count(&store).await, 200);
        assert_eq!(journal.backlog(), 0);
        assert_eq!(journal.dropped(), 0);
        assert_eq!(journal.failure(), None);
    }

    #[tokio::test]
    async fn full_batches_are_committed_one_after_another_without_lingering() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(None, dir.path()).await.expect("store");
        let journal = DecisionJournal::start(store.clone());
        // Three full batches queued while the writer lingers over the first.
        for batch in 0..3 {
            let rows = (0..MAX_BATCH_ROWS)
                .map(|i| row(&format!("d{batch}-{i:05}")))
                .collect();
            journal.append(rows).await.expect("append");
        }
        journal.flush().await.expect("flush");
        assert_eq!(journal.state.lingered.load(Ordering::Relaxed), 1);
        assert_eq!(journal.backlog(), 0);
        // Back to a trickle: rows gather again.
        journal.append(vec![row("late")]).await.expect("append");
        journal.flush().await.expect("flush");
        assert_eq!(journal.state.lingered.load(Ordering::Relaxed), 2);
        assert_eq!(journal.dropped(), 0);
    }

    #[tokio::test]
    async fn a_bad_row_is_refused_to_its_caller_and_queues_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(None, dir.path()).await.expect("store");
        let journal = DecisionJournal::start(store.clone());
        let mut bad = row("bad");
        bad.result = "maybe".into();
        journal.append(vec![row("good")]).await.expect("good row");
        let err = journal
            .append(vec![row("good2"), bad])
            .await
            .expect_err("bad row");
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        journal.flush().await.expect("flush");
        assert_eq!(count(&store).await, 1);
    }

    #[tokio::test]
    async fn a_retried_row_is_stored_once() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(None, dir.path()).await.expect("store");
        let journal = DecisionJournal::start(store.clone());
        // As if a commit succeeded but its acknowledgement was lost, then retried.
        store.insert_decisions(&[row("dup")]).await.expect("seed");
        journal
            .append(vec![row("a"), row("dup"), row("b")])
            .await
            .expect("append");
        journal.flush().await.expect("flush");
        assert_eq!(count(&store).await, 3);
        assert_eq!(journal.dropped(), 0);
    }

    #[tokio::test]
    async fn a_row_the_database_refuses_is_dropped_alone_and_counted() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(None, dir.path()).await.expect("store");
        // Rows pass the checks on append; a trigger stands for a database that refuses
        // one anyway.
        sqlx::query(
            "CREATE TRIGGER refuse BEFORE INSERT ON decision_events WHEN NEW.name = 'poison' \
             BEGIN SELECT RAISE(ABORT, 'poison refused'); END",
        )
        .execute(store.pool())
        .await
        .expect("trigger");
        let journal = DecisionJournal::start(store.clone());
        let mut poison = row("p");
        poison.name = "poison".into();
        journal
            .append(vec![row("a"), poison, row("b")])
            .await
            .expect("append");
        journal.flush().await.expect("flush");
        assert_eq!(
            count(&store).await,
            2,
            "the two good rows of the batch are kept"
        );
        assert_eq!(journal.dropped(), 1);
        assert_eq!(journal.backlog(), 0);
    }

    #[tokio::test]
    async fn a_closed_store_stops_the_writer_only_for_new_callers() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(None, dir.path()).await.expect("store");
        let journal = DecisionJournal::start(store.clone());
        journal.append(vec![row("x")]).await.expect("queued");
        journal.flush().await.expect("flush");
        assert_eq!(count(&store).await, 1);
        store.close().await;
        // The writer keeps the row queued before the outage was known and retries: a
        // flush cannot finish.
        journal.append(vec![row("y")]).await.expect("queued");
        assert!(!journal.flush_within(Duration::from_millis(300)).await);
        assert_eq!(journal.backlog(), 1);
        let why = journal.failure().expect("failing");
        assert!(why.contains("closed"), "{why}");
        // Once it is known, new rows are refused rather than kept only in memory.
        let refused = journal.append(vec![row("z")]).await.expect_err("refused");
        assert!(
            matches!(&refused, StoreError::Unavailable(m) if m.contains("cannot be recorded")),
            "{refused:?}"
        );
        assert_eq!(journal.backlog(), 1);
    }
}
