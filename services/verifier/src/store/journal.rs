//! Group commit for decisions.
//!
//! Every admission must have its decisions committed before it is answered, and a
//! durable commit costs a disk flush (SQLite `synchronous = FULL`, PostgreSQL's WAL
//! flush). One flush per admission caps a replica at the disk's flush rate, far below
//! what the warm verdict cache can decide. The journal keeps the guarantee and shares
//! the flush: callers hand their rows to one writer, which commits everything that
//! arrived while the previous commit was running in one transaction, then answers
//! each caller with that transaction's outcome. Under light load a batch is one
//! caller and nothing waits longer than before; under heavy load a batch grows with
//! the queue, so throughput follows the CPU rather than the disk.

use tokio::sync::{mpsc, oneshot};

use super::{DecisionRecord, Store, StoreError};

/// Callers that may wait for the writer at once; more wait for room (back-pressure).
const QUEUE: usize = 4096;
/// Rows per transaction at most: bounds a transaction's size and one batch's latency.
const MAX_BATCH_ROWS: usize = 2000;

/// One caller's rows and where its answer goes.
struct Pending {
    rows: Vec<DecisionRecord>,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// Appends decisions through one group-committing writer; cheap to clone.
///
/// The writer task ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct DecisionJournal {
    queue: mpsc::Sender<Pending>,
}

impl DecisionJournal {
    /// Starts the writer for `store` (on the current tokio runtime).
    pub fn start(store: Store) -> DecisionJournal {
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write(store, rx));
        DecisionJournal { queue }
    }

    /// Stores `rows`; returns once they are committed (or the commit failed, in which
    /// case none of them is stored). Rows the store would refuse are refused here, so
    /// one caller's bad row never fails another caller's batch.
    pub async fn append(&self, rows: Vec<DecisionRecord>) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        for row in &rows {
            super::decisions::check_decision(row)?;
        }
        let (done, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the decision writer has stopped".into());
        self.queue
            .send(Pending { rows, done })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer: one transaction per batch of whatever is queued.
async fn write(store: Store, mut queue: mpsc::Receiver<Pending>) {
    while let Some(first) = queue.recv().await {
        let mut rows = Vec::new();
        let mut waiting = Vec::new();
        let mut next = Some(first);
        while let Some(mut p) = next.take() {
            rows.append(&mut p.rows);
            waiting.push(p.done);
            if rows.len() < MAX_BATCH_ROWS {
                next = queue.try_recv().ok();
            }
        }
        let outcome = store.insert_decisions(&rows).await;
        for done in waiting {
            // A caller that gave up (its request was cancelled) no longer listens.
            let _ = done.send(outcome.clone());
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
    async fn concurrent_appends_are_all_committed_before_they_return() {
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
        assert_eq!(count(&store).await, 200);
    }

    #[tokio::test]
    async fn a_bad_row_fails_only_its_caller() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(None, dir.path()).await.expect("store");
        let journal = DecisionJournal::start(store.clone());
        let mut bad = row("bad");
        bad.result = "maybe".into();
        let (good, bad) =
            tokio::join!(journal.append(vec![row("good")]), journal.append(vec![bad]));
        good.expect("good row");
        assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");
        assert_eq!(count(&store).await, 1);
    }

    #[tokio::test]
    async fn a_closed_store_fails_every_waiting_caller() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(None, dir.path()).await.expect("store");
        let journal = DecisionJournal::start(store.clone());
        store.close().await;
        let err = journal.append(vec![row("x")]).await.expect_err("closed");
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    }
}
