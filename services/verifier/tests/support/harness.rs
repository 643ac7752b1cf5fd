//! A verifier served as the binary serves it (`app::serve`, REST and gRPC on loopback
//! ports) over a real `Service` on PostgreSQL, a real Distribution registry, images signed
//! with Signet's own signer, and the requests the gRPC and shutdown tests send.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use signet_policy::image::ImageRef;
use signet_proto::v1::verifier_client::VerifierClient;
use signet_proto::v1::{ReviewRequest, ReviewResponse};
use signet_testkit::{push_random_image, Registry};
use signet_verifier::app::Listeners;
use signet_verifier::service::Service;
use signet_verifier::store::Store;
use signet_verify::crypto::SigningKey;
use signet_verify::registry::{RegistryClient, RegistryConfig, Transport};
use signet_verify::signing::sign_image;
use signet_verify::trust::TrustRoot;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::{Request, Status};

use super::postgres::PgDb;

/// A verifier serving gRPC and REST on 127.0.0.1, its store in a PostgreSQL database of
/// its own, and a registry.
pub struct Harness {
    pub registry: Registry,
    pub service: Service,
    /// gRPC.
    pub addr: SocketAddr,
    /// REST (`/metrics`).
    pub http_addr: SocketAddr,
    pub admin: String,
    pub signer: SigningKey,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    _db: PgDb,
}

pub fn registry_config() -> RegistryConfig {
    RegistryConfig {
        default_transport: Transport::Http,
        ..RegistryConfig::default()
    }
}

impl Harness {
    pub async fn start() -> Harness {
        let registry = Registry::start().await.expect("start registry");
        let db = PgDb::create().await;
        let store = Store::open(Some(&db.url), &std::env::temp_dir())
            .await
            .expect("open store");
        let service = signet_verifier::app::build_service(
            store,
            registry_config(),
            TrustRoot::public_good().expect("trust root"),
        )
        .await
        .expect("build service");
        let admin = service
            .bootstrap_admin()
            .await
            .expect("bootstrap")
            .expect("a first admin token")
            .token;
        let loopback = "127.0.0.1:0".parse().expect("addr");
        let listeners = Listeners {
            http: tokio::net::TcpListener::bind(loopback).await.expect("bind"),
            grpc: signet_verifier::grpc::bind(loopback).expect("bind"),
        };
        let addr = listeners.grpc.local_addr().expect("local addr");
        let http_addr = listeners.http.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(signet_verifier::app::serve(
            service.clone(),
            listeners,
            1024 * 1024,
            async {
                let _ = stopped.await;
            },
        ));
        Harness {
            registry,
            service,
            addr,
            http_addr,
            admin,
            signer: SigningKey::generate().expect("signing key"),
            stop: Some(stop),
            server: Some(server),
            _db: db,
        }
    }

    pub fn host(&self) -> String {
        self.registry.host()
    }

    /// The `/metrics` exposition, as Prometheus scrapes it.
    pub async fn metrics(&self) -> String {
        let response = reqwest::get(format!("http://{}/metrics", self.http_addr))
            .await
            .expect("GET /metrics");
        assert!(response.status().is_success(), "{}", response.status());
        response.text().await.expect("metrics text")
    }

    pub async fn client(&self) -> VerifierClient<Channel> {
        VerifierClient::connect(format!("http://{}", self.addr))
            .await
            .expect("connect")
    }

    /// Pushes a random image; returns its tag reference and digest.
    pub async fn image(&self, repository: &str, tag: &str) -> (String, String) {
        let digest = push_random_image(&self.registry, repository, tag)
            .await
            .expect("push image");
        (self.registry.reference(repository, tag), digest)
    }

    /// Pushes an image and signs it with the harness's key.
    pub async fn signed_image(&self, repository: &str, tag: &str) -> (String, String) {
        let (tagged, digest) = self.image(repository, tag).await;
        let client = RegistryClient::new(registry_config()).expect("registry client");
        let by_digest = ImageRef::parse(&self.registry.reference(repository, &digest))
            .expect("image reference");
        sign_image(&client, &self.signer, &by_digest, &BTreeMap::new())
            .await
            .expect("sign");
        (tagged, digest)
    }

    pub async fn register(&self, name: &str, labels: &[(&str, &str)]) -> String {
        let labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (_, token) = self
            .service
            .register_cluster(name, &labels)
            .await
            .expect("register cluster");
        token.token
    }

    pub async fn apply(&self, policy: &str) {
        self.service
            .apply_policy(policy)
            .await
            .expect("apply policy");
    }

    /// A ClusterPolicy requiring the harness's key on every image of this registry;
    /// `action` is its validationFailureAction.
    pub fn policy(&self, name: &str, action: &str, spec_extra: &str, annotations: &str) -> String {
        let pem = signet_testkit::indent(&self.signer.public_key_pem().expect("public key"), 22);
        format!(
            "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: {name}
{annotations}spec:
  validationFailureAction: {action}
{spec_extra}  rules:
    - name: check-signature
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - imageReferences: [\"{host}/*\"]
          attestors:
            - entries:
                - keys:
                    publicKeys: |-
{pem}                    rekor:
                      url: https://rekor.sigstore.dev
                      ignoreTlog: true
",
            host = self.host(),
        )
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let ended = tokio::time::timeout(Duration::from_secs(10), server)
                .await
                .expect("the server stops after the shutdown signal")
                .expect("server task");
            ended.expect("server ended cleanly");
        }
    }
}

pub fn pod_request<S: AsRef<str>>(
    uid: &str,
    namespace: &str,
    images: &[S],
    dry_run: bool,
) -> Vec<u8> {
    let containers: Vec<_> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({"name": format!("c{i}"), "image": image.as_ref()}))
        .collect();
    serde_json::to_vec(&json!({
        "uid": uid,
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": namespace,
        "name": format!("pod-{uid}"),
        "operation": "CREATE",
        "userInfo": {"username": "alice"},
        "dryRun": dry_run,
        "object": {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": format!("pod-{uid}"), "namespace": namespace},
            "spec": {"containers": containers}
        }
    }))
    .expect("request JSON")
}

pub fn authorized<T>(message: T, token: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("metadata value"),
        );
    }
    request
}

pub fn review_request(admission_request: Vec<u8>) -> ReviewRequest {
    ReviewRequest {
        admission_request,
        namespace_labels: HashMap::new(),
        relay_version: "0.1.0-test".into(),
    }
}

pub async fn review(
    client: &mut VerifierClient<Channel>,
    token: Option<&str>,
    admission_request: Vec<u8>,
) -> Result<ReviewResponse, Status> {
    client
        .review(authorized(review_request(admission_request), token))
        .await
        .map(tonic::Response::into_inner)
}
