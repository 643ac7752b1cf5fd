//! Signatures made by cosign, decided by Signet as cosign decides them: against the real
//! Distribution registry and the real cosign binary.

mod support;

use bytes::Bytes;
use signet_verify::cosign::{signature_tag, SignatureManifest};
use signet_verify::{StaticKeys, VerdictResult};
use support::*;

fn key_entry(host: &str, pem: &str, extra: &str) -> String {
    format!(
        "        - imageReferences: [\"{host}/*\"]
{extra}          attestors:
            - entries:
{}",
        key_attestor(pem)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn cosign_signature_verifies_and_wrong_key_or_unsigned_fail() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let other = env.key_pair("other");
    let (tagged, digest) = env.image("app", "v1").await;
    env.cosign_sign(&signer, &env.by_digest("app", &digest), &[]);
    let verifier = env.verifier(StaticKeys::new());

    let good = policy(&cluster_policy(&key_entry(
        &env.host(),
        &signer.public_pem(),
        "",
    )));
    let v = verify(&verifier, first_entry(&good), &tagged).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    assert_eq!(
        v.digest.as_deref(),
        Some(digest.as_str()),
        "the tag resolved to the pushed digest"
    );
    assert_eq!(v.attestors_satisfied, ["attestors[0].entries[0].keys"]);
    // mutateDigest defaults to true under Enforce: the tag is pinned.
    assert_eq!(v.pinned, Some(format!("{tagged}@{digest}")));

    let wrong = policy(&cluster_policy(&key_entry(
        &env.host(),
        &other.public_pem(),
        "",
    )));
    let v = verify(&verifier, first_entry(&wrong), &tagged).await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(v.message.contains("no signature matched"), "{}", v.message);
    assert!(v.pinned.is_none(), "a failed image is not pinned");

    let (unsigned, _) = env.image("app", "unsigned").await;
    let v = verify(&verifier, first_entry(&good), &unsigned).await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(v.message.contains("no signatures found"), "{}", v.message);

    // cosign agrees on both.
    let ok = env
        .cosign
        .verify(
            &env.registry,
            &signer.public,
            &tagged,
            &["--insecure-ignore-tlog"],
        )
        .expect("cosign");
    assert!(ok.status.success());
    let bad = env
        .cosign
        .verify(
            &env.registry,
            &other.public,
            &tagged,
            &["--insecure-ignore-tlog"],
        )
        .expect("cosign");
    assert!(!bad.status.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signature_copied_from_another_image_never_verifies() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (_, signed) = env.image("app", "a").await;
    let (target, unsigned) = env.image("app", "b").await;
    env.cosign_sign(&signer, &env.by_digest("app", &signed), &[]);
    let client = env.client();
    let host = env.host();
    let manifest = client
        .manifest(&host, "app", &signature_tag(&signed))
        .await
        .expect("fetch")
        .expect("signature manifest exists");
    client
        .push_manifest(
            &host,
            "app",
            &signature_tag(&unsigned),
            "application/vnd.oci.image.manifest.v1+json",
            manifest.bytes,
        )
        .await
        .expect("copy the signature to the other image");

    let verifier = env.verifier(StaticKeys::new());
    let p = policy(&cluster_policy(&key_entry(&host, &signer.public_pem(), "")));
    let v = verify(&verifier, first_entry(&p), &target).await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(v.message.contains("for another image"), "{}", v.message);
    let cosign = env
        .cosign
        .verify(
            &env.registry,
            &signer.public,
            &target,
            &["--insecure-ignore-tlog"],
        )
        .expect("cosign");
    assert!(
        !cosign.status.success(),
        "cosign refuses the copied signature too"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_payload_does_not_verify() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (tagged, digest) = env.image("app", "v1").await;
    env.cosign_sign(&signer, &env.by_digest("app", &digest), &[]);
    let client = env.client();
    let host = env.host();
    let tag = signature_tag(&digest);
    let manifest = client
        .manifest(&host, "app", &tag)
        .await
        .expect("fetch")
        .expect("exists");
    let parsed = SignatureManifest::parse(&manifest.bytes).expect("parse");
    let layer = &parsed.layers[0];
    let payload = client
        .blob(&host, "app", &layer.digest)
        .await
        .expect("payload");
    let tampered = String::from_utf8(payload.to_vec())
        .expect("utf8")
        .replace("docker-reference\":\"", "docker-reference\":\"evil/");
    let new_digest = client
        .push_blob(&host, "app", Bytes::from(tampered.clone()))
        .await
        .expect("push");
    let text = String::from_utf8(manifest.bytes.to_vec())
        .expect("utf8")
        .replace(&layer.digest, &new_digest)
        .replace(
            &format!("\"size\":{}", payload.len()),
            &format!("\"size\":{}", tampered.len()),
        );
    client
        .push_manifest(
            &host,
            "app",
            &tag,
            "application/vnd.oci.image.manifest.v1+json",
            Bytes::from(text),
        )
        .await
        .expect("push tampered manifest");

    let verifier = env.verifier(StaticKeys::new());
    let p = policy(&cluster_policy(&key_entry(&host, &signer.public_pem(), "")));
    let v = verify(&verifier, first_entry(&p), &tagged).await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(v.message.contains("no signature matched"), "{}", v.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn annotations_count_and_multiple_keys() {
    let env = Env::new().await;
    let k1 = env.key_pair("k1");
    let k2 = env.key_pair("k2");
    let (tagged, digest) = env.image("app", "v1").await;
    env.cosign_sign(&k1, &env.by_digest("app", &digest), &["-a", "env=prod"]);
    let verifier = env.verifier(StaticKeys::new());
    let host = env.host();

    let with_annotation = |value: &str| {
        cluster_policy(&format!(
            "        - imageReferences: [\"{host}/*\"]
          attestors:
            - entries:
{}
                  annotations:
                    env: {value}",
            key_attestor(&k1.public_pem())
        ))
    };
    let v = verify(
        &verifier,
        first_entry(&policy(&with_annotation("prod"))),
        &tagged,
    )
    .await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    let v = verify(
        &verifier,
        first_entry(&policy(&with_annotation("dev"))),
        &tagged,
    )
    .await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(
        v.message.contains("lacks annotation env=dev"),
        "{}",
        v.message
    );

    // Two PEM keys in one publicKeys count as two entries: all must verify by default.
    let both = format!("{}\n{}", k1.public_pem().trim_end(), k2.public_pem());
    let all = policy(&cluster_policy(&key_entry(&host, &both, "")));
    let v = verify(&verifier, first_entry(&all), &tagged).await;
    assert_eq!(v.result, VerdictResult::Fail, "only k1 signed");
    assert!(v.message.contains("1 of 2 required"), "{}", v.message);
    let one = policy(&cluster_policy(&key_entry(&host, &both, "").replace(
        "            - entries:",
        "            - count: 1\n              entries:",
    )));
    let v = verify(&verifier, first_entry(&one), &tagged).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    assert_eq!(v.attestors_satisfied, ["attestors[0].entries[0].keys[0]"]);

    env.cosign_sign(&k2, &env.by_digest("app", &digest), &[]);
    let v = verify(&verifier, first_entry(&all), &tagged).await;
    assert_eq!(
        v.result,
        VerdictResult::Pass,
        "both signed now: {}",
        v.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn named_keys_repository_override_and_the_transparency_log() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let (tagged, digest) = env.image("app", "v1").await;
    let host = env.host();
    // Signatures stored in another repository, as COSIGN_REPOSITORY does.
    let mut cmd = env.cosign.command(&env.registry);
    cmd.env("COSIGN_PASSWORD", PASSWORD)
        .env("COSIGN_REPOSITORY", format!("{host}/signatures"))
        .args([
            "sign",
            "--yes",
            "--tlog-upload=false",
            "--allow-http-registry",
            "--key",
        ])
        .arg(&signer.key)
        .arg(env.by_digest("app", &digest));
    let out = cmd.output().expect("cosign");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut keys = StaticKeys::new();
    let pems = signet_policy::pem_material::parse_public_keys(&signer.public_pem()).expect("pem");
    keys.insert("kyverno", "cosign-pub-key", pems);
    let verifier = env.verifier(keys);
    let secret = |extra: &str, rekor: &str| {
        cluster_policy(&format!(
            "        - imageReferences: [\"{host}/*\"]
{extra}          attestors:
            - entries:
                - keys:
                    secret: {{name: cosign-pub-key, namespace: kyverno}}
{rekor}"
        ))
    };
    let ignore =
        "                    rekor: {url: \"https://rekor.sigstore.dev\", ignoreTlog: true}";
    let elsewhere = format!("          repository: {host}/signatures\n");
    let v = verify(
        &verifier,
        first_entry(&policy(&secret(&elsewhere, ignore))),
        &tagged,
    )
    .await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    let v = verify(
        &verifier,
        first_entry(&policy(&secret("", ignore))),
        &tagged,
    )
    .await;
    assert_eq!(v.result, VerdictResult::Fail, "nothing next to the image");

    // Without rekor.ignoreTlog, Kyverno requires a transparency-log entry.
    let v = verify(
        &verifier,
        first_entry(&policy(&secret(&elsewhere, ""))),
        &tagged,
    )
    .await;
    assert_eq!(v.result, VerdictResult::Fail);
    assert!(v.message.contains("no Rekor bundle"), "{}", v.message);

    // A named key the resolver does not have cannot be decided.
    let missing = secret(&elsewhere, ignore).replace("cosign-pub-key", "absent");
    let v = verify(&verifier, first_entry(&policy(&missing)), &tagged).await;
    assert_eq!(v.result, VerdictResult::Error);
    assert!(
        v.message.contains("kyverno/absent not found"),
        "{}",
        v.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unannotated_payload_is_known_from_the_manifest_and_an_annotated_one_is_read() {
    let env = Env::new().await;
    let signer = env.key_pair("signer");
    let host = env.host();
    let p = policy(&cluster_policy(&key_entry(&host, &signer.public_pem(), "")));
    let blob_reads = || {
        env.registry
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path.contains("/blobs/"))
            .count()
    };

    // cosign's payload without `-a` is the one bytes for this repository and digest: the
    // layer's digest in the manifest names it, so the blob is not asked for.
    let (plain, digest) = env.image("app", "plain").await;
    env.cosign_sign(&signer, &env.by_digest("app", &digest), &[]);
    let before = blob_reads();
    let v = verify(&env.verifier(StaticKeys::new()), first_entry(&p), &plain).await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    assert_eq!(blob_reads() - before, 0, "the payload was known");

    // An annotated payload cannot be known before it is read.
    let (annotated, digest) = env.image("app", "annotated").await;
    env.cosign_sign(&signer, &env.by_digest("app", &digest), &["-a", "env=prod"]);
    let before = blob_reads();
    let v = verify(
        &env.verifier(StaticKeys::new()),
        first_entry(&p),
        &annotated,
    )
    .await;
    assert_eq!(v.result, VerdictResult::Pass, "{}", v.message);
    assert_eq!(blob_reads() - before, 1, "the payload was read");
}
