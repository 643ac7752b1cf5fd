//! End-to-end tests of signet-relay: real HTTPS (a test CA made with rcgen), real
//! AdmissionReview documents, and a fake gRPC verifier implementing the proto.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use serde_json::{json, Value};
use signet_proto::v1::verifier_server::{Verifier, VerifierServer};
use signet_proto::v1::{
    FailurePolicy as ProtoPolicy, ReviewRequest, ReviewResponse, VerifyImageRequest,
    VerifyImageResponse,
};
use signet_relay::{Config, FailurePolicy, Relay};
use tokio::sync::oneshot;
use tonic::{Request, Response, Status};

const TOKEN: &str = "test-token";
const PATCH: &str = r#"[{"op":"replace","path":"/spec/containers/0/image","value":"ghcr.io/acme/pin-me@sha256:aaaa"}]"#;

/// A fake verifier: checks the bearer token, records requests and decides by image name
/// (`denied` → deny, `slow` → answers after 3 s, `warn` → a warning, else allow + patch).
#[derive(Clone, Default)]
struct Fake {
    seen: Arc<Mutex<Vec<ReviewRequest>>>,
    failure_policy: i32,
}

#[tonic::async_trait]
impl Verifier for Fake {
    async fn review(
        &self,
        req: Request<ReviewRequest>,
    ) -> Result<Response<ReviewResponse>, Status> {
        let auth = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if auth != Some(&format!("Bearer {TOKEN}")) {
            return Err(Status::unauthenticated("bad token"));
        }
        let req = req.into_inner();
        self.seen.lock().expect("lock").push(req.clone());
        let text = String::from_utf8_lossy(&req.admission_request).to_string();
        if text.contains("slow") {
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        let mut answer = ReviewResponse {
            allowed: !text.contains("denied"),
            failure_policy: self.failure_policy,
            timeout_seconds: 10,
            ..Default::default()
        };
        if !answer.allowed {
            answer.message = "policy check-images: rule verify: image denied: no signature".into();
        } else if text.contains("pin-me") {
            answer.patch = PATCH.as_bytes().to_vec();
        }
        if text.contains("warn") {
            answer
                .warnings
                .push("audit: image warn is not signed".into());
        }
        Ok(Response::new(answer))
    }

    async fn verify_image(
        &self,
        _: Request<VerifyImageRequest>,
    ) -> Result<Response<VerifyImageResponse>, Status> {
        Err(Status::unimplemented("not in this fake"))
    }
}

/// A running fake verifier; dropping `stop` shuts it down.
struct FakeVerifier {
    url: String,
    fake: Fake,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeVerifier {
    async fn start(failure_policy: ProtoPolicy) -> Self {
        Self::start_with_tls(failure_policy, None).await
    }

    /// Serves gRPC over TLS (URL `https://localhost:PORT`) when `tls` holds a
    /// certificate and key.
    async fn start_with_tls(failure_policy: ProtoPolicy, tls: Option<(String, String)>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("test setup");
        let port = listener.local_addr().expect("test setup").port();
        let mut builder = tonic::transport::Server::builder();
        let url = match tls {
            Some((cert, key)) => {
                let identity = tonic::transport::Identity::from_pem(cert, key);
                builder = builder
                    .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
                    .expect("server TLS");
                format!("https://localhost:{port}")
            }
            None => format!("http://127.0.0.1:{port}"),
        };
        let fake = Fake {
            failure_policy: failure_policy as i32,
            ..Default::default()
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let server = builder
            .add_service(VerifierServer::new(fake.clone()))
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener),
                async {
                    let _ = stopped.await;
                },
            );
        let task = tokio::spawn(async move {
            server.await.expect("test setup");
        });
        FakeVerifier {
            url,
            fake,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        drop(self.stop.take());
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.task).await;
        self.task.abort();
    }
}

/// A CA that issues `localhost` certificates.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl Ca {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("test setup");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("test setup");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let pem = params.self_signed(&key).expect("test setup").pem();
        Ca {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// Writes a fresh localhost certificate and key, each by write-then-rename.
    fn issue(&self, cert: &Path, key: &Path) {
        let (cert_pem, key_pem) = self.leaf();
        for (path, pem) in [(cert, cert_pem), (key, key_pem)] {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, pem).expect("test setup");
            std::fs::rename(&tmp, path).expect("test setup");
        }
    }

    /// A fresh `localhost` certificate and key (PEM).
    fn leaf(&self) -> (String, String) {
        let leaf_key = KeyPair::generate().expect("test setup");
        let params = CertificateParams::new(vec!["localhost".to_string()]).expect("test setup");
        let leaf = params
            .signed_by(&leaf_key, &self.issuer)
            .expect("test setup");
        (leaf.pem(), leaf_key.serialize_pem())
    }

    fn client(&self, relay: SocketAddr) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(self.pem.as_bytes()).expect("test setup");
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .resolve("localhost", relay)
            .build()
            .expect("test setup")
    }
}

/// A relay running in this process with a fresh certificate from its own CA.
struct TestRelay {
    addr: SocketAddr,
    ca: Ca,
    dir: tempfile::TempDir,
}

impl TestRelay {
    async fn start(verifier: &str, edit: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("test setup");
        let ca = Ca::new("relay test CA");
        let (tls_cert, tls_key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
        ca.issue(&tls_cert, &tls_key);
        let labels = dir.path().join("labels.yaml");
        std::fs::write(&labels, "prod:\n  env: production\n  team: payments\n")
            .expect("test setup");
        let mut config = Config {
            verifier: verifier.to_string(),
            verifier_ca: None,
            token: TOKEN.to_string(),
            tls_cert,
            tls_key,
            listen: "127.0.0.1:0".parse().expect("test setup"),
            namespace_labels: Some(labels),
            failure_policy: FailurePolicy::Fail,
            timeout: Duration::from_millis(700),
            allow_cache: Duration::ZERO,
        };
        edit(&mut config);
        let relay = Relay::bind(&config).await.expect("test setup");
        let addr = relay.local_addr().expect("test setup");
        tokio::spawn(relay.serve(std::future::pending()));
        TestRelay { addr, ca, dir }
    }

    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn post(&self, path: &str, body: &Value) -> Value {
        let response = self
            .ca
            .client(self.addr)
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("test setup");
        assert_eq!(response.status(), 200);
        response.json().await.expect("JSON answer")
    }
}

fn pod_review(uid: &str, namespace: &str, operation: &str, image: &str, dry_run: bool) -> Value {
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"containers": [{"name": "app", "image": image}]}});
    review(
        "Pod", "", "v1", "pods", uid, namespace, operation, pod, dry_run,
    )
}

fn deployment_review(uid: &str, namespace: &str, operation: &str, image: &str) -> Value {
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
          "template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": image}]}}}});
    review(
        "Deployment",
        "apps",
        "v1",
        "deployments",
        uid,
        namespace,
        operation,
        deployment,
        false,
    )
}

/// An AdmissionReview shaped as the API server sends it.
#[allow(clippy::too_many_arguments)]
fn review(
    kind: &str,
    group: &str,
    version: &str,
    resource: &str,
    uid: &str,
    namespace: &str,
    operation: &str,
    object: Value,
    dry_run: bool,
) -> Value {
    let old = if operation == "UPDATE" {
        object.clone()
    } else {
        Value::Null
    };
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": uid,
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": resource},
        "requestKind": {"group": group, "version": version, "kind": kind},
        "requestResource": {"group": group, "version": version, "resource": resource},
        "name": "web", "namespace": namespace, "operation": operation,
        "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
        "object": object, "oldObject": old, "dryRun": dry_run,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": if operation == "CREATE" { "CreateOptions" } else { "UpdateOptions" }}
    }})
}

fn warnings(answer: &Value) -> Vec<String> {
    serde_json::from_value(answer["response"]["warnings"].clone()).unwrap_or_default()
}

#[tokio::test]
async fn mutate_returns_base64_patch_and_validate_the_decision_alone() {
    let verifier = FakeVerifier::start(ProtoPolicy::Fail).await;
    let relay = TestRelay::start(&verifier.url, |_| {}).await;
    let body = pod_review(
        "uid-1",
        "prod",
        "CREATE",
        "ghcr.io/acme/pin-me-warn:1",
        false,
    );

    let answer = relay.post("/mutate", &body).await;
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(answer["kind"], "AdmissionReview");
    let response = &answer["response"];
    assert_eq!(response["uid"], "uid-1");
    assert_eq!(response["allowed"], true);
    assert_eq!(response["patchType"], "JSONPatch");
    let patch = base64::engine::general_purpose::STANDARD
        .decode(response["patch"].as_str().expect("test setup"))
        .expect("test setup");
    assert_eq!(patch, PATCH.as_bytes());
    assert_eq!(warnings(&answer), ["audit: image warn is not signed"]);

    let answer = relay.post("/validate", &body).await;
    assert_eq!(answer["response"]["uid"], "uid-1");
    assert_eq!(answer["response"]["allowed"], true);
    assert!(answer["response"].get("patch").is_none());
    assert!(answer["response"].get("patchType").is_none());
    assert_eq!(warnings(&answer).len(), 1);

    // The namespace's labels from the file and the request reach the verifier.
    let seen = verifier.fake.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].namespace_labels["env"], "production");
    assert_eq!(seen[0].namespace_labels["team"], "payments");
    assert_eq!(
        seen[0].namespace_labels["kubernetes.io/metadata.name"],
        "prod"
    );
    assert_eq!(seen[0].relay_version, env!("CARGO_PKG_VERSION"));
    let forwarded: Value = serde_json::from_slice(&seen[0].admission_request).expect("test setup");
    assert_eq!(forwarded, body["request"]);
}

#[tokio::test]
async fn denials_updates_and_dry_runs_pass_through() {
    let verifier = FakeVerifier::start(ProtoPolicy::Fail).await;
    let relay = TestRelay::start(&verifier.url, |_| {}).await;

    let answer = relay
        .post(
            "/validate",
            &deployment_review("uid-2", "dev", "UPDATE", "docker.io/evil/denied:latest"),
        )
        .await;
    let response = &answer["response"];
    assert_eq!(
        (response["uid"].as_str(), response["allowed"].as_bool()),
        (Some("uid-2"), Some(false))
    );
    assert_eq!(response["status"]["code"], 403);
    assert!(response["status"]["message"]
        .as_str()
        .expect("test setup")
        .contains("no signature"));

    let answer = relay
        .post(
            "/mutate",
            &deployment_review("uid-3", "dev", "CREATE", "ghcr.io/acme/pin-me:1"),
        )
        .await;
    assert_eq!(answer["response"]["allowed"], true);
    assert_eq!(answer["response"]["patchType"], "JSONPatch");

    let answer = relay
        .post(
            "/mutate",
            &pod_review("uid-4", "other", "CREATE", "ghcr.io/acme/app:1", true),
        )
        .await;
    assert_eq!(answer["response"]["allowed"], true);
    assert!(
        answer["response"].get("patch").is_none(),
        "no patch when the verifier sends none"
    );
    let seen = verifier.fake.seen.lock().expect("lock").clone();
    let last: Value = serde_json::from_slice(&seen[2].admission_request).expect("test setup");
    assert_eq!(last["dryRun"], true);
    assert_eq!(
        seen[2].namespace_labels.len(),
        1,
        "unknown namespace: only its name label"
    );
}

#[tokio::test]
async fn unreachable_verifier_fail_denies_and_ignore_admits_with_a_warning() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("test setup");
    let url = format!("http://{}", closed.local_addr().expect("test setup"));
    drop(closed);
    let body = pod_review("uid-5", "prod", "CREATE", "ghcr.io/acme/app:1", false);

    let relay = TestRelay::start(&url, |_| {}).await;
    let answer = relay.post("/validate", &body).await;
    assert_eq!(answer["response"]["uid"], "uid-5");
    assert_eq!(answer["response"]["allowed"], false);
    let message = answer["response"]["status"]["message"]
        .as_str()
        .expect("test setup");
    assert!(message.contains("verifier unreachable"), "{message}");

    let relay = TestRelay::start(&url, |c| c.failure_policy = FailurePolicy::Ignore).await;
    let answer = relay.post("/mutate", &body).await;
    assert_eq!(answer["response"]["allowed"], true);
    assert!(warnings(&answer)[0].contains("verifier unreachable"));
}

#[tokio::test]
async fn the_verifiers_failure_policy_is_remembered_once_it_stops() {
    let verifier = FakeVerifier::start(ProtoPolicy::Ignore).await;
    let relay = TestRelay::start(&verifier.url, |_| {}).await;
    let body = pod_review("uid-6", "prod", "CREATE", "ghcr.io/acme/app:1", false);
    assert_eq!(
        relay.post("/validate", &body).await["response"]["allowed"],
        true
    );
    verifier.stop().await;
    let answer = relay.post("/validate", &body).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert!(warnings(&answer)[0].contains("verifier unreachable"));
}

#[tokio::test]
async fn a_slow_verifier_is_treated_as_unreachable() {
    let verifier = FakeVerifier::start(ProtoPolicy::Fail).await;
    let relay = TestRelay::start(&verifier.url, |_| {}).await;
    let started = std::time::Instant::now();
    let answer = relay
        .post(
            "/validate",
            &pod_review("uid-7", "prod", "CREATE", "ghcr.io/acme/slow:1", false),
        )
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(answer["response"]["allowed"], false);
    assert!(answer["response"]["status"]["message"]
        .as_str()
        .expect("test setup")
        .contains("verifier unreachable"));

    let relay = TestRelay::start(&verifier.url, |c| c.failure_policy = FailurePolicy::Ignore).await;
    let answer = relay
        .post(
            "/validate",
            &pod_review("uid-8", "prod", "CREATE", "ghcr.io/acme/slow:1", false),
        )
        .await;
    assert_eq!(answer["response"]["allowed"], true);
    assert!(warnings(&answer)[0].contains("verifier unreachable"));
}

#[tokio::test]
async fn a_wrong_token_is_refused_by_the_verifier_and_the_failure_policy_answers() {
    let verifier = FakeVerifier::start(ProtoPolicy::Fail).await;
    let relay = TestRelay::start(&verifier.url, |c| c.token = "wrong".into()).await;
    let answer = relay
        .post(
            "/validate",
            &pod_review("uid-9", "prod", "CREATE", "ghcr.io/acme/app:1", false),
        )
        .await;
    assert_eq!(answer["response"]["allowed"], false);
    let message = answer["response"]["status"]["message"]
        .as_str()
        .expect("test setup");
    assert!(message.contains("Unauthenticated"), "{message}");
    assert!(verifier.fake.seen.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn the_allow_cache_answers_for_the_same_image_set_while_the_verifier_is_away() {
    let verifier = FakeVerifier::start(ProtoPolicy::Fail).await;
    let relay = TestRelay::start(&verifier.url, |c| c.allow_cache = Duration::from_secs(60)).await;
    let first = pod_review("uid-10", "prod", "CREATE", "ghcr.io/acme/app:1", false);
    assert_eq!(
        relay.post("/validate", &first).await["response"]["allowed"],
        true
    );
    verifier.stop().await;
    let again = pod_review("uid-11", "prod", "CREATE", "ghcr.io/acme/app:1", false);
    let answer = relay.post("/validate", &again).await;
    assert_eq!(answer["response"]["uid"], "uid-11");
    assert_eq!(answer["response"]["allowed"], true);
    assert!(warnings(&answer)[0].contains("cache"));
    let other = pod_review("uid-12", "prod", "CREATE", "ghcr.io/acme/other:1", false);
    assert_eq!(
        relay.post("/validate", &other).await["response"]["allowed"],
        false
    );
}

#[tokio::test]
async fn an_https_verifier_is_reached_with_the_configured_ca() {
    let verifier_ca = Ca::new("verifier CA");
    let verifier = FakeVerifier::start_with_tls(ProtoPolicy::Fail, Some(verifier_ca.leaf())).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_path = dir.path().join("verifier-ca.pem");
    std::fs::write(&ca_path, &verifier_ca.pem).expect("write CA");
    let relay = TestRelay::start(&verifier.url, |c| c.verifier_ca = Some(ca_path)).await;
    let body = pod_review("uid-14", "prod", "CREATE", "ghcr.io/acme/pin-me:1", false);
    let answer = relay.post("/mutate", &body).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert_eq!(answer["response"]["patchType"], "JSONPatch");

    // Without the CA the verifier's certificate is not trusted: failurePolicy Fail.
    let relay = TestRelay::start(&verifier.url, |_| {}).await;
    let answer = relay.post("/mutate", &body).await;
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
}

#[tokio::test]
async fn malformed_bodies_get_400_or_a_well_formed_error_review() {
    let relay = TestRelay::start("http://127.0.0.1:9", |_| {}).await;
    let client = relay.ca.client(relay.addr);
    for body in ["not json", "[1,2]", r#"{"kind":"Pod"}"#] {
        let response = client
            .post(relay.url("/mutate"))
            .body(body)
            .send()
            .await
            .expect("test setup");
        assert_eq!(response.status(), 400, "{body}");
    }
    let no_request = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"});
    let answer = relay.post("/validate", &no_request).await;
    assert_eq!(answer["kind"], "AdmissionReview");
    assert_eq!(answer["response"]["allowed"], false);
    assert_eq!(answer["response"]["status"]["code"], 400);
    let no_uid = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"operation": "CREATE"}});
    assert_eq!(
        relay.post("/mutate", &no_uid).await["response"]["allowed"],
        false
    );
    let old = json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "u"}});
    let answer = relay.post("/mutate", &old).await;
    assert_eq!(
        (
            answer["response"]["uid"].as_str(),
            answer["response"]["allowed"].as_bool()
        ),
        (Some("u"), Some(false))
    );
}

#[tokio::test]
async fn a_replaced_certificate_is_served_on_new_connections() {
    let relay = TestRelay::start("http://127.0.0.1:9", |_| {}).await;
    let new_ca = Ca::new("rotated CA");
    let healthz = |client: reqwest::Client| {
        let url = relay.url("/healthz");
        async move { client.get(url).send().await }
    };
    assert!(
        healthz(new_ca.client(relay.addr)).await.is_err(),
        "old certificate is not from the new CA"
    );
    new_ca.issue(&relay.path("tls.crt"), &relay.path("tls.key"));
    let response = healthz(new_ca.client(relay.addr))
        .await
        .expect("test setup");
    assert_eq!(response.status(), 200);
    assert!(
        healthz(relay.ca.client(relay.addr)).await.is_err(),
        "old CA no longer matches"
    );
}

#[tokio::test]
async fn healthz_and_metrics() {
    let verifier = FakeVerifier::start(ProtoPolicy::Fail).await;
    let relay = TestRelay::start(&verifier.url, |_| {}).await;
    let client = relay.ca.client(relay.addr);
    let response = client
        .get(relay.url("/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        (
            response.status().as_u16(),
            response.text().await.expect("text answer")
        ),
        (200, "ok".to_string())
    );
    relay
        .post(
            "/validate",
            &pod_review("uid-13", "prod", "CREATE", "ghcr.io/acme/app:1", false),
        )
        .await;
    let metrics = client
        .get(relay.url("/metrics"))
        .send()
        .await
        .expect("test setup")
        .text()
        .await
        .expect("test setup");
    assert!(
        metrics.contains(
            r#"signet_relay_admission_requests_total{endpoint="validate",outcome="allowed"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("signet_relay_review_duration_seconds"));
}

/// DESIGN.md: the relay depends on none of sqlx, redis, sigstore or signet-verify.
#[test]
fn the_relay_depends_on_no_heavy_crate() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "signet-relay",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("test setup");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout);
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        assert!(
            ![
                "sqlx",
                "redis",
                "sigstore",
                "signet-verify",
                "signet-policy"
            ]
            .contains(&name)
                && !name.starts_with("sqlx-"),
            "signet-relay depends on {line}"
        );
    }
    assert!(tree.contains("signet-proto"));
}
