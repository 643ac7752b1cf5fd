//! Registry credentials stored through the API are sealed, never returned, and used to
//! reach an htpasswd-protected registry (the real Distribution registry): the verifier's
//! own, and those of named sets that rules name in `imageRegistryCredentials.secrets`.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use serde_json::json;
use signet_testkit::{push_random_image, KeyPolicy, Registry, RegistryOptions};
use signet_verifier::http::{router, AppState};
use signet_verifier::metrics::Metrics;
use signet_verifier::service::CredentialsKey;
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
    let pem = key.public_key_pem().expect("pem");
    service
        .apply_policy(&KeyPolicy::new("private", &format!("{host}/*"), &pem).yaml())
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
    let verify = || verify_as(&http, &url, &cluster.token, &image);

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

// ---------------------------------------------------------------------------
// Named sets: what `imageRegistryCredentials.secrets` names.

const USER: &str = "puller";
const PASS: &str = "named-Pa55-word";

/// An htpasswd registry with one image, signed (by Signet's signer) by digest; the image's
/// tag reference and the signer's public key indented for a policy's block scalar.
async fn private_signed_image() -> (Registry, String, String) {
    let registry = Registry::start_with(RegistryOptions::basic_auth(USER, PASS))
        .await
        .expect("registry");
    push_random_image(&registry, "team/app", "v1")
        .await
        .expect("push");
    let image = registry.reference("team/app", "v1");
    let key = SigningKey::generate().expect("key");
    let signer = RegistryClient::new(RegistryConfig {
        default_transport: Transport::Http,
        credentials: HashMap::from([(
            registry.host(),
            Credentials::Basic {
                username: USER.into(),
                password: PASS.into(),
            },
        )]),
        ..RegistryConfig::default()
    })
    .expect("client");
    let parsed = signet_policy::image::ImageRef::parse(&image).expect("ref");
    signet_verify::signing::sign_image(&signer, &key, &parsed, &Default::default())
        .await
        .expect("sign");
    let pem = key.public_key_pem().expect("pem");
    (registry, image, pem)
}

/// A policy whose rule reads `host`'s images with the named set `regcred`.
fn policy_naming_regcred(host: &str, pem: &str) -> String {
    KeyPolicy::new("private-named", &format!("{host}/*"), pem)
        .field("imageRegistryCredentials: {secrets: [regcred]}")
        .yaml()
}

/// A service on `store` with a credentials key (given directly, as `--credentials-key-file`
/// gives it) and the default verdict cache, reaching registries over plain HTTP.
async fn service_with_key(store: Store, key: &CredentialsKey) -> signet_verifier::service::Service {
    let config = RegistryConfig {
        default_transport: Transport::Http,
        ..RegistryConfig::default()
    };
    let secrets = app::Secrets {
        jwt_key: None,
        credentials_key: Some(key.clone()),
    };
    app::build_service_with(
        store,
        config,
        TrustRoot::default(),
        signet_verifier::cache::CacheOptions::default(),
        secrets,
    )
    .await
    .expect("service")
}

/// Serves the REST API of `service` on a free port; its base URL.
async fn serve(service: &signet_verifier::service::Service) -> String {
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
    url
}

fn credentials_key() -> CredentialsKey {
    CredentialsKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([9u8; 32]))
        .expect("key")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_set_stored_through_the_api_is_what_a_rule_naming_it_reads_with() {
    let (registry, image, pem) = private_signed_image().await;
    let host = registry.host();
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(None, dir.path()).await.expect("store");
    let key = credentials_key();
    let service = service_with_key(store.clone(), &key).await;
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
    let applied = service
        .apply_policy(&policy_naming_regcred(&host, &pem))
        .await
        .expect("a policy naming a set not stored yet is accepted");
    // Accepted with a warning naming the field and the set.
    assert_eq!(applied.warnings.len(), 1, "{:?}", applied.warnings);
    assert!(
        applied.warnings[0].starts_with(
            "spec.rules[0].verifyImages[0].imageRegistryCredentials.secrets[0]: \
             the verifier holds no registry credentials secret \"regcred\""
        ),
        "{:?}",
        applied.warnings
    );
    let url = serve(&service).await;
    let http = reqwest::Client::new();
    let verify = || verify_as(&http, &url, &cluster.token, &image);
    let store_set = |password: &'static str| {
        let (http, url, admin, host) = (&http, &url, &admin, &host);
        async move {
            http.post(format!("{url}/v1/registry-credentials"))
                .bearer_auth(admin)
                .json(
                    &json!({"registry": host, "username": USER, "password": password,
                              "secret": "regcred"}),
                )
                .send()
                .await
                .expect("put")
                .status()
        }
    };
    let message = |v: &serde_json::Value| {
        v["verdicts"][0]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let not_found =
        format!("cannot verify {image}: registry credentials secret \"regcred\" not found");

    // Not stored yet: an error verdict naming the set.
    let before = verify().await;
    assert_eq!(before["allowed"], false, "{before}");
    assert_eq!(before["verdicts"][0]["result"], "error", "{before}");
    assert_eq!(message(&before), not_found);

    // Stored (201), listed without its password, sealed at rest and bound to set and
    // registry: the rule passes.
    assert_eq!(store_set(PASS).await, 201);
    let listed: serde_json::Value = http
        .get(format!("{url}/v1/registry-credentials"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(
        listed,
        json!([{"registry": host, "username": USER, "secret": "regcred"}])
    );
    let sealed = store
        .list_named_credential_secrets()
        .await
        .expect("store")
        .remove(0);
    assert!(!sealed.secret_ciphertext.contains(PASS), "sealed at rest");
    assert_eq!(
        key.open_named("regcred", &host, &sealed.secret_ciphertext)
            .expect("opens for its set and registry"),
        PASS
    );
    assert!(key.open(&host, &sealed.secret_ciphertext).is_err());
    assert!(key
        .open_named("other", &host, &sealed.secret_ciphertext)
        .is_err());
    let after = verify().await;
    assert_eq!(after["allowed"], true, "{after}");
    assert_eq!(after["verdicts"][0]["result"], "pass", "{after}");
    // Applied again now that the set is held: no warning.
    let reapplied = service
        .apply_policy(&policy_naming_regcred(&host, &pem))
        .await
        .expect("apply");
    assert_eq!(reapplied.warnings, Vec::<String>::new());

    // Replaced (200) by a password the registry refuses: the passing verdict is not
    // answered from the cache.
    assert_eq!(store_set("wrong-Pa55").await, 200);
    let refused = verify().await;
    assert_eq!(refused["verdicts"][0]["result"], "error", "{refused}");
    assert!(
        message(&refused).ends_with("unauthorized: credentials were refused"),
        "{refused}"
    );
    assert_eq!(store_set(PASS).await, 200);
    assert_eq!(verify().await["verdicts"][0]["result"], "pass");

    // Deleted: the next verification is an error naming the set again, not a stale pass.
    let delete = || async {
        http.delete(format!("{url}/v1/registry-credentials/{host}"))
            .query(&[("secret", "regcred")])
            .bearer_auth(&admin)
            .send()
            .await
            .expect("delete")
            .status()
    };
    assert_eq!(delete().await, 204);
    let deleted = verify().await;
    assert_eq!(deleted["allowed"], false, "{deleted}");
    assert_eq!(deleted["verdicts"][0]["result"], "error", "{deleted}");
    assert_eq!(message(&deleted), not_found);
    assert_eq!(delete().await, 404);

    // A name no policy could write is refused; the verifier's own credentials for the
    // registry are not a named set's (deleting without ?secret finds none).
    let bad = http
        .post(format!("{url}/v1/registry-credentials"))
        .bearer_auth(&admin)
        .json(
            &json!({"registry": host, "username": USER, "password": PASS,
                      "secret": "RegCred"}),
        )
        .send()
        .await
        .expect("put");
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.expect("text").contains("invalid secret"));
    let unnamed = http
        .delete(format!("{url}/v1/registry-credentials/{host}"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("delete");
    assert_eq!(unnamed.status(), 404);
}

/// `POST /v1/verify` of `image` as the cluster holding `token`: the decision's JSON.
async fn verify_as(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    image: &str,
) -> serde_json::Value {
    http.post(format!("{url}/v1/verify"))
        .bearer_auth(token)
        .json(&json!({"image": image}))
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("json")
}
