//! Stored trust roots named by policies (`signet.dev/trust-root`): a private Fulcio-like
//! CA, Rekor key and CT log key (the offline PKI of signet-verify's keyless tests) stored
//! through `POST /v1/trust-roots`, a keyless policy naming it, and an image signed under
//! that CA by cosign on the real registry, its Rekor bundle signed by the local Rekor key.

#[path = "../../../crates/verify/tests/support/mod.rs"]
mod support;

#[path = "../../../crates/verify/tests/support/der.rs"]
mod der;
#[allow(dead_code)]
#[path = "../../../crates/verify/tests/keyless/fixture.rs"]
mod fixture;
#[path = "../../../crates/verify/tests/support/pki.rs"]
mod pki;
#[path = "../../../crates/verify/tests/support/rekor.rs"]
mod rekor;

use std::collections::BTreeMap;

use base64::Engine;
use fixture::{Fixture, Log, GITHUB, WORKFLOW};
use pki::LeafSpec;
use reqwest::StatusCode;
use serde_json::{json, Value};
use signet_verifier::http::{router, AppState};
use signet_verifier::metrics::Metrics;
use signet_verifier::{app, store::Store};
use signet_verify::registry::{RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A transparency or CT log entry of a `trusted_root.json`, for a PEM public key.
fn log(url: &str, pem: &str) -> Value {
    let key = signet_policy::pem_material::parse_public_keys(pem).expect("pem");
    let spki = &key[0].spki_der;
    let id = signet_verify::digest::sha256_digest(spki);
    let id = hex::decode(id.trim_start_matches("sha256:")).expect("hex");
    json!({
        "baseUrl": url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": B64.encode(spki),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": "2020-01-01T00:00:00Z"},
        },
        "logId": {"keyId": B64.encode(id)},
    })
}

/// The fixture's private instance as a `trusted_root.json`: its CA chain (`chain`,
/// leaf-most first), Rekor key and CT log key.
fn trusted_root(f: &Fixture, chain: &[Vec<u8>]) -> Value {
    let certificates: Vec<Value> = chain
        .iter()
        .map(|der| json!({"rawBytes": B64.encode(der)}))
        .collect();
    json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [log("https://rekor.corp.example", &f.rekor.public_pem())],
        "ctlogs": [log("https://ct.corp.example", &f.ct.public_pem())],
        "certificateAuthorities": [{
            "uri": "https://fulcio.corp.example",
            "certChain": {"certificates": certificates},
            "validFor": {"start": "2020-01-01T00:00:00Z"},
        }],
        "timestampAuthorities": [],
    })
}

/// A keyless policy for `host/*`, naming `root` in its annotation when given.
fn keyless_policy(host: &str, root: Option<&str>) -> String {
    let annotations = root
        .map(|r| format!("  annotations:\n    signet.dev/trust-root: {r}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: corp-keyless
{annotations}spec:
  validationFailureAction: Enforce
  rules:
    - name: r
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
      verifyImages:
        - imageReferences: [\"{host}/*\"]
          attestors:
            - entries:
                - keyless:
                    subject: \"{WORKFLOW}\"
                    issuer: \"{GITHUB}\"
                    rekor: {{url: \"https://rekor.corp.example\"}}
"
    )
}

struct Api {
    url: String,
    admin: String,
    cluster: String,
    http: reqwest::Client,
}

impl Api {
    async fn send(&self, req: reqwest::RequestBuilder, token: &str) -> (StatusCode, Value) {
        let resp = req.bearer_auth(token).send().await.expect("send");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn apply(&self, policy: String) -> (StatusCode, Value) {
        let req = self
            .http
            .post(format!("{}/v1/policies", self.url))
            .body(policy);
        self.send(req, &self.admin).await
    }

    async fn put_root(&self, name: &str, root: &Value) -> StatusCode {
        let req = self
            .http
            .post(format!("{}/v1/trust-roots", self.url))
            .json(&json!({"name": name, "trustedRoot": root}));
        self.send(req, &self.admin).await.0
    }

    async fn verify(&self, image: &str) -> Value {
        let req = self
            .http
            .post(format!("{}/v1/verify", self.url))
            .json(&json!({"image": image}));
        let (status, v) = self.send(req, &self.cluster).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    }
}

async fn start() -> (Api, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(None, dir.path()).await.expect("store");
    let config = RegistryConfig {
        default_transport: Transport::Http,
        ..RegistryConfig::default()
    };
    let trust = TrustRoot::public_good().expect("public-good root");
    let service = app::build_service(store, config, trust)
        .await
        .expect("service");
    let admin = service.bootstrap_admin().await.expect("bootstrap");
    let (_, cluster) = service
        .register_cluster("c1", &BTreeMap::new())
        .await
        .expect("cluster");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let state = AppState {
        service,
        metrics: Metrics::default(),
    };
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(state, 1 << 20)).await;
    });
    let api = Api {
        url,
        admin: admin.expect("first admin").token,
        cluster: cluster.token,
        http: reqwest::Client::new(),
    };
    (api, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_naming_a_stored_root_verifies_under_it() {
    let f = Fixture::new().await;
    let leaf = f.leaf("leaf", &LeafSpec::github(WORKFLOW), true);
    let (image, _) = f
        .signed_image("app", "signed", &leaf, Log::SecondsAgo(60))
        .await;
    let host = f.env.host();
    let (api, _dir) = start().await;

    // A root that is not stored is refused when the policy is applied.
    let (status, body) = api.apply(keyless_policy(&host, Some("corp"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.to_string()
            .contains("metadata.annotations[signet.dev/trust-root]"),
        "{body}"
    );

    let corp = trusted_root(&f, &[f.fulcio.der(), f.root.der()]);
    assert_eq!(api.put_root("corp", &corp).await, StatusCode::CREATED);
    let (status, body) = api.apply(keyless_policy(&host, Some("corp"))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let v = api.verify(&image).await;
    assert_eq!(v["allowed"], true, "{v}");
    assert_eq!(v["verdicts"][0]["result"], "pass", "{v}");

    // Without the annotation the verifier's default root (public-good) decides: the
    // private CA and Rekor key are not in it.
    let (status, body) = api.apply(keyless_policy(&host, None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v = api.verify(&image).await;
    assert_eq!(v["allowed"], false, "{v}");
    assert_eq!(v["verdicts"][0]["result"], "fail", "{v}");

    // The same name with other material: the cached pass is not reused.
    let (status, _) = api.apply(keyless_policy(&host, Some("corp"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(api.verify(&image).await["allowed"], true);
    let other = trusted_root(&f, &[f.other_root.der()]);
    assert_eq!(api.put_root("corp", &other).await, StatusCode::OK);
    let v = api.verify(&image).await;
    assert_eq!(v["allowed"], false, "{v}");
    assert_eq!(v["verdicts"][0]["result"], "fail", "{v}");

    // Deleted later: the policy still loads, and its decisions are errors.
    assert_eq!(api.put_root("corp", &corp).await, StatusCode::OK);
    assert_eq!(api.verify(&image).await["allowed"], true);
    let req = api.http.delete(format!("{}/v1/trust-roots/corp", api.url));
    assert_eq!(api.send(req, &api.admin).await.0, StatusCode::NO_CONTENT);
    let v = api.verify(&image).await;
    assert_eq!(v["allowed"], false, "{v}");
    assert_eq!(v["verdicts"][0]["result"], "error", "{v}");
    assert!(v.to_string().contains("trust root \\\"corp\\\""), "{v}");
}
