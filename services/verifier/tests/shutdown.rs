//! Shutdown as deployments do it: SIGTERM to the `signet-verifier` binary while a call is
//! in flight. The listeners close at once, the call is still answered, and the process
//! exits cleanly after writing its decision to the store.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use serde_json::json;
use signet_proto::v1::verifier_client::VerifierClient;
use signet_proto::v1::VerifyImageRequest;
use signet_verifier::store::{DecisionFilter, Store};
use tokio::sync::{mpsc, watch};

use support::harness::{authorized, Harness};

/// A TCP proxy to `upstream` that holds every connection until `open` turns true, and
/// reports each connection it holds. Returns its `127.0.0.1:PORT`.
async fn gated_proxy(
    upstream: String,
    open: watch::Receiver<bool>,
) -> (String, mpsc::UnboundedReceiver<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    let (held, holding) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let _ = held.send(());
            let mut open = open.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if open.wait_for(|open| *open).await.is_err() {
                    return;
                }
                if let Ok(mut registry) = tokio::net::TcpStream::connect(&upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut conn, &mut registry).await;
                }
            });
        }
    });
    (host, holding)
}

/// `signet-verifier`, the binary, on the embedded store in `dir` (killed if a test fails).
struct Binary {
    child: Child,
    grpc: SocketAddr,
    http: SocketAddr,
    admin: String,
    log: PathBuf,
}

impl Binary {
    async fn start(dir: &Path) -> Binary {
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
        };
        let (grpc, http) = (free(), free());
        let token_file = dir.join("admin-token");
        let log = dir.join("verifier.log");
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_signet-verifier"))
            .args(["--grpc-addr", &grpc.to_string()])
            .args(["--http-addr", &http.to_string()])
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--admin-token-file")
            .arg(&token_file)
            .arg("--allow-http-registry")
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .spawn()
            .expect("start signet-verifier");
        let mut binary = Binary {
            child,
            grpc,
            http,
            admin: String::new(),
            log,
        };
        let client = reqwest::Client::new();
        let ready = async {
            loop {
                assert!(binary.running(), "exited:\n{}", binary.log());
                let ready = client
                    .get(format!("http://{http}/readyz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ready && token_file.is_file() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(60), ready)
            .await
            .is_err()
        {
            panic!("not ready in 60 s:\n{}", binary.log());
        }
        binary.admin = std::fs::read_to_string(&token_file)
            .expect("admin token")
            .trim()
            .to_owned();
        binary
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// What a deployment's stop sends.
    fn sigterm(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
    }

    /// Waits for the process to end on its own; its exit status.
    async fn exited(&mut self) -> ExitStatus {
        let waited = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                if let Some(status) = self.child.try_wait().expect("try_wait") {
                    return status;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        waited.unwrap_or_else(|_| panic!("still running 60 s after SIGTERM:\n{}", self.log()))
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The transport of the call in flight at shutdown.
#[derive(Debug, Clone, Copy)]
enum Via {
    Grpc,
    Rest,
}

/// SIGTERM to the binary while a VerifyImage (gRPC) or `POST /v1/verify` (REST) call is
/// in flight: the listeners close at once, the call is still answered, and the process
/// ends cleanly with its decision stored.
async fn sigterm_with_a_call_in_flight(via: Via) {
    // The harness's registry and signer; the verifier under test is the binary.
    let h = Harness::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut verifier = Binary::start(dir.path()).await;
    // The call reaches the registry through a gate held shut until shutdown has begun:
    // it is provably in flight when shutdown begins.
    let (open, gate) = watch::channel(false);
    let (gated_host, mut held) = gated_proxy(h.host(), gate).await;
    let policy = h
        .policy("require-signed", "Enforce", "", "")
        .replace(&h.host(), &gated_host);
    let rest = reqwest::Client::new();
    let applied = rest
        .post(format!("http://{}/v1/policies", verifier.http))
        .bearer_auth(&verifier.admin)
        .body(policy)
        .send()
        .await
        .expect("apply the policy");
    assert!(applied.status().is_success(), "{}", applied.status());
    let (_, digest) = h.signed_image("app", "v1").await;
    let image = format!("{gated_host}/app:v1");

    let call = match via {
        Via::Grpc => {
            let mut client = VerifierClient::connect(format!("http://{}", verifier.grpc))
                .await
                .expect("connect");
            let request = authorized(
                VerifyImageRequest {
                    image: image.clone(),
                    ..VerifyImageRequest::default()
                },
                Some(&verifier.admin),
            );
            tokio::spawn(async move {
                let answer = client
                    .verify_image(request)
                    .await
                    .expect("the gRPC call in flight completes")
                    .into_inner();
                (answer.allowed, answer.verdicts[0].result.clone())
            })
        }
        Via::Rest => {
            let request = rest
                .post(format!("http://{}/v1/verify", verifier.http))
                .bearer_auth(&verifier.admin)
                .json(&json!({"image": image}));
            tokio::spawn(async move {
                let response = request
                    .send()
                    .await
                    .expect("the REST call in flight completes");
                assert_eq!(response.status(), reqwest::StatusCode::OK);
                let answer: serde_json::Value = response.json().await.expect("JSON answer");
                let result = answer["verdicts"][0]["result"].as_str().unwrap_or("");
                (answer["allowed"] == true, result.to_owned())
            })
        }
    };
    held.recv().await.expect("the call reaches its registry");

    verifier.sigterm();
    // Both listeners close as shutdown begins, while the process waits for the call.
    let refused =
        |addr: SocketAddr| async move { tokio::net::TcpStream::connect(addr).await.is_err() };
    let closed = tokio::time::timeout(Duration::from_secs(60), async {
        while !(refused(verifier.grpc).await && refused(verifier.http).await) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(closed.is_ok(), "still accepting:\n{}", verifier.log());
    assert!(
        verifier.running(),
        "the process waits for the call:\n{}",
        verifier.log()
    );
    open.send(true).expect("open the gate");
    let answer = call.await.unwrap_or_else(|e| {
        panic!("{via:?} call: {e}\n{}", verifier.log());
    });
    assert_eq!(answer, (true, "pass".to_owned()));

    let status = verifier.exited().await;
    assert!(status.success(), "{status}:\n{}", verifier.log());
    // The process is gone: what it stored before exiting is all there is.
    let store = Store::open(None, &dir.path().join("data"))
        .await
        .expect("open the store");
    let filter = DecisionFilter {
        image: Some(image.clone()),
        ..DecisionFilter::default()
    };
    let (found, _) = store
        .query_decisions(&filter, 100, None)
        .await
        .expect("query");
    assert_eq!(found.len(), 1, "{image}: {found:?}");
    assert_eq!(found[0].operation, "VERIFY");
    assert_eq!(found[0].result, "pass");
    assert_eq!(found[0].digest.as_deref(), Some(digest.as_str()));
    assert!(
        refused(verifier.grpc).await,
        "gRPC is closed after shutdown"
    );
    assert!(
        refused(verifier.http).await,
        "REST is closed after shutdown"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_a_grpc_call_in_flight_and_stores_its_decision() {
    sigterm_with_a_call_in_flight(Via::Grpc).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_a_rest_call_in_flight_and_stores_its_decision() {
    sigterm_with_a_call_in_flight(Via::Rest).await;
}
