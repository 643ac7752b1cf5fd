//! The testkit against the real binaries: docker-registry (plain, TLS, htpasswd) and cosign.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use sha2::{Digest as _, Sha256};
use signet_testkit::{push_random_image, Cosign, Registry, RegistryOptions};

const PASSWORD: &str = "test-password";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

type TestResult = anyhow::Result<()>;

/// GETs a manifest as a client with the registry's CA and credentials.
async fn get_manifest(
    registry: &Registry,
    repository: &str,
    reference: &str,
) -> anyhow::Result<(StatusCode, Vec<u8>, String)> {
    let url = format!(
        "{}/v2/{repository}/manifests/{reference}",
        registry.base_url()
    );
    let response = registry
        .authorize(registry.http_client()?.get(url))
        .header(reqwest::header::ACCEPT, OCI_MANIFEST)
        .send()
        .await?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((status, response.bytes().await?.to_vec(), content_type))
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Pushes an image and checks it comes back, by digest and by tag, byte for byte.
async fn push_and_fetch(registry: &Registry) -> anyhow::Result<String> {
    let digest = push_random_image(registry, "app", "v1").await?;
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );

    let (status, body, content_type) = get_manifest(registry, "app", &digest).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sha256(&body), digest);
    assert_eq!(content_type, OCI_MANIFEST);
    let manifest: serde_json::Value = serde_json::from_slice(&body)?;
    assert_eq!(manifest["mediaType"], OCI_MANIFEST);
    assert_eq!(manifest["layers"].as_array().map(Vec::len), Some(1));

    let (status, by_tag, _) = get_manifest(registry, "app", "v1").await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sha256(&by_tag), digest);

    // Two pushes never give the same image.
    let other = push_random_image(registry, "app", "v2").await?;
    assert_ne!(other, digest);
    Ok(digest)
}

fn write_predicate(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join("predicate.json");
    std::fs::write(
        &path,
        serde_json::to_vec(&serde_json::json!({
            "builder": { "id": "https://ci.example.com/builder" },
            "buildType": "https://example.com/build/v1",
            "invocation": {},
            "materials": [],
        }))?,
    )?;
    Ok(path)
}

/// Signs `image` with a fresh key and checks that cosign verifies it with that key only.
fn sign_and_verify(cosign: &Cosign, registry: &Registry, image: &str) -> TestResult {
    let keys = tempfile::tempdir()?;
    let (key, public) = cosign.generate_key_pair(keys.path(), PASSWORD)?;
    let other_keys = tempfile::tempdir()?;
    let (_, other_public) = cosign.generate_key_pair(other_keys.path(), PASSWORD)?;

    let unsigned = cosign.verify(registry, &public, image, &[])?;
    assert!(!unsigned.status.success(), "an unsigned image verified");

    let signed = cosign.sign(registry, &key, PASSWORD, image, &["-a", "team=signet"])?;
    signet_testkit::ensure_success(&signed, "cosign sign")?;

    let verified = cosign.verify(registry, &public, image, &["-a", "team=signet"])?;
    signet_testkit::ensure_success(&verified, "cosign verify")?;
    let payloads: serde_json::Value = serde_json::from_slice(&verified.stdout)?;
    let digest = image.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        digest
    );
    assert_eq!(payloads[0]["optional"]["team"], "signet");

    let wrong_key = cosign.verify(registry, &other_public, image, &[])?;
    assert!(
        !wrong_key.status.success(),
        "verified with the wrong key: {}",
        String::from_utf8_lossy(&wrong_key.stdout)
    );
    Ok(())
}

#[tokio::test]
async fn plain_registry_serves_pushed_images_and_logs_requests() -> TestResult {
    let registry = Registry::start().await?;
    assert!(registry.host().starts_with("127.0.0.1:"));
    assert!(registry.base_url().starts_with("http://"));
    assert!(registry.ca_cert_pem_path().is_none());
    assert!(registry.docker_config_dir().is_none());

    let digest = push_and_fetch(&registry).await?;

    let put = registry
        .wait_for_request(
            |r| r.method == "PUT" && r.path == "/v2/app/manifests/v1",
            Duration::from_secs(5),
        )
        .await?;
    assert_eq!(put.status, 201);
    let get = registry
        .wait_for_request(
            |r| r.method == "GET" && r.path == format!("/v2/app/manifests/{digest}"),
            Duration::from_secs(5),
        )
        .await?;
    assert_eq!(get.status, 200);
    let requests = registry.requests();
    assert!(requests
        .iter()
        .any(|r| r.method == "POST" && r.path == "/v2/app/blobs/uploads/" && r.status == 202));
    assert!(requests.iter().any(|r| r.method == "PUT"
        && r.path.starts_with("/v2/app/blobs/uploads/")
        && r.query.as_deref().is_some_and(|q| q.contains("digest="))
        && r.status == 201));
    // Readiness probes are not reported.
    assert!(requests.iter().all(|r| r.user_agent == "signet-testkit"));

    let (status, _, _) = get_manifest(&registry, "app", "sha256-nothing.sig").await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    registry
        .wait_for_request(
            |r| r.path == "/v2/app/manifests/sha256-nothing.sig" && r.status == 404,
            Duration::from_secs(5),
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn tls_registry_serves_https_with_the_test_ca() -> TestResult {
    let registry = Registry::start_with(RegistryOptions::tls()).await?;
    assert!(registry.base_url().starts_with("https://127.0.0.1:"));
    let ca = registry
        .ca_cert_pem_path()
        .expect("a TLS registry has a CA");
    assert!(std::fs::read_to_string(ca)?.starts_with("-----BEGIN CERTIFICATE-----"));

    push_and_fetch(&registry).await?;

    // A client that does not trust the test CA is refused.
    let untrusting = reqwest::Client::builder().no_proxy().build()?;
    let refused = untrusting
        .get(format!("{}/v2/", registry.base_url()))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "the test CA was trusted without being added"
    );
    // Plain HTTP to the TLS port gets no registry answer either.
    let plain = registry
        .http_client()?
        .get(format!("http://{}/v2/", registry.host()))
        .send()
        .await?;
    assert_eq!(plain.status(), StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn auth_registry_requires_its_credentials() -> TestResult {
    let registry = Registry::start_with(RegistryOptions::basic_auth("alice", "s3cret")).await?;
    assert_eq!(registry.basic_auth(), Some(("alice", "s3cret")));

    let digest = push_and_fetch(&registry).await?;

    let client = registry.http_client()?;
    let anonymous = client
        .get(format!("{}/v2/app/manifests/{digest}", registry.base_url()))
        .send()
        .await?;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let challenge = anonymous
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(challenge.starts_with("Basic"), "{challenge}");
    let wrong = client
        .get(format!("{}/v2/", registry.base_url()))
        .basic_auth("alice", Some("wrong"))
        .send()
        .await?;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    registry
        .wait_for_request(
            |r| r.path == format!("/v2/app/manifests/{digest}") && r.status == 401,
            Duration::from_secs(5),
        )
        .await?;

    // The Docker config for cosign holds exactly these credentials.
    let config_dir = registry.docker_config_dir().expect("auth registry");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config_dir.join("config.json"))?)?;
    assert_eq!(
        config["auths"][registry.host()]["auth"],
        "YWxpY2U6czNjcmV0" // base64("alice:s3cret")
    );
    Ok(())
}

#[tokio::test]
async fn cosign_signs_and_verifies_on_a_plain_registry() -> TestResult {
    let cosign = Cosign::find()?;
    let registry = Registry::start().await?;
    let digest = push_random_image(&registry, "app", "v1").await?;
    let image = registry.reference("app", &digest);

    sign_and_verify(&cosign, &registry, &image)?;

    // The signature went where the cosign tag scheme puts it.
    let sig_tag = format!("{}.sig", digest.replace(':', "-"));
    let put = registry
        .wait_for_request(
            |r| r.method == "PUT" && r.path == format!("/v2/app/manifests/{sig_tag}"),
            Duration::from_secs(5),
        )
        .await?;
    assert_eq!(put.status, 201);
    let (status, body, _) = get_manifest(&registry, "app", &sig_tag).await?;
    assert_eq!(status, StatusCode::OK);
    let manifest: serde_json::Value = serde_json::from_slice(&body)?;
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    assert!(manifest["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"].is_string());
    Ok(())
}

#[tokio::test]
async fn cosign_attests_and_verifies_attestations() -> TestResult {
    let cosign = Cosign::find()?;
    let registry = Registry::start().await?;
    let digest = push_random_image(&registry, "app", "v1").await?;
    let image = registry.reference("app", &digest);
    let keys = tempfile::tempdir()?;
    let (key, public) = cosign.generate_key_pair(keys.path(), PASSWORD)?;
    let predicate = write_predicate(keys.path())?;

    let attested = cosign.attest(
        &registry,
        &key,
        PASSWORD,
        "slsaprovenance",
        &predicate,
        &image,
    )?;
    signet_testkit::ensure_success(&attested, "cosign attest")?;

    let verified = cosign.verify_attestation(&registry, &public, "slsaprovenance", &image)?;
    signet_testkit::ensure_success(&verified, "cosign verify-attestation")?;
    let envelope: serde_json::Value = serde_json::from_slice(
        verified
            .stdout
            .split(|&b| b == b'\n')
            .next()
            .unwrap_or_default(),
    )?;
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");

    let other_type = cosign.verify_attestation(&registry, &public, "vuln", &image)?;
    assert!(
        !other_type.status.success(),
        "an attestation of another type verified"
    );

    let att_tag = format!("{}.att", digest.replace(':', "-"));
    let (status, body, _) = get_manifest(&registry, "app", &att_tag).await?;
    assert_eq!(status, StatusCode::OK);
    let manifest: serde_json::Value = serde_json::from_slice(&body)?;
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.dsse.envelope.v1+json"
    );
    assert_eq!(
        manifest["layers"][0]["annotations"]["predicateType"],
        "https://slsa.dev/provenance/v0.2"
    );
    Ok(())
}

#[tokio::test]
async fn cosign_signs_and_verifies_on_a_tls_registry() -> TestResult {
    let cosign = Cosign::find()?;
    let registry = Registry::start_with(RegistryOptions::tls()).await?;
    let digest = push_random_image(&registry, "team/app", "v1").await?;
    let image = registry.reference("team/app", &digest);

    sign_and_verify(&cosign, &registry, &image)?;

    // Without the test CA, cosign refuses the registry's certificate.
    let keys = tempfile::tempdir()?;
    let (_, public) = cosign.generate_key_pair(keys.path(), PASSWORD)?;
    let untrusting = cosign
        .command(&registry)
        .env_remove("SSL_CERT_FILE")
        .args(["verify", "--insecure-ignore-tlog", "--key"])
        .arg(&public)
        .arg(&image)
        .output()?;
    assert!(!untrusting.status.success());
    let stderr = String::from_utf8_lossy(&untrusting.stderr);
    // cosign falls back to plain HTTP on a loopback address after the TLS failure and
    // may report either error.
    assert!(
        stderr.contains("certificate signed by unknown authority")
            || stderr.contains("Client sent an HTTP request to an HTTPS server"),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test]
async fn cosign_signs_and_verifies_on_an_auth_registry() -> TestResult {
    let cosign = Cosign::find()?;
    let registry = Registry::start_with(RegistryOptions::basic_auth("bob", "hunter2")).await?;
    let digest = push_random_image(&registry, "app", "v1").await?;
    let image = registry.reference("app", &digest);

    sign_and_verify(&cosign, &registry, &image)?;

    // Without the credentials, cosign is turned away.
    let keys = tempfile::tempdir()?;
    let (_, public) = cosign.generate_key_pair(keys.path(), PASSWORD)?;
    let no_credentials = tempfile::tempdir()?;
    let anonymous = cosign
        .command(&registry)
        .env("DOCKER_CONFIG", no_credentials.path())
        .args([
            "verify",
            "--insecure-ignore-tlog",
            "--allow-http-registry",
            "--key",
        ])
        .arg(&public)
        .arg(&image)
        .output()?;
    assert!(!anonymous.status.success());
    assert!(registry
        .requests()
        .iter()
        .any(|r| r.status == 401 && r.user_agent.contains("cosign")));
    Ok(())
}

#[tokio::test]
async fn restart_keeps_port_and_images() -> TestResult {
    let mut registry = Registry::start().await?;
    let digest = push_random_image(&registry, "app", "v1").await?;
    let host = registry.host();

    registry.stop();
    assert!(!registry.is_running());
    let unreachable = get_manifest(&registry, "app", &digest).await;
    assert!(unreachable.is_err(), "a stopped registry answered");

    registry.restart().await?;
    assert!(registry.is_running());
    assert_eq!(registry.host(), host);
    let (status, body, _) = get_manifest(&registry, "app", &digest).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sha256(&body), digest);
    // The access log spans both runs.
    let puts = registry
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path == "/v2/app/manifests/v1")
        .count();
    assert_eq!(puts, 1);
    Ok(())
}
