//! The registry client against the real CNCF Distribution registry (`docker-registry`,
//! started by `signet-testkit`): plain HTTP, TLS with a test CA, htpasswd basic auth,
//! pushes, missing tags, a registry that went away.

use std::time::{Duration, Instant};

use bytes::Bytes;
use signet_testkit::{push_random_image, Registry, RegistryOptions};
use signet_verify::digest::sha256_digest;
use signet_verify::registry::{Credentials, RegistryClient, RegistryConfig, Transport};
use signet_verify::Error;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn config(transport: Transport) -> RegistryConfig {
    RegistryConfig {
        default_transport: transport,
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        max_retries: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
        ..RegistryConfig::default()
    }
}

fn client(config: RegistryConfig) -> RegistryClient {
    RegistryClient::new(config).expect("registry client")
}

async fn start(opts: RegistryOptions) -> Registry {
    Registry::start_with(opts)
        .await
        .expect("docker-registry (scripts/install-test-tools.sh)")
}

/// The config blob digest named by an image manifest.
fn config_digest(manifest: &[u8]) -> String {
    let json: serde_json::Value = serde_json::from_slice(manifest).expect("manifest JSON");
    json["config"]["digest"]
        .as_str()
        .expect("config digest")
        .to_owned()
}

fn expect_registry_error(err: Error, host: &str) -> String {
    match err {
        Error::Registry { registry, reason } => {
            assert_eq!(registry, host);
            reason
        }
        other => panic!("expected Error::Registry, got {other:?}"),
    }
}

#[tokio::test]
async fn resolves_a_tag_to_the_pushed_digest_and_fetches_by_digest() {
    let registry = start(RegistryOptions::default()).await;
    let host = registry.host();
    let digest = push_random_image(&registry, "app", "v1")
        .await
        .expect("push image");
    let client = client(config(Transport::Http));

    assert_eq!(
        client
            .resolve_digest(&host, "app", "v1")
            .await
            .expect("resolve"),
        digest
    );
    // Resolution is a HEAD: the registry's Docker-Content-Digest, no manifest download.
    let ours: Vec<_> = registry
        .requests()
        .into_iter()
        .filter(|r| r.user_agent.starts_with("signet/"))
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect();
    assert_eq!(ours, ["HEAD /v2/app/manifests/v1 200"]);

    let manifest = client
        .manifest(&host, "app", &digest)
        .await
        .expect("manifest by digest")
        .expect("present");
    assert_eq!(manifest.digest, digest);
    assert_eq!(sha256_digest(&manifest.bytes), digest);
    assert_eq!(manifest.media_type, OCI_MANIFEST);

    let by_tag = client
        .manifest(&host, "app", "v1")
        .await
        .expect("manifest by tag")
        .expect("present");
    assert_eq!(by_tag.bytes, manifest.bytes);

    let config_digest = config_digest(&manifest.bytes);
    let config = client
        .blob(&host, "app", &config_digest)
        .await
        .expect("config blob");
    assert_eq!(sha256_digest(&config), config_digest);
    let config: serde_json::Value = serde_json::from_slice(&config).expect("config JSON");
    assert_eq!(config["os"], "linux");
}

#[tokio::test]
async fn a_missing_tag_is_not_found() {
    let registry = start(RegistryOptions::default()).await;
    let host = registry.host();
    push_random_image(&registry, "app", "v1")
        .await
        .expect("push image");
    let client = client(config(Transport::Http));

    let err = client
        .resolve_digest(&host, "app", "nope")
        .await
        .expect_err("no such tag");
    match &err {
        Error::NotFound(what) => assert!(what.contains(&format!("{host}/app:nope")), "{what}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    // Reading a missing manifest (how absent signatures look) is `None`, not an error.
    let sig = format!("sha256-{}.sig", "0".repeat(64));
    assert!(client
        .manifest(&host, "app", &sig)
        .await
        .expect("absent is fine")
        .is_none());
    // A missing blob is an error naming the registry and the blob.
    let missing = sha256_digest(b"never pushed");
    let reason = expect_registry_error(
        client
            .blob(&host, "app", &missing)
            .await
            .expect_err("missing blob"),
        &host,
    );
    assert!(
        reason.contains(&missing) && reason.contains("HTTP 404"),
        "{reason}"
    );
}

#[tokio::test]
async fn tls_with_the_test_ca_verifies_and_without_it_fails() {
    let registry = start(RegistryOptions::tls()).await;
    let host = registry.host();
    let digest = push_random_image(&registry, "app", "v1")
        .await
        .expect("push image");
    let ca = std::fs::read(registry.ca_cert_pem_path().expect("test CA")).expect("read CA");

    let mut trusted = config(Transport::Https);
    trusted.ca_certificates_pem = vec![ca];
    assert_eq!(
        client(trusted)
            .resolve_digest(&host, "app", "v1")
            .await
            .expect("resolve over verified TLS"),
        digest
    );

    // Without the CA: a certificate error, at once. Were it retried, the 1 s backoffs
    // would make it take 2 s.
    let mut untrusting = config(Transport::Https);
    untrusting.initial_backoff = Duration::from_secs(1);
    untrusting.max_backoff = Duration::from_secs(1);
    let started = Instant::now();
    let err = client(untrusting)
        .resolve_digest(&host, "app", "v1")
        .await
        .expect_err("unknown CA");
    let elapsed = started.elapsed();
    let reason = expect_registry_error(err, &host);
    assert!(reason.contains("TLS handshake failed"), "{reason}");
    assert!(reason.contains("certificate"), "{reason}");
    assert!(
        elapsed < Duration::from_secs(1),
        "a TLS failure was retried: {elapsed:?}"
    );

    assert_eq!(
        client(config(Transport::HttpsUnverified))
            .resolve_digest(&host, "app", "v1")
            .await
            .expect("resolve over unverified TLS"),
        digest
    );
}

#[tokio::test]
async fn https_to_a_plain_http_registry_is_a_tls_error() {
    let registry = start(RegistryOptions::default()).await;
    let host = registry.host();
    let err = client(config(Transport::Https))
        .resolve_digest(&host, "app", "v1")
        .await
        .expect_err("the registry does not speak TLS");
    let reason = expect_registry_error(err, &host);
    assert!(reason.contains("TLS handshake failed"), "{reason}");
}

#[tokio::test]
async fn insecure_transport_falls_back_to_http_or_uses_unverified_tls() {
    let plain = start(RegistryOptions::default()).await;
    let tls = start(RegistryOptions::tls()).await;
    let plain_digest = push_random_image(&plain, "app", "v1")
        .await
        .expect("push image");
    let tls_digest = push_random_image(&tls, "app", "v1")
        .await
        .expect("push image");
    // One client, both hosts: the scheme is probed per host.
    let client = client(config(Transport::Insecure));
    for _ in 0..2 {
        assert_eq!(
            client
                .resolve_digest(&plain.host(), "app", "v1")
                .await
                .expect("plain registry over http"),
            plain_digest
        );
        assert_eq!(
            client
                .resolve_digest(&tls.host(), "app", "v1")
                .await
                .expect("TLS registry over unverified https"),
            tls_digest
        );
    }
    // The plain registry was probed once over HTTPS (not logged: no HTTP request), then
    // reached over HTTP; the resolutions themselves succeeded on both.
    let resolved = |r: &Registry| {
        r.requests()
            .iter()
            .filter(|l| l.user_agent.starts_with("signet/") && l.method == "HEAD")
            .count()
    };
    assert_eq!(resolved(&plain), 2);
    assert_eq!(resolved(&tls), 2);
}

#[tokio::test]
async fn htpasswd_registry_needs_the_credentials() {
    let (user, password) = ("signet", "s3cret-Pa55");
    let registry = start(RegistryOptions::basic_auth(user, password)).await;
    let host = registry.host();
    let digest = push_random_image(&registry, "app", "v1")
        .await
        .expect("push image");

    let err = client(config(Transport::Http))
        .resolve_digest(&host, "app", "v1")
        .await
        .expect_err("anonymous");
    match &err {
        Error::Unauthorized { registry, reason } => {
            assert_eq!(registry, &host);
            assert!(reason.contains("none are configured"), "{reason}");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }

    let mut wrong = config(Transport::Http);
    wrong.credentials.insert(
        host.clone(),
        Credentials::Basic {
            username: user.into(),
            password: "wrong-Pa55".into(),
        },
    );
    let err = client(wrong)
        .resolve_digest(&host, "app", "v1")
        .await
        .expect_err("wrong password");
    match &err {
        Error::Unauthorized { registry, reason } => {
            assert_eq!(registry, &host);
            assert!(reason.contains("refused"), "{reason}");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("wrong-Pa55"), "{shown}");

    let mut right = config(Transport::Http);
    right.credentials.insert(
        host.clone(),
        Credentials::Basic {
            username: user.into(),
            password: password.into(),
        },
    );
    let client = client(right);
    assert_eq!(
        client
            .resolve_digest(&host, "app", "v1")
            .await
            .expect("authorized"),
        digest
    );
    // Pushing with the same credentials works too (push scope, same Basic challenge).
    let blob = Bytes::from(format!("pushed by signet {digest}"));
    let blob_digest = client
        .push_blob(&host, "app", blob.clone())
        .await
        .expect("authorized push");
    assert_eq!(
        client
            .blob(&host, "app", &blob_digest)
            .await
            .expect("read back"),
        blob
    );
    let debug = format!("{client:?}");
    assert!(!debug.contains(password), "{debug}");
}

#[tokio::test]
async fn pushed_blobs_and_manifest_read_back() {
    let registry = start(RegistryOptions::default()).await;
    let host = registry.host();
    let client = client(config(Transport::Http));

    let config_blob = Bytes::from(format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"nonce":"{}"}}"#,
        registry.port()
    ));
    let layer = Bytes::from(vec![7u8; 3000]);
    let config_digest = client
        .push_blob(&host, "pushed", config_blob.clone())
        .await
        .expect("push config");
    let layer_digest = client
        .push_blob(&host, "pushed", layer.clone())
        .await
        .expect("push layer");
    assert_eq!(config_digest, sha256_digest(&config_blob));
    assert_eq!(layer_digest, sha256_digest(&layer));

    let manifest = Bytes::from(
        serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": config_digest, "size": config_blob.len() },
            "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar",
                         "digest": layer_digest, "size": layer.len() }],
        })
        .to_string(),
    );
    let manifest_digest = client
        .push_manifest(&host, "pushed", "v1", OCI_MANIFEST, manifest.clone())
        .await
        .expect("push manifest");
    assert_eq!(manifest_digest, sha256_digest(&manifest));

    // Read back through the client…
    assert_eq!(
        client
            .resolve_digest(&host, "pushed", "v1")
            .await
            .expect("resolve"),
        manifest_digest
    );
    let got = client
        .manifest(&host, "pushed", "v1")
        .await
        .expect("manifest")
        .expect("present");
    assert_eq!(got.bytes, manifest);
    assert_eq!(got.media_type, OCI_MANIFEST);
    assert_eq!(
        client
            .blob(&host, "pushed", &layer_digest)
            .await
            .expect("layer"),
        layer
    );
    // …and independently of it, with the testkit's plain HTTP client.
    let raw = registry
        .http_client()
        .expect("http client")
        .get(format!(
            "{}/v2/pushed/blobs/{config_digest}",
            registry.base_url()
        ))
        .send()
        .await
        .expect("GET config blob")
        .bytes()
        .await
        .expect("body");
    assert_eq!(raw, config_blob);

    // Pushing a blob the registry has is a HEAD and nothing more.
    let uploads = |r: &Registry| {
        r.requests()
            .iter()
            .filter(|l| l.method == "POST" && l.path == "/v2/pushed/blobs/uploads/")
            .count()
    };
    assert_eq!(uploads(&registry), 2);
    client
        .push_blob(&host, "pushed", layer.clone())
        .await
        .expect("push again");
    assert_eq!(
        uploads(&registry),
        2,
        "an existing blob is not uploaded again"
    );
}

#[tokio::test]
async fn a_stopped_registry_is_unreachable() {
    let mut registry = start(RegistryOptions::default()).await;
    let host = registry.host();
    push_random_image(&registry, "app", "v1")
        .await
        .expect("push image");
    let client = client(config(Transport::Http));
    client
        .resolve_digest(&host, "app", "v1")
        .await
        .expect("resolve while running");

    registry.stop();
    let err = client
        .resolve_digest(&host, "app", "v1")
        .await
        .expect_err("registry stopped");
    let reason = expect_registry_error(err, &host);
    assert!(reason.contains("unreachable after 2 retries"), "{reason}");
}
