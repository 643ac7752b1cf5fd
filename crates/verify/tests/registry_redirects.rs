//! Redirects from registries (blob downloads sent to storage elsewhere): followed, with
//! credentials kept to the registry that asked for them, and bounded.

#[path = "support/fake_registry.rs"]
mod fake_registry;

use std::time::Duration;

use fake_registry::{FakeRegistry, Reply};
use signet_verify::digest::sha256_digest;
use signet_verify::registry::{Credentials, RegistryClient, RegistryConfig, Transport};

const PAYLOAD: &[u8] = b"a payload kept in storage elsewhere";

fn client(host: &str) -> RegistryClient {
    let mut config = RegistryConfig {
        default_transport: Transport::Http,
        request_timeout: Duration::from_secs(5),
        max_retries: 0,
        ..RegistryConfig::default()
    };
    config.credentials.insert(
        host.to_owned(),
        Credentials::Bearer("registry-token".into()),
    );
    RegistryClient::new(config).expect("registry client")
}

/// Answers a request without the registry token with a bearer challenge, as registries do.
fn challenge(server: &str) -> Reply {
    Reply::status(401).header(
        "www-authenticate",
        format!(r#"Bearer realm="http://{server}/token""#),
    )
}

#[tokio::test]
async fn a_blob_redirected_on_the_same_registry_is_read_with_its_credentials() {
    let fake = FakeRegistry::start(|req| {
        if req.header("authorization") != Some("Bearer registry-token") {
            challenge(&req.server)
        } else if req.path().starts_with("/v2/") {
            Reply::status(307).header("location", "/storage/blob?sig=1")
        } else {
            Reply::ok(PAYLOAD)
        }
    })
    .await;
    let digest = sha256_digest(PAYLOAD);
    let bytes = client(&fake.host())
        .blob(&fake.host(), "app", &digest)
        .await
        .expect("blob through the redirect");
    assert_eq!(&bytes[..], PAYLOAD);
    assert_eq!(fake.count("/storage/blob"), 1);
}

#[tokio::test]
async fn a_redirect_elsewhere_gets_no_registry_credentials() {
    let storage = FakeRegistry::start(|_| Reply::ok(PAYLOAD)).await;
    let location = format!("http://{}/bucket/blob", storage.host());
    let registry = FakeRegistry::start(move |req| {
        if req.header("authorization") != Some("Bearer registry-token") {
            challenge(&req.server)
        } else {
            Reply::status(302).header("location", location.clone())
        }
    })
    .await;
    let digest = sha256_digest(PAYLOAD);
    let bytes = client(&registry.host())
        .blob(&registry.host(), "app", &digest)
        .await
        .expect("blob from storage");
    assert_eq!(&bytes[..], PAYLOAD);
    let seen = storage.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path(), "/bucket/blob");
    assert_eq!(
        seen[0].header("authorization"),
        None,
        "token sent elsewhere"
    );
}

#[tokio::test]
async fn endless_redirects_are_an_error() {
    let fake = FakeRegistry::start(|req| {
        if req.header("authorization") != Some("Bearer registry-token") {
            challenge(&req.server)
        } else {
            Reply::status(307).header("location", "/v2/app/blobs/again")
        }
    })
    .await;
    let err = client(&fake.host())
        .blob(&fake.host(), "app", &sha256_digest(PAYLOAD))
        .await
        .expect_err("endless redirects");
    assert!(err.to_string().contains("redirect"), "{err}");
    assert!(
        fake.requests().len() <= 6,
        "{} requests",
        fake.requests().len()
    );
}
