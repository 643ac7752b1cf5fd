//! Writing decisions to the embedded store: `cargo bench -p signet-verifier --bench decisions`.
//!
//! Every warm `Review` ends in one decision row, committed by the journal in batches; on
//! the embedded store that write is SQLite's CPU in this process, on the cores that also
//! answer admissions. Prints the CPU (every thread of this process) and wall time per
//! decision for batches of a trickle and of a busy replica, then how long the first page
//! of one image's decisions takes to read. `SIGNET_BENCH_ROWS` sets the rows per figure
//! (default 100 000).

use std::time::{Duration, Instant};

use signet_testkit::process_cpu_time;
use signet_verifier::store::{DecisionFilter, DecisionRecord, Store};

/// Distinct images among the rows.
const IMAGES: usize = 50;
/// Reads of the first page, for the median.
const READS: usize = 21;

/// Rows per commit: ~50 ms of a replica answering 5 000 Reviews a second, and the journal's
/// full batch.
const BATCHES: [usize; 2] = [250, 2_000];

fn record(i: usize, time: i64) -> DecisionRecord {
    DecisionRecord {
        // As the service makes them: the time in hex, then a unique part.
        id: format!("{time:012x}{:016x}", i as u64 * 0x9e37_79b9_7f4a_7c15),
        time,
        cluster: "bench".into(),
        namespace: "default".into(),
        kind: "Pod".into(),
        name: format!("web-{}", i % 500),
        operation: "CREATE".into(),
        image: image(i % IMAGES),
        digest: Some(format!("sha256:{:064x}", i % IMAGES)),
        policy: "verify-images".into(),
        policy_version: 1,
        rule: "check-signature".into(),
        result: "pass".into(),
        action: "enforce".into(),
        message: String::new(),
        dry_run: false,
    }
}

fn image(n: usize) -> String {
    format!("registry.example.com/team/app-{n}:v1")
}

/// Median wall time of reading the first page (50) of one image's decisions.
async fn first_page(store: &Store) -> Duration {
    let filter = DecisionFilter {
        image: Some(image(0)),
        ..DecisionFilter::default()
    };
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..READS {
        let started = Instant::now();
        let (page, _) = store
            .query_decisions(&filter, 50, None)
            .await
            .expect("query");
        times.push(started.elapsed());
        assert_eq!(page.len(), 50);
    }
    times.sort();
    times[READS / 2]
}

fn main() {
    let rows: usize = std::env::var("SIGNET_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        println!("decisions written to the embedded store ({rows} rows per line)");
        for batch in BATCHES {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(None, dir.path()).await.expect("store");
            let start_ms = 1_800_000_000_000;
            let (cpu, wall) = (process_cpu_time(), Instant::now());
            for (n, first) in (0..rows).step_by(batch).enumerate() {
                let time = start_ms + n as i64 * 50;
                let ds: Vec<_> = (first..(first + batch).min(rows))
                    .map(|i| record(i, time))
                    .collect();
                store.insert_decisions(&ds).await.expect("insert");
            }
            let (cpu, wall) = (process_cpu_time() - cpu, wall.elapsed());
            let per = |d: Duration| d.as_secs_f64() * 1e6 / rows as f64;
            println!(
                "  {batch:>5} rows per commit: {:.1} µs CPU, {:.1} µs wall per decision",
                per(cpu),
                per(wall)
            );
            if batch == BATCHES[0] {
                println!(
                    "  first page (50) of one image's {} decisions, newest first: {:.2} ms",
                    rows / IMAGES,
                    first_page(&store).await.as_secs_f64() * 1e3
                );
            }
        }
    });
}
