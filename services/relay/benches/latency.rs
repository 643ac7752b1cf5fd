//! The latency the relay adds: `cargo bench -p signet-relay --bench latency`.
//!
//! Starts the Distribution registry (its own process), pushes and signs one image, runs a
//! real verifier gRPC server in this process on the embedded store with a policy that
//! matches the image (`mutateDigest: true`), registers a cluster, warms the verdict cache
//! with one Review, and starts the built `signet-relay` binary as a child process with TLS
//! (a fresh rcgen CA), pointing at the verifier with the cluster's token.
//!
//! Then, at concurrency 1 and 16 (closed loop, every worker sends its next request when
//! the previous one is answered), the same AdmissionRequest (a Pod with one container,
//! shaped as the API server sends it, a fresh uid each time) goes
//!   - straight to the verifier as a gRPC `Review` (tonic, one HTTP/2 channel), and
//!   - to the relay as an AdmissionReview `POST /validate` and `POST /mutate` over HTTPS
//!     (reqwest, keep-alive, HTTP version by ALPN),
//!
//! in interleaved rounds. Prints p50/p90/p99 latency and throughput of each path, the
//! latency the relay adds (relay − direct, and relay / direct) and CPU per request of the
//! relay process (`/proc/<pid>/stat` utime + stime, 10 ms ticks) and of this process
//! (clients + verifier). Every answer is checked (allowed, uid echoed, the JSON Patch on
//! `/mutate` and none on `/validate`): a broken path fails the bench. No timing is asserted.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use serde_json::{json, Value};
use signet_policy::image::ImageRef;
use signet_proto::v1::verifier_client::VerifierClient;
use signet_proto::v1::ReviewRequest;
use signet_testkit::{push_random_image, Registry};
use signet_verifier::cache::CacheOptions;
use signet_verifier::store::Store;
use signet_verify::cache::CacheConfig;
use signet_verify::crypto::SigningKey;
use signet_verify::registry::{RegistryClient, RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

const COMMAND: &str = "cargo bench -p signet-relay --bench latency";
/// (concurrency, requests per path at that concurrency).
const LEVELS: [(usize, usize); 2] = [(1, 3_000), (16, 24_000)];
/// Each path's requests are split into this many rounds, interleaved with the other paths'.
const ROUNDS: usize = 3;
/// Unmeasured requests per path and level before the rounds.
const WARMUP: usize = 300;
const NAMESPACE: &str = "shop";
const UID_MARK: &str = "@@UID@@";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Direct,
    Validate,
    Mutate,
}

impl Route {
    fn label(self) -> &'static str {
        match self {
            Route::Direct => "verifier gRPC Review (direct)",
            Route::Validate => "relay HTTPS POST /validate",
            Route::Mutate => "relay HTTPS POST /mutate",
        }
    }
}

/// A JSON document with a uid to fill in, split around the uid's place.
#[derive(Debug)]
struct Template {
    head: String,
    tail: String,
}

impl Template {
    fn new(document: &Value) -> Self {
        let text = document.to_string();
        let (head, tail) = text.split_once(UID_MARK).expect("uid mark in template");
        assert!(!tail.contains(UID_MARK), "one uid mark");
        Template {
            head: head.to_string(),
            tail: tail.to_string(),
        }
    }

    fn with(&self, uid: &str) -> String {
        let mut s = String::with_capacity(self.head.len() + uid.len() + self.tail.len());
        s.push_str(&self.head);
        s.push_str(uid);
        s.push_str(&self.tail);
        s
    }
}

/// Everything a worker needs to send a request on either path.
#[derive(Debug)]
struct Target {
    grpc: VerifierClient<Channel>,
    authorization: MetadataValue<Ascii>,
    labels: HashMap<String, String>,
    /// The `request` object alone, as the relay forwards it.
    request: Template,
    http: reqwest::Client,
    validate_url: String,
    mutate_url: String,
    /// The whole AdmissionReview, as the API server posts it.
    review: Template,
    /// The verifier's JSON Patch for the image (pins the tag to its digest).
    patch: Vec<u8>,
    next_uid: AtomicU64,
}

impl Target {
    fn uid(&self) -> String {
        let n = self.next_uid.fetch_add(1, Ordering::Relaxed);
        format!("8a1f3c52-6b0e-4d7a-9c21-{n:012x}")
    }

    /// Sends one request on `route`, checks the answer; the time from sending to the
    /// complete answer (before checking it).
    async fn call(&self, route: Route) -> Duration {
        let uid = self.uid();
        match route {
            Route::Direct => {
                let mut call = tonic::Request::new(ReviewRequest {
                    admission_request: self.request.with(&uid).into_bytes(),
                    namespace_labels: self.labels.clone(),
                    relay_version: "bench".into(),
                });
                call.metadata_mut()
                    .insert("authorization", self.authorization.clone());
                let mut client = self.grpc.clone();
                let started = Instant::now();
                let answer = client.review(call).await.expect("Review").into_inner();
                let elapsed = started.elapsed();
                assert!(answer.allowed, "direct Review denied: {}", answer.message);
                assert_eq!(answer.patch, self.patch, "direct Review: other patch");
                elapsed
            }
            Route::Validate | Route::Mutate => {
                let url = if route == Route::Validate {
                    &self.validate_url
                } else {
                    &self.mutate_url
                };
                let body = self.review.with(&uid);
                let started = Instant::now();
                let response = self
                    .http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("POST to the relay");
                let status = response.status();
                let bytes = response.bytes().await.expect("relay answer body");
                let elapsed = started.elapsed();
                let text = String::from_utf8_lossy(&bytes);
                assert_eq!(status, 200, "{url}: HTTP {status}: {text}");
                let answer: Value = serde_json::from_slice(&bytes).expect("JSON answer");
                assert_eq!(answer["apiVersion"], "admission.k8s.io/v1", "{text}");
                assert_eq!(answer["kind"], "AdmissionReview", "{text}");
                let r = &answer["response"];
                assert_eq!(r["uid"], uid.as_str(), "{url}: uid not echoed: {text}");
                assert_eq!(r["allowed"], true, "{url}: not allowed: {text}");
                if route == Route::Mutate {
                    assert_eq!(r["patchType"], "JSONPatch", "{url}: {text}");
                    let patch = base64::engine::general_purpose::STANDARD
                        .decode(r["patch"].as_str().expect("patch is a string"))
                        .expect("patch is base64");
                    assert_eq!(patch, self.patch, "{url}: other patch: {text}");
                } else {
                    assert!(r.get("patch").is_none(), "{url}: patch on /validate");
                }
                elapsed
            }
        }
    }
}

/// The relay binary running as a child process; killed on drop.
#[derive(Debug)]
struct RelayProcess {
    child: Child,
    log: PathBuf,
}

impl RelayProcess {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User + system CPU time of process `pid` (all its threads), from `/proc/<pid>/stat`.
fn cpu_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rfind(')').map(|i| &stat[i + 2..]).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime (fields 14 and 15), in USER_HZ ticks: 100 per second on Linux.
    Duration::from_millis((field(11) + field(12)) * 10)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
    sorted[i]
}

/// A Pod as the ReplicaSet controller creates it, in an AdmissionReview as the API
/// server posts it (uid left as [`UID_MARK`]).
fn pod_review(image: &str) -> Value {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "generateName": "web-7d4b9c8f6d-", "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "shop",
                "app.kubernetes.io/version": "1.4.2", "pod-template-hash": "7d4b9c8f6d"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-27T07:00:00Z",
                "prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": "web-7d4b9c8f6d", "uid": "0b6f2f57-1d1c-4a0e-9a55-3f3d8f1b7c11",
                "controller": true, "blockOwnerDeletion": true}],
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                "apiVersion": "v1", "time": "2026-11-27T07:00:01Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:generateName": {}, "f:labels": {".": {},
                    "f:app.kubernetes.io/name": {}, "f:pod-template-hash": {}},
                    "f:ownerReferences": {".": {}, "k:{\"uid\":\"0b6f2f57-1d1c-4a0e-9a55-3f3d8f1b7c11\"}": {}}},
                  "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {},
                    "f:imagePullPolicy": {}, "f:name": {}, "f:ports": {}, "f:resources": {}}}}}}]
        },
        "spec": {
            "containers": [{
                "name": "web", "image": image, "imagePullPolicy": "IfNotPresent",
                "args": ["--listen=:8080", "--metrics=:9090", "--config=/etc/web/config.yaml"],
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                          {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}],
                "env": [{"name": "LOG_LEVEL", "value": "info"},
                        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                        {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                    "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
                "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http", "scheme": "HTTP"},
                    "periodSeconds": 5, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
                "securityContext": {"runAsNonRoot": true, "allowPrivilegeEscalation": false,
                    "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}},
                "volumeMounts": [{"name": "config", "mountPath": "/etc/web", "readOnly": true},
                    {"name": "kube-api-access-7xk2p", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"
            }],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "web", "serviceAccount": "web",
            "securityContext": {"fsGroup": 2000, "seccompProfile": {"type": "RuntimeDefault"}},
            "schedulerName": "default-scheduler", "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
            "volumes": [
                {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}},
                {"name": "kube-api-access-7xk2p", "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}]
        },
        "status": {}
    });
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": UID_MARK,
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "requestResource": {"group": "", "version": "v1", "resource": "pods"},
        "name": "", "namespace": NAMESPACE, "operation": "CREATE",
        "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller",
            "uid": "5e6f0d0a-3b1c-4f3e-8f0a-6c2d9e4b1a77",
            "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]},
        "object": pod, "oldObject": null, "dryRun": false,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
    }})
}

fn policy(key: &SigningKey, host: &str) -> String {
    let pem = key.public_key_pem().expect("pem");
    signet_testkit::KeyPolicy::new("bench", &format!("{host}/*"), &pem)
        .rule("signed")
        .field("mutateDigest: true")
        .field("verifyDigest: true")
        .yaml()
}

/// Writes a fresh CA's `localhost` certificate and key; returns the CA certificate (PEM).
fn write_tls(cert: &Path, key: &Path) -> String {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "relay bench CA");
    let ca_pem = params.self_signed(&ca_key).expect("CA").pem();
    let issuer = Issuer::new(params, ca_key);
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .expect("leaf params")
        .signed_by(&leaf_key, &issuer)
        .expect("leaf");
    std::fs::write(cert, leaf.pem()).expect("write tls.crt");
    std::fs::write(key, leaf_key.serialize_pem()).expect("write tls.key");
    ca_pem
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Starts the relay binary and waits until it answers `/healthz` over HTTPS.
async fn start_relay(
    dir: &Path,
    verifier: SocketAddr,
    token: &str,
    http: &reqwest::Client,
    port: u16,
) -> RelayProcess {
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    let token_file = dir.join("relay-token");
    std::fs::write(&token_file, token).expect("write token");
    let labels = dir.join("labels.yaml");
    std::fs::write(
        &labels,
        format!("{NAMESPACE}:\n  env: production\n  team: payments\n"),
    )
    .expect("write labels");
    let log = dir.join("relay.log");
    let out = std::fs::File::create(&log).expect("relay log");
    let child = Command::new(env!("CARGO_BIN_EXE_signet-relay"))
        .arg("--verifier")
        .arg(format!("http://{verifier}"))
        .arg("--token-file")
        .arg(&token_file)
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--namespace-labels")
        .arg(&labels)
        .args(["--failure-policy", "fail"])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log handle"))
        .stderr(out)
        .spawn()
        .expect("spawn signet-relay");
    let mut relay = RelayProcess { child, log };
    let url = format!("https://localhost:{port}/healthz");
    let started = Instant::now();
    loop {
        if let Ok(r) = http.get(&url).send().await {
            if r.status() == 200 {
                return relay;
            }
        }
        if let Some(status) = relay.child.try_wait().expect("relay status") {
            panic!("signet-relay exited with {status}:\n{}", relay.log_tail());
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "signet-relay did not answer within 15 s:\n{}",
            relay.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What one route measured at one concurrency, over all rounds.
#[derive(Debug, Default)]
struct Measured {
    latencies: Vec<Duration>,
    wall: Duration,
    relay_cpu: Duration,
    bench_cpu: Duration,
}

/// `total` requests on `route` from `concurrency` closed-loop workers; their latencies.
async fn closed_loop(
    target: &Arc<Target>,
    route: Route,
    concurrency: usize,
    total: usize,
) -> Vec<Duration> {
    let per_worker = total / concurrency;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let target = target.clone();
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(per_worker);
                for _ in 0..per_worker {
                    out.push(target.call(route).await);
                }
                out
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    for w in workers {
        latencies.extend(w.await.expect("worker"));
    }
    latencies
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    println!("command: {COMMAND}");
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cpus} CPU(s), {cpu_model}");

    // The registry and a signed image.
    let registry = Registry::start()
        .await
        .expect("registry (run scripts/install-test-tools.sh)");
    let registry_config = RegistryConfig {
        default_transport: Transport::Http,
        ..RegistryConfig::default()
    };
    let rc = RegistryClient::new(registry_config.clone()).expect("registry client");
    let key = SigningKey::generate().expect("key");
    let digest = push_random_image(&registry, "shop/web", "1.4.2")
        .await
        .expect("push");
    let image = registry.reference("shop/web", "1.4.2");
    signet_verify::signing::sign_image(
        &rc,
        &key,
        &ImageRef::parse(&image).expect("ref"),
        &BTreeMap::new(),
    )
    .await
    .expect("sign");

    // The verifier, in this process, on the embedded store. Verdicts and tag → digest
    // resolutions are kept for an hour so that no measured request reaches the registry.
    // Every Review commits its decisions durably before answering; on a disk that is an
    // fsync per request (tens of ms on some machines), far above what the relay adds, so
    // the store lives on tmpfs unless SIGNET_BENCH_STORE_DIR names another place.
    let dir = tempfile::tempdir().expect("dir");
    let store_parent = std::env::var_os("SIGNET_BENCH_STORE_DIR")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/dev/shm")).filter(|p| p.is_dir()))
        .unwrap_or_else(std::env::temp_dir);
    let store_dir = tempfile::tempdir_in(&store_parent).expect("store dir");
    let store = Store::open(None, store_dir.path()).await.expect("store");
    let cache = CacheOptions {
        redis_url: None,
        config: CacheConfig {
            pass_ttl: Duration::from_secs(3600),
            digest_ttl: Duration::from_secs(3600),
            ..CacheConfig::default()
        },
    };
    let service = signet_verifier::app::build_service_cached(
        store,
        registry_config,
        TrustRoot::default(),
        cache,
    )
    .await
    .expect("service");
    service
        .apply_policy(&policy(&key, &registry.host()))
        .await
        .expect("policy");
    let (_, token) = service
        .register_cluster("bench", &BTreeMap::new())
        .await
        .expect("cluster");
    let token = token.token;
    let incoming = signet_verifier::grpc::bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let verifier_addr = incoming.local_addr().expect("addr");
    tokio::spawn(signet_verifier::grpc::serve_incoming(
        service.clone(),
        signet_verifier::metrics::Metrics::default(),
        incoming,
        std::future::pending(),
    ));
    let grpc = VerifierClient::connect(format!("http://{verifier_addr}"))
        .await
        .expect("connect to the verifier");

    // The relay, as its own process, with TLS from a fresh CA.
    let relay_dir = dir.path().join("relay");
    std::fs::create_dir(&relay_dir).expect("relay dir");
    let ca_pem = write_tls(&relay_dir.join("tls.crt"), &relay_dir.join("tls.key"));
    let port = free_port();
    let relay_addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA")])
        .resolve("localhost", relay_addr)
        .pool_max_idle_per_host(64)
        .build()
        .expect("HTTPS client");
    let relay = start_relay(&relay_dir, verifier_addr, &token, &http, port).await;

    let review = pod_review(&image);
    let mut labels: HashMap<String, String> = [("env", "production"), ("team", "payments")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.insert(
        signet_relay::labels::NAME_LABEL.to_string(),
        NAMESPACE.to_string(),
    );
    let mut target = Target {
        grpc,
        authorization: format!("Bearer {token}").parse().expect("metadata"),
        labels,
        request: Template::new(&review["request"]),
        http,
        validate_url: format!("https://localhost:{port}/validate"),
        mutate_url: format!("https://localhost:{port}/mutate"),
        review: Template::new(&review),
        patch: Vec::new(),
        next_uid: AtomicU64::new(0),
    };

    // Warm the verdict cache with one Review; its patch is the one every answer must carry.
    let mut first = tonic::Request::new(ReviewRequest {
        admission_request: target.request.with("warm-up").into_bytes(),
        namespace_labels: target.labels.clone(),
        relay_version: "bench".into(),
    });
    first
        .metadata_mut()
        .insert("authorization", target.authorization.clone());
    let first = target
        .grpc
        .clone()
        .review(first)
        .await
        .expect("first Review")
        .into_inner();
    assert!(first.allowed, "signed image denied: {}", first.message);
    let patch = String::from_utf8(first.patch.clone()).expect("patch text");
    assert!(
        patch.contains(&format!("@{digest}")),
        "the patch does not pin {image} to {digest}: {patch}"
    );
    target.patch = first.patch;
    let target = Arc::new(target);

    let probe = target
        .http
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await
        .expect("probe");
    let registry_requests = registry.requests().len();
    println!(
        "setup: Distribution registry (own process), verifier gRPC in this process (embedded \
         store in {}, warm verdict and digest cache), signet-relay binary as a child process \
         (pid {}, RUST_LOG=info to a file) → verifier over plain HTTP/2 on loopback",
        store_parent.display(),
        relay.pid()
    );
    println!(
        "request: AdmissionReview of a Pod with one container ({} bytes; the bare \
         AdmissionRequest sent by gRPC: {} bytes), image {image}, policy with mutateDigest; \
         client → relay over HTTPS {:?} with keep-alive, client → verifier over one HTTP/2 channel",
        target.review.with(&target.uid()).len(),
        target.request.with(&target.uid()).len(),
        probe.version(),
    );
    println!(
        "method: closed loop, {ROUNDS} interleaved rounds per concurrency, {WARMUP} unmeasured \
         requests per path first; latency = send to complete answer; every answer checked"
    );

    let routes = [Route::Direct, Route::Validate, Route::Mutate];
    for (concurrency, total) in LEVELS {
        for route in routes {
            closed_loop(&target, route, concurrency, WARMUP.max(concurrency)).await;
        }
        let mut measured: Vec<Measured> = routes.iter().map(|_| Measured::default()).collect();
        for round in 0..ROUNDS {
            let mut order: Vec<usize> = (0..routes.len()).collect();
            order.rotate_left(round % routes.len());
            for i in order {
                let (relay_cpu, bench_cpu) =
                    (cpu_of(relay.pid()), signet_testkit::process_cpu_time());
                let started = Instant::now();
                let latencies = closed_loop(&target, routes[i], concurrency, total / ROUNDS).await;
                let m = &mut measured[i];
                m.wall += started.elapsed();
                m.relay_cpu += cpu_of(relay.pid()) - relay_cpu;
                m.bench_cpu += signet_testkit::process_cpu_time() - bench_cpu;
                m.latencies.extend(latencies);
            }
        }
        let n = measured[0].latencies.len();
        println!();
        println!("concurrency {concurrency}: {n} requests per path");
        println!(
            "  {:<30} {:>8} {:>8} {:>8} {:>9} {:>15} {:>15}",
            "path", "p50 ms", "p90 ms", "p99 ms", "req/s", "relay CPU/req", "bench CPU/req"
        );
        for (route, m) in routes.iter().zip(measured.iter_mut()) {
            m.latencies.sort();
            let count = m.latencies.len() as f64;
            println!(
                "  {:<30} {:>8.3} {:>8.3} {:>8.3} {:>9.0} {:>12.1} µs {:>12.1} µs",
                route.label(),
                ms(percentile(&m.latencies, 0.50)),
                ms(percentile(&m.latencies, 0.90)),
                ms(percentile(&m.latencies, 0.99)),
                count / m.wall.as_secs_f64(),
                m.relay_cpu.as_secs_f64() * 1e6 / count,
                m.bench_cpu.as_secs_f64() * 1e6 / count,
            );
        }
        let direct = &measured[0];
        for (route, m) in routes.iter().zip(&measured).skip(1) {
            let added = |q: f64| {
                let (r, d) = (
                    percentile(&m.latencies, q),
                    percentile(&direct.latencies, q),
                );
                format!(
                    "{:+.3} ms (x{:.2})",
                    ms(r) - ms(d),
                    r.as_secs_f64() / d.as_secs_f64()
                )
            };
            let throughput = (m.latencies.len() as f64 / m.wall.as_secs_f64())
                / (direct.latencies.len() as f64 / direct.wall.as_secs_f64());
            println!(
                "  added by the relay, {:<8} p50 {}, p90 {}, p99 {}; throughput x{throughput:.2}",
                route.label().rsplit(' ').next().unwrap_or_default(),
                added(0.50),
                added(0.90),
                added(0.99),
            );
        }
    }
    let reached = registry.requests().len() - registry_requests;
    println!();
    println!(
        "registry requests during the measurements: {reached} (0: every decision came from the \
         warm cache)"
    );
    println!(
        "relay CPU/req: the relay process alone (utime + stime from /proc/{}/stat, 10 ms ticks); \
         bench CPU/req: this process, i.e. the clients plus the verifier. {cpus} CPU(s) are \
         shared by the client, the relay and the verifier, so throughput at concurrency > 1 is \
         bounded by the machine, not by one component.",
        relay.pid()
    );
    drop(relay);
}
