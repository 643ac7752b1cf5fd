//! The store goes away under a running verifier: the real PostgreSQL stays up behind a TCP
//! proxy that the test cuts and restores. While the store is unreachable, `/readyz` fails,
//! calls fail cleanly (gRPC UNAVAILABLE, HTTP 503 with a JSON body), and every decision
//! that was answered before the failure showed is stored once the store is back.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use signet_proto::v1::verifier_client::VerifierClient;
use signet_proto::v1::ReviewRequest;
use signet_testkit::TcpProxy;
use signet_verifier::app::Listeners;
use signet_verifier::store::{DecisionFilter, Store};
use signet_verify::registry::RegistryConfig;
use signet_verify::trust::TrustRoot;
use support::postgres::PgDb;
use tonic::Code;

mod support;

/// Admits images of one registry without verification: every Review of such an image
/// makes one decision row, and no registry is needed.
const POLICY: &str = "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: allow-internal
spec:
  validationFailureAction: Enforce
  rules:
    - name: internal
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: [\"registry.internal/*\"]
          required: false
";

const IMAGE: &str =
    "registry.internal/app@sha256:0000000000000000000000000000000000000000000000000000000000000001";

fn pod(uid: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "uid": format!("u{uid}"),
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": "team",
        "name": format!("pod-{uid}"),
        "operation": "CREATE",
        "userInfo": {"username": "alice"},
        "object": {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": format!("pod-{uid}"), "namespace": "team"},
            "spec": {"containers": [{"name": "c", "image": IMAGE}]}
        }
    }))
    .expect("request JSON")
}

/// One Review as cluster `edge`: `Ok(allowed)` or the gRPC code it failed with.
async fn review(
    client: &mut VerifierClient<tonic::transport::Channel>,
    token: &str,
    uid: usize,
) -> Result<bool, Code> {
    let mut request = tonic::Request::new(ReviewRequest {
        admission_request: pod(uid),
        namespace_labels: HashMap::new(),
        relay_version: "test".into(),
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("metadata"),
    );
    match client.review(request).await {
        Ok(answer) => Ok(answer.into_inner().allowed),
        Err(status) => Err(status.code()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_fails_calls_cleanly_and_loses_no_answered_decision() {
    let db = PgDb::create().await;
    let mut url = reqwest::Url::parse(&db.url).expect("database URL");
    let host = url.host_str().expect("database host").to_owned();
    let port = url.port().unwrap_or(5432);
    let target = tokio::net::lookup_host((host.as_str(), port))
        .await
        .expect("resolve the database host")
        .next()
        .expect("an address");
    let proxy = TcpProxy::start(target).await.expect("proxy");
    url.set_host(Some("127.0.0.1")).expect("host");
    url.set_port(Some(proxy.addr().port())).expect("port");
    let url = url.to_string();
    let store = Store::open(Some(&url), &std::env::temp_dir())
        .await
        .expect("store");
    let service =
        signet_verifier::app::build_service(store, RegistryConfig::default(), TrustRoot::default())
            .await
            .expect("service");
    service.apply_policy(POLICY).await.expect("policy");
    let admin = service
        .bootstrap_admin()
        .await
        .expect("bootstrap")
        .expect("admin")
        .token;
    let (_, cluster) = service
        .register_cluster("edge", &Default::default())
        .await
        .expect("cluster");

    let loopback = "127.0.0.1:0".parse().expect("addr");
    let listeners = Listeners {
        http: tokio::net::TcpListener::bind(loopback).await.expect("bind"),
        grpc: signet_verifier::grpc::bind(loopback).expect("bind"),
    };
    let grpc = listeners.grpc.local_addr().expect("addr");
    let http = listeners.http.local_addr().expect("addr");
    tokio::spawn(signet_verifier::app::serve(
        service.clone(),
        listeners,
        1 << 20,
        std::future::pending(),
    ));
    let web = reqwest::Client::new();
    let get = |path: &str| {
        web.get(format!("http://{http}{path}"))
            .bearer_auth(&admin)
            .send()
    };

    let mut client = VerifierClient::connect(format!("http://{grpc}"))
        .await
        .expect("connect");
    let mut uid = 0;
    let mut answered = 0;
    assert_eq!(review(&mut client, &cluster.token, uid).await, Ok(true));
    answered += 1;
    assert_eq!(
        get("/readyz").await.expect("readyz").status(),
        StatusCode::OK
    );

    // The store goes away. Reviews answered before the verifier notices are queued; once
    // it has noticed, Reviews fail with UNAVAILABLE and nothing more is answered.
    proxy.cut();
    let mut refused = None;
    for _ in 0..250 {
        uid += 1;
        match review(&mut client, &cluster.token, uid).await {
            Ok(allowed) => {
                assert!(allowed);
                answered += 1;
            }
            Err(code) => {
                refused = Some(code);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        refused,
        Some(Code::Unavailable),
        "Reviews fail once the store is gone"
    );
    uid += 1;
    assert_eq!(
        review(&mut client, &cluster.token, uid).await,
        Err(Code::Unavailable),
        "and keep failing while it is away"
    );

    let ready = get("/readyz").await.expect("readyz");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.expect("JSON readiness");
    assert_eq!(body["status"], "unavailable", "{body}");
    assert!(body["decisions"]["failing"].is_string(), "{body}");

    let policies = get("/v1/policies").await.expect("policies");
    assert_eq!(policies.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = policies.json().await.expect("JSON error");
    assert_eq!(body["error"], "unavailable", "{body}");

    // The store returns: the verifier answers again without a restart, and every decision
    // it answered is stored, once.
    proxy.restore();
    let mut back = false;
    for _ in 0..300 {
        uid += 1;
        if review(&mut client, &cluster.token, uid).await == Ok(true) {
            answered += 1;
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(back, "Reviews succeed again once the store is back");
    service.journal().flush().await.expect("flush");
    assert_eq!(
        get("/readyz").await.expect("readyz").status(),
        StatusCode::OK
    );
    let filter = DecisionFilter {
        cluster: Some("edge".into()),
        ..Default::default()
    };
    let (stored, next) = service
        .store()
        .query_decisions(&filter, 0, None)
        .await
        .expect("decisions");
    assert!(next.is_none());
    assert_eq!(stored.len(), answered, "one row per answered Review");
    let mut names: Vec<_> = stored.iter().map(|d| d.name.clone()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), answered, "no decision stored twice");
}
