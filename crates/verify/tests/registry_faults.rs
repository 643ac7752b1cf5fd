//! The registry client against registries that misbehave: lying digests, endless bodies,
//! silence, rate limits, flaky gateways, token services, broken uploads.
//!
//! The real Distribution registry cannot be made to misbehave, so these tests use a
//! hand-rolled HTTP/1.1 fake (`support/fake_registry.rs`); everything a well-behaved
//! registry does is tested against the real one in `registry_real.rs`.

#[path = "support/fake_registry.rs"]
mod fake_registry;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use fake_registry::{Body, FakeRegistry, Reply, Seen};
use signet_verify::digest::sha256_digest;
use signet_verify::registry::{Credentials, RegistryClient, RegistryConfig, Transport};
use signet_verify::Error;

const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const MANIFEST: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
const TIMEOUT: Duration = Duration::from_millis(600);
const MANIFEST_LIMIT: usize = 64 * 1024;
const BLOB_LIMIT: usize = 128 * 1024;

/// Plain HTTP, a short timeout, millisecond backoffs and small limits.
fn config(max_retries: u32) -> RegistryConfig {
    RegistryConfig {
        default_transport: Transport::Http,
        request_timeout: TIMEOUT,
        connect_timeout: Duration::from_millis(500),
        max_retries,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        max_manifest_bytes: MANIFEST_LIMIT,
        max_blob_bytes: BLOB_LIMIT,
        ..RegistryConfig::default()
    }
}

fn client(config: RegistryConfig) -> RegistryClient {
    RegistryClient::new(config).expect("registry client")
}

fn with_credentials(mut config: RegistryConfig, host: &str, creds: Credentials) -> RegistryConfig {
    config.credentials.insert(host.to_owned(), creds);
    config
}

fn basic(user: &str, password: &str) -> Credentials {
    Credentials::Basic {
        username: user.to_owned(),
        password: password.to_owned(),
    }
}

fn manifest_reply() -> Reply {
    Reply::ok(MANIFEST).header("content-type", MANIFEST_TYPE)
}

/// A handler that answers the n-th request (0-based, counted over all paths) with
/// `replies[n]`, and the last one forever after.
fn in_turn(replies: Vec<Reply>) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    let n = AtomicUsize::new(0);
    move |_| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        replies[i.min(replies.len() - 1)].clone()
    }
}

/// Asserts that neither Display nor Debug of `err` contains any of `secrets`.
fn assert_no_secret(err: &Error, secrets: &[&str]) {
    let shown = format!("{err} {err:?}");
    for secret in secrets {
        assert!(!shown.contains(secret), "{secret:?} leaked into {shown}");
    }
}

// ---- digests -------------------------------------------------------------------------

/// The client keeps HTTP/1 connections idle in a pool, driven by nobody until a request
/// takes one; one the registry closed meanwhile must be noticed and replaced, not sent on.
#[tokio::test]
async fn a_pooled_connection_the_registry_closed_is_replaced() {
    let digest = sha256_digest(MANIFEST);
    let header = digest.clone();
    let fake = FakeRegistry::start(move |_| {
        manifest_reply()
            .header("docker-content-digest", &header)
            .then_close()
    })
    .await;
    let c = client(config(0));
    for round in 0..3 {
        let found = c
            .resolve_digest(&fake.host(), "app", "v1")
            .await
            .unwrap_or_else(|e| panic!("request {round}: {e}"));
        assert_eq!(found, digest, "request {round}");
        // Let the close reach this side before the next request takes the connection.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.count("/v2/app/manifests/v1"), 3);
}

#[tokio::test]
async fn manifest_by_digest_whose_bytes_hash_elsewhere_is_a_digest_mismatch() {
    let fake = FakeRegistry::start(|_| manifest_reply()).await;
    let asked = sha256_digest(b"some other manifest");
    let err = client(config(0))
        .manifest(&fake.host(), "app", &asked)
        .await
        .expect_err("bytes that hash to another digest");
    match &err {
        Error::DigestMismatch {
            what,
            expected,
            actual,
        } => {
            assert_eq!(expected, &asked);
            assert_eq!(actual, &sha256_digest(MANIFEST));
            assert!(
                what.contains(&format!("{}/app@{asked}", fake.host())),
                "{what}"
            );
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    assert!(err.to_string().contains(&fake.host()), "{err}");
}

#[tokio::test]
async fn manifest_by_tag_with_a_lying_docker_content_digest_is_a_digest_mismatch() {
    let lie = sha256_digest(b"what the registry claims");
    let fake = {
        let lie = lie.clone();
        FakeRegistry::start(move |_| manifest_reply().header("docker-content-digest", &lie)).await
    };
    let err = client(config(0))
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect_err("claimed digest does not match the bytes");
    match &err {
        Error::DigestMismatch {
            what,
            expected,
            actual,
        } => {
            assert_eq!(expected, &lie);
            assert_eq!(actual, &sha256_digest(MANIFEST));
            assert!(what.contains(&format!("{}/app:v1", fake.host())), "{what}");
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn manifest_by_tag_with_a_true_digest_header_is_accepted() {
    let fake = FakeRegistry::start(|_| {
        manifest_reply().header("docker-content-digest", sha256_digest(MANIFEST))
    })
    .await;
    let manifest = client(config(0))
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect("manifest")
        .expect("present");
    assert_eq!(manifest.digest, sha256_digest(MANIFEST));
    assert_eq!(manifest.media_type, MANIFEST_TYPE);
    assert_eq!(&manifest.bytes[..], MANIFEST);
    let seen = fake.requests();
    let accept = seen[0].header("accept").expect("Accept header");
    assert!(accept.contains(MANIFEST_TYPE), "{accept}");
}

#[tokio::test]
async fn blob_whose_bytes_hash_elsewhere_is_a_digest_mismatch() {
    let fake = FakeRegistry::start(|_| Reply::ok(&b"tampered payload"[..])).await;
    let asked = sha256_digest(b"original payload");
    let err = client(config(0))
        .blob(&fake.host(), "app", &asked)
        .await
        .expect_err("tampered blob");
    match &err {
        Error::DigestMismatch {
            what,
            expected,
            actual,
        } => {
            assert_eq!(expected, &asked);
            assert_eq!(actual, &sha256_digest(b"tampered payload"));
            assert!(
                what.contains(&format!("blob {}/app@{asked}", fake.host())),
                "{what}"
            );
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
}

// ---- size limits ---------------------------------------------------------------------

#[tokio::test]
async fn manifest_with_content_length_above_the_limit_is_too_large_and_not_read() {
    let total = 64 * 1024 * 1024;
    let fake = FakeRegistry::start(move |_| {
        Reply::status(200)
            .header("content-type", MANIFEST_TYPE)
            .with_body(Body::Declared { total })
    })
    .await;
    let err = client(config(0))
        .manifest(&fake.host(), "app", "big")
        .await
        .expect_err("oversized manifest");
    match &err {
        Error::TooLarge { what, limit } => {
            assert_eq!(*limit, MANIFEST_LIMIT);
            assert!(
                what.contains(&format!("manifest {}/app:big", fake.host())),
                "{what}"
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // The client hung up: the fake could not write the 64 MiB it announced.
    let end = fake.stream_end(Duration::from_secs(2)).await;
    assert!(!end.completed, "client read the whole body: {end:?}");
    assert!(end.written < total, "{end:?}");
}

#[tokio::test]
async fn chunked_manifest_without_length_above_the_limit_is_too_large_and_cut_off() {
    let total = 64 * 1024 * 1024;
    let fake = FakeRegistry::start(move |_| {
        Reply::status(200)
            .header("content-type", MANIFEST_TYPE)
            .with_body(Body::Chunked { total })
    })
    .await;
    let err = client(config(0))
        .manifest(&fake.host(), "app", "big")
        .await
        .expect_err("oversized chunked manifest");
    match &err {
        Error::TooLarge { what, limit } => {
            assert_eq!(*limit, MANIFEST_LIMIT);
            assert!(
                what.contains(&format!("manifest {}/app:big", fake.host())),
                "{what}"
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(
        err.to_string().contains("exceeds the limit of 65536 bytes"),
        "{err}"
    );
    let end = fake.stream_end(Duration::from_secs(2)).await;
    assert!(!end.completed, "client read the whole body: {end:?}");
    assert!(end.written < total, "{end:?}");
}

#[tokio::test]
async fn chunked_manifest_of_exactly_the_limit_is_read() {
    // The boundary: exactly the limit is fine (so the cut-off above is the limit, not
    // chunked encoding).
    let fake = FakeRegistry::start(|_| {
        Reply::status(200).with_body(Body::Chunked {
            total: MANIFEST_LIMIT as u64,
        })
    })
    .await;
    let manifest = client(config(0))
        .manifest(&fake.host(), "app", "edge")
        .await
        .expect("a manifest of exactly the limit")
        .expect("present");
    assert_eq!(manifest.bytes.len(), MANIFEST_LIMIT);
}

#[tokio::test]
async fn oversized_blob_is_too_large() {
    let fake = FakeRegistry::start(|_| {
        Reply::status(200).with_body(Body::Chunked {
            total: 16 * 1024 * 1024,
        })
    })
    .await;
    let digest = sha256_digest(b"whatever");
    let err = client(config(0))
        .blob(&fake.host(), "app", &digest)
        .await
        .expect_err("oversized blob");
    match &err {
        Error::TooLarge { what, limit } => {
            assert_eq!(*limit, BLOB_LIMIT);
            assert!(
                what.contains(&format!("blob {}/app@{digest}", fake.host())),
                "{what}"
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(!fake.stream_end(Duration::from_secs(2)).await.completed);
}

// ---- timeouts ------------------------------------------------------------------------

#[tokio::test]
async fn a_registry_that_never_answers_times_out() {
    let fake = FakeRegistry::start(|_| Reply::hang()).await;
    let started = Instant::now();
    let err = client(config(3))
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect_err("silence");
    let elapsed = started.elapsed();
    match &err {
        Error::Timeout { registry, .. } => assert_eq!(registry, &fake.host()),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(
        elapsed >= TIMEOUT,
        "gave up before the timeout: {elapsed:?}"
    );
    assert!(elapsed < 3 * TIMEOUT, "no effective timeout: {elapsed:?}");
    assert_eq!(
        fake.count("/v2/app/manifests/v1"),
        1,
        "a timeout is not retried"
    );
}

#[tokio::test]
async fn a_body_that_stalls_midway_times_out() {
    let fake = FakeRegistry::start(|_| {
        Reply::status(200).with_body(Body::Stall {
            total: 1000,
            sent: b"{\"schemaVersion\":".to_vec(),
        })
    })
    .await;
    let started = Instant::now();
    let err = client(config(0))
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect_err("stalled body");
    let elapsed = started.elapsed();
    match &err {
        Error::Timeout { registry, .. } => assert_eq!(registry, &fake.host()),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(elapsed < 3 * TIMEOUT, "no effective timeout: {elapsed:?}");
}

// ---- retries -------------------------------------------------------------------------

#[tokio::test]
async fn retry_after_seconds_is_honoured_up_to_max_backoff() {
    let fake = FakeRegistry::start(in_turn(vec![
        Reply::status(429).header("retry-after", "1"),
        Reply::status(429).header("retry-after", "1"),
        manifest_reply(),
    ]))
    .await;
    let mut cfg = config(3);
    // The registry asks for 1 s twice; the config caps each wait at 600 ms.
    cfg.max_backoff = Duration::from_millis(600);
    let started = Instant::now();
    let manifest = client(cfg)
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect("success on the third request")
        .expect("present");
    let elapsed = started.elapsed();
    assert_eq!(manifest.digest, sha256_digest(MANIFEST));
    assert_eq!(fake.count("/v2/app/manifests/v1"), 3);
    // Exponential backoff alone would have waited 5 + 10 ms.
    assert!(
        elapsed >= Duration::from_millis(1200),
        "Retry-After ignored: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(1950),
        "max_backoff ignored: {elapsed:?}"
    );
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    // An HTTP date has whole seconds: three seconds ahead is at least two from now.
    let fake = FakeRegistry::start(in_turn(vec![
        Reply::status(503).header(
            "retry-after",
            (chrono::Utc::now() + chrono::Duration::seconds(3))
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        ),
        manifest_reply(),
    ]))
    .await;
    let mut cfg = config(3);
    cfg.max_backoff = Duration::from_millis(700);
    let started = Instant::now();
    client(cfg)
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect("success after one retry")
        .expect("present");
    let elapsed = started.elapsed();
    assert_eq!(fake.count("/v2/app/manifests/v1"), 2);
    assert!(
        elapsed >= Duration::from_millis(650),
        "date not honoured: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(1500),
        "max_backoff ignored: {elapsed:?}"
    );
}

#[tokio::test]
async fn retry_after_in_the_past_retries_at_once() {
    let fake = FakeRegistry::start(in_turn(vec![
        Reply::status(429).header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
        manifest_reply(),
    ]))
    .await;
    let mut cfg = config(3);
    cfg.max_backoff = Duration::from_secs(2);
    cfg.initial_backoff = Duration::from_secs(2);
    let started = Instant::now();
    client(cfg)
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect("success after one retry")
        .expect("present");
    assert_eq!(fake.count("/v2/app/manifests/v1"), 2);
    // A parsed past date means no wait; an unparsed one would fall back to the 2 s backoff.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn endless_429_gives_up_after_max_retries() {
    let fake = FakeRegistry::start(|_| Reply::status(429).header("retry-after", "0")).await;
    let err = client(config(3))
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect_err("rate limited forever");
    match &err {
        Error::Registry { registry, reason } => {
            assert_eq!(registry, &fake.host());
            assert!(reason.contains("HTTP 429 after 3 retries"), "{reason}");
        }
        other => panic!("expected Registry, got {other:?}"),
    }
    assert_eq!(
        fake.count("/v2/app/manifests/v1"),
        4,
        "max_retries + 1 requests"
    );
}

#[tokio::test]
async fn gateway_errors_are_retried_with_exponential_backoff() {
    let fake = FakeRegistry::start(in_turn(vec![
        Reply::status(503),
        Reply::status(502),
        Reply::status(504),
        manifest_reply(),
    ]))
    .await;
    let mut cfg = config(3);
    cfg.initial_backoff = Duration::from_millis(40);
    cfg.max_backoff = Duration::from_secs(1);
    let started = Instant::now();
    let manifest = client(cfg)
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect("success on the fourth request")
        .expect("present");
    assert_eq!(manifest.digest, sha256_digest(MANIFEST));
    assert_eq!(fake.count("/v2/app/manifests/v1"), 4);
    // 40 + 80 + 160 ms: the backoff doubles.
    assert!(
        started.elapsed() >= Duration::from_millis(280),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn endless_503_and_502_give_up_after_max_retries() {
    for status in [503u16, 502] {
        let fake = FakeRegistry::start(move |_| Reply::status(status)).await;
        let err = client(config(2))
            .manifest(&fake.host(), "app", "v1")
            .await
            .expect_err("failing forever");
        match &err {
            Error::Registry { registry, reason } => {
                assert_eq!(registry, &fake.host());
                assert!(
                    reason.contains(&format!("HTTP {status} after 2 retries")),
                    "{reason}"
                );
            }
            other => panic!("expected Registry, got {other:?}"),
        }
        assert_eq!(fake.count("/v2/app/manifests/v1"), 3, "HTTP {status}");
    }
}

#[tokio::test]
async fn missing_manifest_is_none_without_retry() {
    let fake = FakeRegistry::start(|_| Reply::status(404)).await;
    let found = client(config(3))
        .manifest(&fake.host(), "app", "sha256-abc.sig")
        .await
        .expect("404 is not an error");
    assert!(found.is_none());
    assert_eq!(fake.count("/v2/app/manifests/sha256-abc.sig"), 1);
}

#[tokio::test]
async fn server_error_is_not_retried() {
    let fake = FakeRegistry::start(|_| Reply::status(500)).await;
    let err = client(config(3))
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect_err("HTTP 500");
    match &err {
        Error::Registry { registry, reason } => {
            assert_eq!(registry, &fake.host());
            assert!(reason.contains("HTTP 500"), "{reason}");
        }
        other => panic!("expected Registry, got {other:?}"),
    }
    assert_eq!(fake.count("/v2/app/manifests/v1"), 1, "500 is not retried");
}

#[tokio::test]
async fn connection_refused_is_unreachable_after_the_retries() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let host = format!("127.0.0.1:{port}");
    let mut cfg = config(2);
    cfg.initial_backoff = Duration::from_millis(50);
    cfg.max_backoff = Duration::from_secs(1);
    let started = Instant::now();
    let err = client(cfg)
        .manifest(&host, "app", "v1")
        .await
        .expect_err("nobody listens");
    match &err {
        Error::Registry { registry, reason } => {
            assert_eq!(registry, &host);
            assert!(reason.contains("unreachable after 2 retries"), "{reason}");
        }
        other => panic!("expected Registry, got {other:?}"),
    }
    // Two backoffs of 50 and 100 ms prove the retries happened.
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_retried() {
    let fake = FakeRegistry::start(in_turn(vec![
        Reply::close(),
        Reply::close(),
        manifest_reply(),
    ]))
    .await;
    let manifest = client(config(3))
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect("success on the third request")
        .expect("present");
    assert_eq!(manifest.digest, sha256_digest(MANIFEST));
    assert_eq!(fake.count("/v2/app/manifests/v1"), 3);
}

#[tokio::test]
async fn connections_closed_forever_give_up_after_max_retries() {
    let fake = FakeRegistry::start(|_| Reply::close()).await;
    let err = client(config(2))
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect_err("never an answer");
    match &err {
        Error::Registry { registry, reason } => {
            assert_eq!(registry, &fake.host());
            assert!(reason.contains("unreachable after 2 retries"), "{reason}");
        }
        other => panic!("expected Registry, got {other:?}"),
    }
    assert_eq!(
        fake.count("/v2/app/manifests/v1"),
        3,
        "max_retries + 1 requests"
    );
}

#[tokio::test]
async fn a_post_closed_without_an_answer_is_not_repeated() {
    let fake = FakeRegistry::start(|req| match req.method.as_str() {
        "HEAD" => Reply::status(404),
        _ => Reply::close(),
    })
    .await;
    let err = client(config(3))
        .push_blob(&fake.host(), "app", Bytes::from_static(b"x"))
        .await
        .expect_err("upload never started");
    assert!(
        matches!(&err, Error::Registry { registry, .. } if *registry == fake.host()),
        "{err:?}"
    );
    assert_eq!(
        fake.count("/v2/app/blobs/uploads/"),
        1,
        "POST is not idempotent"
    );
}

// ---- authentication ------------------------------------------------------------------

const USER: &str = "robot";
const PASSWORD: &str = "pa55-w0rd-never-shown";
const TOKEN: &str = "t1";

/// A registry behind a token service on the same fake: the token needs `USER:PASSWORD`.
fn bearer_registry(token: &'static str) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |req| {
        if req.path() == "/token" {
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
            );
            let scoped = req.param("service").as_deref() == Some("fake")
                && req.param("scope").as_deref() == Some("repository:app:pull");
            return if req.header("authorization") == Some(expected.as_str()) && scoped {
                Reply::ok(format!(r#"{{"token":"{token}","expires_in":300}}"#))
                    .header("content-type", "application/json")
            } else {
                Reply::status(401)
            };
        }
        if req.header("authorization") == Some(format!("Bearer {TOKEN}").as_str()) {
            return manifest_reply();
        }
        Reply::status(401).header(
            "www-authenticate",
            format!(
                r#"Bearer realm="http://{}/token",service="fake",scope="repository:app:pull""#,
                req.server
            ),
        )
    }
}

#[tokio::test]
async fn bearer_token_from_the_realm_is_used_and_cached() {
    let fake = FakeRegistry::start(bearer_registry(TOKEN)).await;
    let client = client(with_credentials(
        config(0),
        &fake.host(),
        basic(USER, PASSWORD),
    ));
    for _ in 0..2 {
        let manifest = client
            .manifest(&fake.host(), "app", "v1")
            .await
            .expect("authorized")
            .expect("present");
        assert_eq!(manifest.digest, sha256_digest(MANIFEST));
    }
    let seen = fake.requests();
    assert_eq!(fake.count("/token"), 1, "the token is cached: {seen:#?}");
    // 401, then with the token, then straight with the cached token.
    let manifests: Vec<_> = seen
        .iter()
        .filter(|r| r.path() == "/v2/app/manifests/v1")
        .collect();
    assert_eq!(manifests.len(), 3, "{seen:#?}");
    assert_eq!(manifests[0].header("authorization"), None);
    for r in &manifests[1..] {
        assert_eq!(r.header("authorization"), Some("Bearer t1"));
    }
    // Neither the token nor the password shows in the client's Debug output.
    let debug = format!("{client:?}");
    assert!(!debug.contains("Bearer t1"), "{debug}");
    assert!(!debug.contains(PASSWORD), "{debug}");
}

#[tokio::test]
async fn wrong_credentials_for_the_token_service_are_unauthorized() {
    let fake = FakeRegistry::start(bearer_registry(TOKEN)).await;
    let wrong = "not-the-password-either";
    let err = client(with_credentials(
        config(2),
        &fake.host(),
        basic(USER, wrong),
    ))
    .manifest(&fake.host(), "app", "v1")
    .await
    .expect_err("wrong password");
    match &err {
        Error::Unauthorized { registry, reason } => {
            assert_eq!(registry, &fake.host());
            assert!(
                reason.contains("token service answered HTTP 401"),
                "{reason}"
            );
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert_no_secret(&err, &[wrong, PASSWORD]);
    assert_eq!(fake.count("/token"), 1, "auth failures are not retried");
}

#[tokio::test]
async fn basic_challenge_without_credentials_is_unauthorized() {
    let fake = FakeRegistry::start(|_| {
        Reply::status(401).header("www-authenticate", r#"Basic realm="fake""#)
    })
    .await;
    let err = client(config(2))
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect_err("credentials required");
    match &err {
        Error::Unauthorized { registry, reason } => {
            assert_eq!(registry, &fake.host());
            assert!(
                reason.contains("requires credentials and none are configured"),
                "{reason}"
            );
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert!(err.to_string().contains(&fake.host()), "{err}");
    assert_eq!(fake.count("/v2/app/manifests/v1"), 1);
}

#[tokio::test]
async fn basic_credentials_are_sent_after_the_challenge_and_refusal_is_unauthorized() {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    );
    let fake = {
        let expected = expected.clone();
        FakeRegistry::start(move |req| {
            if req.header("authorization") == Some(expected.as_str()) {
                manifest_reply()
            } else {
                Reply::status(401).header("www-authenticate", r#"Basic realm="fake""#)
            }
        })
        .await
    };
    let good = client(with_credentials(
        config(0),
        &fake.host(),
        basic(USER, PASSWORD),
    ));
    good.manifest(&fake.host(), "app", "v1")
        .await
        .expect("authorized")
        .expect("present");
    let debug = format!("{good:?}");
    assert!(
        !debug.contains(&expected[6..]),
        "cached Basic value leaked: {debug}"
    );
    assert!(!debug.contains(PASSWORD), "{debug}");

    let wrong = "wrong-pa55";
    let err = client(with_credentials(
        config(0),
        &fake.host(),
        basic(USER, wrong),
    ))
    .manifest(&fake.host(), "app", "v1")
    .await
    .expect_err("refused");
    match &err {
        Error::Unauthorized { registry, reason } => {
            assert_eq!(registry, &fake.host());
            assert!(reason.contains("credentials were refused"), "{reason}");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert_no_secret(&err, &[wrong, PASSWORD]);
}

#[tokio::test]
async fn a_refused_token_never_shows_in_errors() {
    const SECRET_TOKEN: &str = "tok-9f8e7d6c5b4a-SECRET";
    // The token service hands out a token the registry then refuses.
    let fake = FakeRegistry::start(bearer_registry(SECRET_TOKEN)).await;
    let client = client(with_credentials(
        config(0),
        &fake.host(),
        basic(USER, PASSWORD),
    ));
    let err = client
        .manifest(&fake.host(), "app", "v1")
        .await
        .expect_err("token refused");
    match &err {
        Error::Unauthorized { registry, reason } => {
            assert_eq!(registry, &fake.host());
            assert!(reason.contains("credentials were refused"), "{reason}");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    // The client did present the token, so it had it to leak.
    let presented = format!("Bearer {SECRET_TOKEN}");
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.header("authorization") == Some(presented.as_str())));
    assert_no_secret(&err, &[SECRET_TOKEN, PASSWORD]);
    let debug = format!("{client:?}");
    assert!(!debug.contains(SECRET_TOKEN), "{debug}");
    assert!(!debug.contains(PASSWORD), "{debug}");
}

#[tokio::test]
async fn configured_registry_token_is_sent_as_bearer() {
    let fake = FakeRegistry::start(|req| {
        if req.header("authorization") == Some("Bearer static-token") {
            manifest_reply()
        } else {
            Reply::status(401).header(
                "www-authenticate",
                format!(r#"Bearer realm="http://{}/token""#, req.server),
            )
        }
    })
    .await;
    client(with_credentials(
        config(0),
        &fake.host(),
        Credentials::Bearer("static-token".into()),
    ))
    .manifest(&fake.host(), "app", "v1")
    .await
    .expect("authorized")
    .expect("present");
    assert_eq!(
        fake.count("/token"),
        0,
        "a configured token needs no token service"
    );
}

// ---- push ----------------------------------------------------------------------------

/// A registry that takes monolithic uploads: HEAD blob → 404, POST → 202 with a
/// `Location` built by `location(server)`, PUT `<location>&digest=` → 201 when the body
/// hashes to the digest, and PUT manifest → 201. Stores what it got.
fn upload_registry(
    location: fn(&str) -> String,
    stored: Arc<std::sync::Mutex<HashMap<String, Vec<u8>>>>,
) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |req| match (req.method.as_str(), req.path()) {
        ("HEAD", p) if p.starts_with("/v2/app/blobs/sha256:") => {
            let known = stored
                .lock()
                .expect("store")
                .contains_key(p.trim_start_matches("/v2/app/blobs/"));
            Reply::status(if known { 200 } else { 404 })
        }
        ("POST", "/v2/app/blobs/uploads/") => {
            Reply::status(202).header("location", location(&req.server))
        }
        ("PUT", "/v2/app/blobs/uploads/u1") => {
            let Some(digest) = req.param("digest") else {
                return Reply::status(400);
            };
            // The registry's own query must survive next to the digest.
            let state_kept =
                location(&req.server).contains("_state") == req.param("_state").is_some();
            if sha256_digest(&req.body) != digest
                || !state_kept
                || req.header("content-type") != Some("application/octet-stream")
            {
                return Reply::status(400);
            }
            stored
                .lock()
                .expect("store")
                .insert(digest, req.body.clone());
            Reply::status(201)
        }
        ("PUT", "/v2/app/manifests/v1") => {
            if req.header("content-type") != Some(MANIFEST_TYPE) {
                return Reply::status(400);
            }
            let digest = sha256_digest(&req.body);
            stored
                .lock()
                .expect("store")
                .insert(digest.clone(), req.body.clone());
            Reply::status(201).header("docker-content-digest", digest)
        }
        _ => Reply::status(404),
    }
}

async fn push_through(location: fn(&str) -> String) {
    let stored = Arc::new(std::sync::Mutex::new(HashMap::new()));
    let fake = FakeRegistry::start(upload_registry(location, stored.clone())).await;
    let client = client(config(0));
    let blob = Bytes::from_static(b"a layer, or a signature payload");
    let digest = client
        .push_blob(&fake.host(), "app", blob.clone())
        .await
        .unwrap_or_else(|e| panic!("push_blob ({}): {e}; {:#?}", location("H"), fake.requests()));
    assert_eq!(digest, sha256_digest(&blob));
    let manifest_digest = client
        .push_manifest(
            &fake.host(),
            "app",
            "v1",
            MANIFEST_TYPE,
            Bytes::from_static(MANIFEST),
        )
        .await
        .expect("push_manifest");
    assert_eq!(manifest_digest, sha256_digest(MANIFEST));
    let stored = stored.lock().expect("store");
    assert_eq!(stored.get(&digest).map(Vec::as_slice), Some(&blob[..]));
    assert_eq!(
        stored.get(&manifest_digest).map(Vec::as_slice),
        Some(MANIFEST)
    );
    let methods: Vec<_> = fake
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    assert_eq!(
        methods,
        [
            format!("HEAD /v2/app/blobs/{digest}"),
            "POST /v2/app/blobs/uploads/".to_owned(),
            "PUT /v2/app/blobs/uploads/u1".to_owned(),
            "PUT /v2/app/manifests/v1".to_owned(),
        ]
    );
}

#[tokio::test]
async fn push_with_a_relative_location() {
    push_through(|_| "/v2/app/blobs/uploads/u1?_state=abc%3D%3D".to_owned()).await;
}

#[tokio::test]
async fn push_with_an_absolute_location_and_a_query() {
    push_through(|server| format!("http://{server}/v2/app/blobs/uploads/u1?_state=xyz")).await;
}

#[tokio::test]
async fn push_with_an_absolute_location_without_a_query() {
    push_through(|server| format!("http://{server}/v2/app/blobs/uploads/u1")).await;
}

#[tokio::test]
async fn push_blob_skips_a_blob_the_registry_has() {
    let blob = Bytes::from_static(b"already there");
    let stored = Arc::new(std::sync::Mutex::new(HashMap::from([(
        sha256_digest(&blob),
        blob.to_vec(),
    )])));
    let fake = FakeRegistry::start(upload_registry(
        |_| "/v2/app/blobs/uploads/u1".to_owned(),
        stored,
    ))
    .await;
    let digest = client(config(0))
        .push_blob(&fake.host(), "app", blob.clone())
        .await
        .expect("push_blob");
    assert_eq!(digest, sha256_digest(&blob));
    assert_eq!(
        fake.requests().len(),
        1,
        "only the HEAD: {:#?}",
        fake.requests()
    );
}

#[tokio::test]
async fn push_blob_reports_a_failed_upload() {
    let fake = FakeRegistry::start(|req| match req.method.as_str() {
        "HEAD" => Reply::status(404),
        "POST" => Reply::status(202).header("location", "/v2/app/blobs/uploads/u1"),
        _ => Reply::status(400),
    })
    .await;
    let err = client(config(0))
        .push_blob(&fake.host(), "app", Bytes::from_static(b"x"))
        .await
        .expect_err("PUT refused");
    match &err {
        Error::Registry { registry, reason } => {
            assert_eq!(registry, &fake.host());
            assert!(reason.contains("uploading a blob: HTTP 400"), "{reason}");
        }
        other => panic!("expected Registry, got {other:?}"),
    }
}
