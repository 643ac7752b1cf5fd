//! `Review` end to end with the verdict cache: `cargo bench -p signet-verifier --bench review`.
//!
//! Starts the Distribution registry (its own process), a real verifier gRPC server in
//! this process on the embedded store (or on PostgreSQL, with
//! `SIGNET_BENCH_STORE=postgres`), and a do-nothing tonic server implementing the same
//! proto, both on a runtime of their own (the client has another). The verifier's log
//! subscriber is installed, writing nowhere, and the client calls as the relay does (a
//! bearer token and the relay's default deadline). Prints:
//! - warm `Review` throughput against the do-nothing baseline (same client, same channel,
//!   same concurrency), the CPU per call of each split into server and client, and
//!   latency at half of saturation (requests evenly spaced, each timed from when it was
//!   due) beside the baseline's at the same rate, with the CPU per request meanwhile and
//!   how busy the cores were;
//! - the same for a dry-run `Review`, decided alike and not recorded: the gap between the
//!   two is what writing decisions costs;
//! - the engine alone and the service alone (no gRPC) per warm decision;
//! - cold key-based `Review` CPU per verification (the service's threads alone, and the
//!   whole process; not the registry) and p50;
//! - signature fetches for a Pod of 8 containers of one image; verifications for 100
//!   concurrent `Review`s of one uncached image;
//! - RSS before and after 100 000 verdicts are cached, and the bytes each takes.

#[path = "../tests/support/postgres.rs"]
mod postgres;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use signet_policy::image::ImageRef;
use signet_policy::matching::AdmissionRequest;
use signet_proto::v1::verifier_client::VerifierClient;
use signet_proto::v1::verifier_server::{Verifier as VerifierApi, VerifierServer};
use signet_proto::v1::{ReviewRequest, ReviewResponse, VerifyImageRequest, VerifyImageResponse};
use signet_testkit::{push_random_image, Registry};
use signet_verifier::service::Service;
use signet_verifier::store::Store;
use signet_verify::cache::{CachedVerdict, VerdictKey};
use signet_verify::crypto::SigningKey;
use signet_verify::registry::{RegistryClient, RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

const CONCURRENCY: usize = 32;
const REQUESTS: usize = 20_000;
const COLD: usize = 200;
const ROUNDS: usize = 5;

/// The baseline: the same proto, answering nothing.
struct Noop;

#[tonic::async_trait]
impl VerifierApi for Noop {
    async fn review(&self, _: Request<ReviewRequest>) -> Result<Response<ReviewResponse>, Status> {
        Ok(Response::new(ReviewResponse::default()))
    }
    async fn verify_image(
        &self,
        _: Request<VerifyImageRequest>,
    ) -> Result<Response<VerifyImageResponse>, Status> {
        Ok(Response::new(VerifyImageResponse::default()))
    }
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    let kb: f64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("kB");
    kb / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// p50 and p99 of sorted latencies, in ms.
fn p50_p99(sorted: &[Duration]) -> (f64, f64) {
    (
        ms(sorted[sorted.len() / 2]),
        ms(sorted[sorted.len() * 99 / 100]),
    )
}

/// What the client sends: an AdmissionRequest creating a Pod of these images.
#[derive(Debug, Clone)]
struct Pod {
    images: Vec<String>,
    /// The API server's `dryRun`: decided like any other request, but not recorded.
    dry_run: bool,
}

impl Pod {
    fn of(images: Vec<String>) -> Self {
        Pod {
            images,
            dry_run: false,
        }
    }
}

fn admission(pod: &Pod) -> Vec<u8> {
    let containers: Vec<_> = pod
        .images
        .iter()
        .enumerate()
        .map(|(i, image)| serde_json::json!({"name": format!("c{i}"), "image": image}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "uid": "00000000-0000-0000-0000-000000000000",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "name": "bench", "namespace": "default", "operation": "CREATE",
        "userInfo": {"username": "bench"}, "dryRun": pod.dry_run,
        "object": {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "bench", "namespace": "default"},
            "spec": {"containers": containers}}
    }))
    .expect("json")
}

/// The deadline the relay gives each call by default (`--timeout-seconds 9`).
const RELAY_DEADLINE: Duration = Duration::from_secs(9);

/// A call as the relay makes it: the request, its bearer token, and its deadline
/// (`grpc-timeout`), which every server, the do-nothing one as well, keeps a timer for.
fn request(token: &str, pod: &Pod) -> Request<ReviewRequest> {
    let mut r = Request::new(ReviewRequest {
        admission_request: admission(pod),
        namespace_labels: HashMap::new(),
        relay_version: "bench".into(),
    });
    r.set_timeout(RELAY_DEADLINE);
    let value = format!("Bearer {token}").parse().expect("metadata");
    r.metadata_mut().insert("authorization", value);
    r
}

async fn review(client: &VerifierClient<Channel>, token: &str, pod: &Pod) -> bool {
    let mut c = client.clone();
    let r = c.review(request(token, pod)).await.expect("review");
    r.into_inner().allowed
}

/// Closed loop: CONCURRENCY tasks sending REQUESTS in all; requests per second.
async fn throughput(client: &VerifierClient<Channel>, token: &str, pod: &Pod) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (c, t, i) = (client.clone(), token.to_owned(), pod.clone());
            tokio::spawn(async move {
                for _ in 0..REQUESTS / CONCURRENCY {
                    review(&c, &t, &i).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    REQUESTS as f64 / started.elapsed().as_secs_f64()
}

/// Open loop at `rate` per second for two seconds; sorted latencies, each counted from
/// the instant its request was due (as wrk2 counts them), so a sender that fell behind
/// counts against the figure instead of hiding a queue.
///
/// The requests are due at evenly spaced instants and sent by a thread of their own that
/// sleeps until each is due. tokio's timer ticks in milliseconds, so an `interval` of
/// 60–100 µs, as these rates need, catches up on its missed ticks at once: a burst of
/// ten to sixteen requests each millisecond, the last of which waits behind the others
/// on two cores (the do-nothing server's own p99 was 1.2–4.4 ms under that). A thread
/// sleep overshoots by tens of µs here, so a request or two is sent per wake-up.
/// `SIGNET_BENCH_BURSTS=1` sends them with the `interval` instead, for comparison.
async fn latencies(
    client: &VerifierClient<Channel>,
    token: &str,
    pod: &Pod,
    rate: f64,
) -> Vec<Duration> {
    let n = (rate * 2.0) as usize;
    let request = (client.clone(), token.to_owned(), pod.clone());
    let send = move |due: Instant| {
        let (c, t, i) = request.clone();
        tokio::spawn(async move {
            review(&c, &t, &i).await;
            due.elapsed()
        })
    };
    let tasks = if std::env::var_os("SIGNET_BENCH_BURSTS").is_some() {
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        let mut tasks = Vec::new();
        for _ in 0..n {
            tick.tick().await;
            tasks.push(send(Instant::now()));
        }
        tasks
    } else {
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let _inside = runtime.enter();
            let start = Instant::now();
            (0..n)
                .map(|k| {
                    let due = start + Duration::from_secs_f64(k as f64 / rate);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    send(due)
                })
                .collect()
        })
        .await
        .expect("sender")
    };
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out.sort();
    out
}

/// What an open-loop run measured: latencies, and what the requests cost meanwhile.
struct OpenLoop {
    p50: f64,
    p99: f64,
    /// CPU of the service's threads per request, µs.
    server_us: f64,
    /// This process's CPU over the run's wall time and every core: one request at a time
    /// costs more than in the closed loop's batches, so half of the closed loop's rate can
    /// keep the cores nearly busy, and a queue then sets the p99.
    busy: f64,
}

impl std::fmt::Display for OpenLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.2} ms, p99 {:.2} ms; server CPU {:.1} µs per request, cores {:.0} % busy",
            self.p50,
            self.p99,
            self.server_us,
            self.busy * 100.0
        )
    }
}

/// [`latencies`] at `rate`, with the CPU spent meanwhile.
async fn open_loop(
    client: &VerifierClient<Channel>,
    token: &str,
    pod: &Pod,
    rate: f64,
) -> OpenLoop {
    let (before, started) = (CpuSplit::now(), Instant::now());
    let sorted = latencies(client, token, pod, rate).await;
    let (cpu, wall) = (CpuSplit::now() - before, started.elapsed());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let (p50, p99) = p50_p99(&sorted);
    OpenLoop {
        p50,
        p99,
        server_us: cpu.server.as_secs_f64() * 1e6 / sorted.len() as f64,
        busy: cpu.process.as_secs_f64() / (wall.as_secs_f64() * cores),
    }
}

async fn serve_noop() -> SocketAddr {
    let incoming = TcpIncoming::bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind")
        .with_nodelay(Some(true));
    let addr = incoming.local_addr().expect("addr");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(VerifierServer::new(Noop))
            .serve_with_incoming(incoming),
    );
    addr
}

async fn serve_verifier(service: Service) -> SocketAddr {
    let incoming = signet_verifier::grpc::bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let addr = incoming.local_addr().expect("addr");
    tokio::spawn(signet_verifier::grpc::serve_incoming(
        service,
        signet_verifier::metrics::Metrics::default(),
        incoming,
        std::future::pending(),
    ));
    addr
}

async fn connect(addr: SocketAddr) -> VerifierClient<Channel> {
    VerifierClient::connect(format!("http://{addr}"))
        .await
        .expect("connect")
}

fn policy(key: &SigningKey, host: &str) -> String {
    let pem = key.public_key_pem().expect("pem");
    signet_testkit::KeyPolicy::new("bench", &format!("{host}/*"), &pem)
        .field("mutateDigest: false")
        .field("verifyDigest: false")
        .yaml()
}

/// Pushes and signs `repository:tag`; returns its tag reference.
async fn signed(
    registry: &Registry,
    client: &RegistryClient,
    key: &SigningKey,
    repo: &str,
    tag: &str,
) -> String {
    push_random_image(registry, repo, tag).await.expect("push");
    let reference = registry.reference(repo, tag);
    let image = ImageRef::parse(&reference).expect("ref");
    signet_verify::signing::sign_image(client, key, &image, &BTreeMap::new())
        .await
        .expect("sign");
    reference
}

/// `n` images pushed to `repo` (tags v0, v1, …) and signed with `key`.
async fn signed_many(
    registry: &Registry,
    client: &RegistryClient,
    key: &SigningKey,
    repo: &str,
    n: usize,
) -> Vec<String> {
    let mut images = Vec::with_capacity(n);
    for i in 0..n {
        images.push(signed(registry, client, key, repo, &format!("v{i}")).await);
    }
    images
}

fn signature_fetches(registry: &Registry) -> usize {
    registry
        .requests()
        .iter()
        .filter(|r| r.method != "PUT" && r.path.ends_with(".sig"))
        .count()
}

/// Name of the server runtime's threads. The server runs on a runtime of its own, as it
/// would in a verifier process: its threads and SQLite's worker threads are the service;
/// the bench's own runtime is the client.
const SERVER_THREADS: &str = "signet-server";
/// sqlx names SQLite's worker threads `sqlx-sqlite-worker-N`; Linux keeps 15 bytes of it.
const SQLITE_THREADS: &str = "sqlx-sqlite-wor";

/// What the scheduler accounted so far to a group of this process's threads.
#[derive(Debug, Clone, Copy, Default)]
struct ThreadTimes {
    /// Time on a CPU.
    cpu: Duration,
    /// Times a thread of the group was scheduled in.
    slices: u64,
}

impl std::ops::Add for ThreadTimes {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self {
            cpu: self.cpu + other.cpu,
            slices: self.slices + other.slices,
        }
    }
}

impl std::ops::Sub for ThreadTimes {
    type Output = Self;
    fn sub(self, earlier: Self) -> Self {
        Self {
            cpu: self.cpu - earlier.cpu,
            slices: self.slices - earlier.slices,
        }
    }
}

/// The threads whose names start with `prefix`, from the scheduler's per-thread accounting
/// (`/proc/self/task/*/schedstat`: ns on the CPU, ns waiting, timeslices).
fn thread_times(prefix: &str) -> ThreadTimes {
    let mut total = ThreadTimes::default();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return total;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        let mut fields = stat
            .split_whitespace()
            .map(|v| v.parse::<u64>().unwrap_or(0));
        total.cpu += Duration::from_nanos(fields.next().unwrap_or(0));
        total.slices += fields.nth(1).unwrap_or(0);
    }
    total
}

/// CPU spent since start by the service's threads (the server runtime's and SQLite's),
/// SQLite's alone, and the whole process.
#[derive(Debug, Clone, Copy, Default)]
struct CpuSplit {
    server: Duration,
    sqlite: Duration,
    process: Duration,
}

impl CpuSplit {
    fn now() -> Self {
        let sqlite = thread_times(SQLITE_THREADS).cpu;
        CpuSplit {
            server: thread_times(SERVER_THREADS).cpu + sqlite,
            sqlite,
            process: signet_testkit::process_cpu_time(),
        }
    }
}

impl std::ops::Add for CpuSplit {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        CpuSplit {
            server: self.server + o.server,
            sqlite: self.sqlite + o.sqlite,
            process: self.process + o.process,
        }
    }
}

impl std::ops::Sub for CpuSplit {
    type Output = Self;
    fn sub(self, earlier: Self) -> Self {
        CpuSplit {
            server: self.server.saturating_sub(earlier.server),
            sqlite: self.sqlite.saturating_sub(earlier.sqlite),
            process: self.process.saturating_sub(earlier.process),
        }
    }
}

fn main() {
    // As the binary logs, to nowhere: each call's span costs what it costs deployed.
    signet_verifier::logging::init(std::io::sink);
    let server = tokio::runtime::Builder::new_multi_thread()
        .thread_name(SERVER_THREADS)
        .enable_all()
        .build()
        .expect("server runtime");
    let client = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    client.block_on(run(server.handle().clone()));
}

async fn run(server: tokio::runtime::Handle) {
    let registry = Registry::start()
        .await
        .expect("registry (scripts/install-test-tools.sh)");
    let rc = RegistryClient::new(RegistryConfig {
        default_transport: Transport::Http,
        ..RegistryConfig::default()
    })
    .expect("client");
    let key = SigningKey::generate().expect("key");
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().to_owned();
    // `SIGNET_BENCH_STORE=postgres`: the store is a database of its own on the PostgreSQL
    // at `$DATABASE_URL`, dropped at the end, as in production (where it runs on another
    // host; here its CPU shares the two cores, and the service's threads show the
    // verifier's own share of each write).
    let postgres = match std::env::var("SIGNET_BENCH_STORE").as_deref() {
        Ok("postgres") => Some(postgres::PgDb::create().await),
        Ok("sqlite") | Err(_) => None,
        Ok(other) => panic!("SIGNET_BENCH_STORE={other}: postgres or sqlite"),
    };
    let url = postgres.as_ref().map(|db| db.url.clone());
    println!(
        "store: {}",
        if url.is_some() {
            "PostgreSQL"
        } else {
            "embedded (SQLite)"
        }
    );
    // The service, its writer and its servers are spawned on the server runtime.
    let (service, verifier_addr, noop_addr) = server
        .spawn(async move {
            let store = Store::open(url.as_deref(), &data).await.expect("store");
            let rconf = RegistryConfig {
                default_transport: Transport::Http,
                ..RegistryConfig::default()
            };
            let service = signet_verifier::app::build_service(store, rconf, TrustRoot::default())
                .await
                .expect("service");
            let verifier = serve_verifier(service.clone()).await;
            (service, verifier, serve_noop().await)
        })
        .await
        .expect("server side");
    service
        .apply_policy(&policy(&key, &registry.host()))
        .await
        .expect("policy");
    let (_, token) = service
        .register_cluster("bench", &BTreeMap::new())
        .await
        .expect("cluster");
    let token = token.token;
    let verifier = connect(verifier_addr).await;
    let noop = connect(noop_addr).await;

    // Warm: one image, one rule.
    let warm = Pod::of(vec![signed(&registry, &rc, &key, "bench/warm", "v1").await]);
    let dry = Pod {
        dry_run: true,
        ..warm.clone()
    };
    assert!(review(&verifier, &token, &warm).await, "warm image denied");
    throughput(&noop, &token, &warm).await;
    throughput(&verifier, &token, &warm).await;
    // `SIGNET_BENCH_PROFILE=noop|review|cold`: only that load (warm for 12 s, or one cold
    // Review for each of 2 000 images signed first), to attach `perf record -p` to once
    // "profile now" is printed; nothing is measured.
    if let Ok(only) = std::env::var("SIGNET_BENCH_PROFILE") {
        if only == "cold" {
            let cold = signed_many(&registry, &rc, &key, "bench/profile", 2_000).await;
            println!("profile now");
            tokio::time::sleep(Duration::from_secs(2)).await;
            let started = Instant::now();
            for image in &cold {
                assert!(review(&verifier, &token, &Pod::of(vec![image.clone()])).await);
            }
            println!("cold: {:.2} ms per Review", ms(started.elapsed()) / 2_000.0);
            return;
        }
        let target = if only == "noop" { &noop } else { &verifier };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(12) {
            let rps = throughput(target, &token, &warm).await;
            println!("{only}: {rps:.0} req/s");
        }
        return;
    }
    // Baseline, Review and a dry-run Review alternate, ROUNDS times: this machine's speed
    // drifts from one second to the next, and a ratio means something only between
    // neighbours. A dry run (the API server's `dryRun`) is decided the same way and not
    // recorded: the gap between the two Reviews is what writing the decision costs.
    let mut rounds = Vec::new();
    let mut cpu = [CpuSplit::default(); 3];
    for _ in 0..ROUNDS {
        let mut round = [0.0; 3];
        for (i, (client, pod)) in [(&noop, &warm), (&verifier, &warm), (&verifier, &dry)]
            .into_iter()
            .enumerate()
        {
            let before = CpuSplit::now();
            round[i] = throughput(client, &token, pod).await;
            cpu[i] = cpu[i] + (CpuSplit::now() - before);
        }
        rounds.push(round);
    }
    // The median round by each Review's ratio, and every round's ratios.
    let ratios = |i: usize| {
        let mut r: Vec<f64> = rounds.iter().map(|round| round[i] / round[0]).collect();
        r.sort_by(f64::total_cmp);
        r
    };
    let median = |i: usize| {
        let mut by = rounds.clone();
        by.sort_by(|a, b| (a[i] / a[0]).total_cmp(&(b[i] / b[0])));
        let m = by[by.len() / 2];
        (m[0], m[i])
    };
    let listed = |r: Vec<f64>| {
        r.iter()
            .map(|x| format!("{x:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (base, rps) = median(1);
    let (dry_base, dry_rps) = median(2);
    println!(
        "warm Review, 1 image, 1 rule ({CONCURRENCY} concurrent, {REQUESTS} requests per run, one channel, {ROUNDS} alternating rounds, median round)"
    );
    println!("  do-nothing tonic baseline: {base:>9.0} req/s");
    println!(
        "  Review (warm cache):       {rps:>9.0} req/s   ratio {:.2} (target >= 0.8)",
        rps / base
    );
    println!("  ratios of all rounds: {}", listed(ratios(1)));
    println!(
        "  dry-run Review (decided, not recorded): {dry_rps:.0} req/s beside {dry_base:.0}, ratio {:.2}; all rounds: {}",
        dry_rps / dry_base,
        listed(ratios(2))
    );
    // CPU per call, over all rounds: unlike throughput, barely moved by time the VM's
    // host takes from it (steal), so a change's effect shows here first.
    let calls = (ROUNDS * REQUESTS) as f64;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / calls;
    let [base_cpu, review_cpu, dry_cpu] = cpu;
    let rest = |c: CpuSplit| per(c.process.saturating_sub(c.server));
    println!(
        "  CPU per call, server threads (do-nothing / Review / dry run): {:.1} / {:.1} / {:.1} µs, of which SQLite {:.1} / {:.1}; client and the rest: {:.1} / {:.1} / {:.1} µs",
        per(base_cpu.server),
        per(review_cpu.server),
        per(dry_cpu.server),
        per(review_cpu.sqlite),
        per(dry_cpu.sqlite),
        rest(base_cpu),
        rest(review_cpu),
        rest(dry_cpu),
    );
    let at = open_loop(&verifier, &token, &warm, rps / 2.0).await;
    println!(
        "  at half saturation ({:.0} req/s; target p99 <= 2 ms): {at}",
        rps / 2.0
    );
    // The same load on the do-nothing server: what the client, the channel and two shared
    // cores add to every latency above.
    let at = open_loop(&noop, &token, &warm, rps / 2.0).await;
    println!("  the do-nothing baseline at that rate: {at}");
    let at = open_loop(&verifier, &token, &dry, dry_rps / 2.0).await;
    println!(
        "  dry-run Review at its half saturation ({:.0} req/s): {at}",
        dry_rps / 2.0
    );

    // The engine alone (no gRPC, auth or store): the same warm decision.
    let policies: Vec<_> = service
        .active_policies()
        .iter()
        .map(|p| p.policy.clone())
        .collect();
    let parsed: serde_json::Value = serde_json::from_slice(&admission(&warm)).expect("json");
    let req = AdmissionRequest::from_json(&parsed).expect("request");
    let labels = BTreeMap::new();
    let started = Instant::now();
    for _ in 0..REQUESTS {
        let d = service.verifier().review(&policies, &req, &labels).await;
        assert!(d.expect("decision").allowed);
    }
    println!(
        "  engine alone (Verifier::review, warm, no gRPC/auth/store): {:.1} µs per decision",
        started.elapsed().as_secs_f64() * 1e6 / REQUESTS as f64
    );

    // The service alone (authentication, parsing, engine, queueing the record; no gRPC),
    // on the server runtime as the handler runs it.
    let svc = service.clone();
    let (body, bearer) = (admission(&warm), format!("Bearer {token}"));
    let (server_before, sqlite_before) =
        (thread_times(SERVER_THREADS), thread_times(SQLITE_THREADS));
    let per_call = server
        .spawn(async move {
            let labels = BTreeMap::new();
            let started = Instant::now();
            for _ in 0..REQUESTS {
                let caller = svc
                    .auth()
                    .authenticate(Some(&bearer))
                    .await
                    .expect("caller");
                let outcome = svc.review(&caller, &body, &labels, Some("bench")).await;
                assert!(outcome.expect("outcome").decision.allowed);
            }
            started.elapsed()
        })
        .await
        .expect("service alone");
    // CPU beside wall time: a gap between them means the loop waited for something (it
    // showed the decision journal holding appenders back, since fixed).
    let server_times = thread_times(SERVER_THREADS) - server_before;
    let server_cpu = server_times.cpu;
    let sqlite_cpu = (thread_times(SQLITE_THREADS) - sqlite_before).cpu;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / REQUESTS as f64;
    println!(
        "  service alone (Service::review with authentication, warm, no gRPC): {:.1} µs per decision; CPU of the server threads {:.1} µs (scheduled in {:.2} times per decision), of SQLite's {:.1} µs",
        per(per_call),
        per(server_cpu),
        server_times.slices as f64 / REQUESTS as f64,
        per(sqlite_cpu),
    );

    // Cold: COLD distinct signed images, one Review each.
    let cold = signed_many(&registry, &rc, &key, "bench/cold", COLD).await;
    let before = service.verifier().verifications();
    let cpu = signet_testkit::process_cpu_time();
    let (server_before, sqlite_before) =
        (thread_times(SERVER_THREADS), thread_times(SQLITE_THREADS));
    let mut walls = Vec::new();
    for image in &cold {
        let s = Instant::now();
        assert!(review(&verifier, &token, &Pod::of(vec![image.clone()])).await);
        walls.push(s.elapsed());
    }
    let cpu = signet_testkit::process_cpu_time() - cpu;
    let sqlite = thread_times(SQLITE_THREADS) - sqlite_before;
    let threads = thread_times(SERVER_THREADS) - server_before + sqlite;
    let n = service.verifier().verifications() - before;
    walls.sort();
    println!(
        "cold key-based Review by tag, registry on loopback ({COLD} images, {n} verifications)"
    );
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!(
        "  service CPU per verification (server threads: gRPC, engine, store): {:.0} µs (target <= 300 µs)",
        per(threads.cpu)
    );
    println!(
        "    of which SQLite's worker threads (writing the decisions): {:.0} µs; service threads scheduled in {:.1} times per verification",
        per(sqlite.cpu),
        threads.slices as f64 / n as f64
    );
    println!(
        "  this process in all (with the gRPC client): {:.0} µs; p50 {:.2} ms (target <= 5 ms)",
        per(cpu),
        ms(walls[walls.len() / 2])
    );

    // A Pod of 8 containers of one cold image.
    let image = signed(&registry, &rc, &key, "bench/pod", "v1").await;
    let fetches = signature_fetches(&registry);
    assert!(review(&verifier, &token, &Pod::of(vec![image; 8])).await);
    println!("Pod with 8 containers of one cold image: {} signature fetch(es) at the registry (target 1)", signature_fetches(&registry) - fetches);

    // 100 concurrent Reviews of one uncached image.
    let one = Pod::of(vec![signed(&registry, &rc, &key, "bench/herd", "v1").await]);
    let before = service.verifier().verifications();
    let all: Vec<_> = (0..100)
        .map(|_| {
            let (c, t, i) = (verifier.clone(), token.clone(), one.clone());
            tokio::spawn(async move { review(&c, &t, &i).await })
        })
        .collect();
    for t in all {
        assert!(t.await.expect("task"));
    }
    println!(
        "100 concurrent Reviews of one uncached image: {} verification(s) (target 1)",
        service.verifier().verifications() - before
    );

    // RSS with 100 000 cached verdicts.
    let v = service.verifier();
    let rss_before = rss_mb();
    let sample = CachedVerdict {
        pass: true,
        message: "verified image signatures for \u{1}image\u{1}".into(),
        attestors_satisfied: vec!["attestors[0].entries[0]".into()],
        ttl: Duration::from_secs(3600),
    };
    for i in 0..100_000u64 {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&i.to_be_bytes());
        v.prime_cache(VerdictKey(key), sample.clone()).await;
    }
    let held = v.cached_verdicts().await;
    let rss = rss_mb();
    println!(
        "RSS with {held} cached verdicts: {rss:.1} MB (target <= 150 MB); {rss_before:.1} MB before they were added, so {:.0} bytes each",
        (rss - rss_before) * 1024.0 * 1024.0 / held as f64
    );
}
