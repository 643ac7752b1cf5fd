//! Registry credentials stored through the API are sealed, never returned, and used to
//! reach an htpasswd-protected registry (the real Distribution registry).

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use serde_json::json;
use signet_testkit::{push_random_image, Registry, RegistryOptions};
use signet_verifier::http::{router, AppState};
use signet_verifier::metrics::Metrics;
use signet_verifier::{app, store::Store};
use signet_verify::crypto::SigningKey;
use signet_verify::registry::{Credentials, RegistryClient, RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;

#[tokio::test(flavor = "multi_thread")]
async fn stored_credentials_open_a_private_registry() {
    let registry = Registry::start_with(RegistryOptions::basic_auth("robot", "s3cret-pass"))
        .await
        .expect("registry");
    push_random_image(&registry, "team/app", "v1")
        .await
        .expect("push");
    let image = registry.reference("team/app", "v1");
    let host = registry.host();
    let key = SigningKey::generate().expect("key");
    let signer = RegistryClient::new(RegistryConfig {
        default_transport: Transport::Http,
        credentials: HashMap::from([(
            host.clone(),
            Credentials::Basic {
                username: "robot".into(),
                password: "s3cret-pass".into(),
            },
        )]),
        ..RegistryConfig::default()
    })
    .expect("client");
    let parsed = signet_policy::image::ImageRef::parse(&image).expect("ref");
    signet_verify::signing::sign_image(&signer, &key, &parsed, &Default::default())
        .await
        .expect("sign");

    // The credentials key comes from the environment, as in production.
    let secret = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    std::env::set_var("SIGNET_CREDENTIALS_KEY", &secret);
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(None, dir.path()).await.expect("store");
    let config = RegistryConfig {
        default_transport: Transport::Http,
        ..RegistryConfig::default()
    };
    let service = app::build_service(store.clone(), config, TrustRoot::default())
        .await
        .expect("service");
    let admin = service
        .bootstrap_admin()
        .await
        .expect("bootstrap")
        .expect("admin")
        .token;
    let (_, cluster) = service
        .register_cluster("c1", &BTreeMap::new())
        .await
        .expect("cluster");
    let pem = signet_testkit::indent(&key.public_key_pem().expect("pem"), 22);
    service
        .apply_policy(&format!(
            "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {{name: private}}
spec:
  validationFailureAction: Enforce
  rules:
    - name: r
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
      verifyImages:
        - imageReferences: [\"{host}/*\"]
          attestors:
            - entries:
                - keys:
                    publicKeys: |-
{pem}                    rekor: {{url: \"https://rekor.sigstore.dev\", ignoreTlog: true}}
"
        ))
        .await
        .expect("policy");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let state = AppState {
        service: service.clone(),
        metrics: Metrics::default(),
    };
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(state, 1 << 20)).await;
    });
    let http = reqwest::Client::new();
    let verify = || async {
        let v: serde_json::Value = http
            .post(format!("{url}/v1/verify"))
            .bearer_auth(&cluster.token)
            .json(&json!({"image": image}))
            .send()
            .await
            .expect("verify")
            .json()
            .await
            .expect("json");
        v
    };

    let before = verify().await;
    assert_eq!(before["allowed"], false);
    assert_eq!(before["verdicts"][0]["result"], "error", "{before}");
    assert!(before.to_string().contains("unauthorized"), "{before}");

    let resp = http
        .post(format!("{url}/v1/registry-credentials"))
        .bearer_auth(&admin)
        .json(&json!({"registry": host, "username": "robot", "password": "s3cret-pass"}))
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), 201);
    let listed = http
        .get(format!("{url}/v1/registry-credentials"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("text");
    assert!(
        listed.contains("robot") && !listed.contains("s3cret-pass"),
        "{listed}"
    );
    let sealed = store
        .get_credential_secret(&host)
        .await
        .expect("store")
        .expect("stored");
    assert!(
        !sealed.secret_ciphertext.contains("s3cret-pass"),
        "sealed at rest"
    );

    let after = verify().await;
    assert_eq!(after["allowed"], true, "{after}");
    assert_eq!(after["verdicts"][0]["result"], "pass");
}
