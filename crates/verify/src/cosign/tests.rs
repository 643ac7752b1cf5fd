//! Golden tests against what cosign 2.5 wrote (testdata/, recorded with `cosign attest
//! --no-upload` and from a local registry after `cosign sign` / `cosign attest`).

use serde_json::Value;

use super::*;

const DIGEST: &str = "sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f";

#[test]
fn tags() {
    assert_eq!(signature_tag("sha256:abc"), "sha256-abc.sig");
    assert_eq!(attestation_tag("sha256:abc"), "sha256-abc.att");
}

#[test]
fn predicate_type_uris_match_cosign() {
    for (name, uri) in [
        ("custom", "https://cosign.sigstore.dev/attestation/v1"),
        ("slsaprovenance", "https://slsa.dev/provenance/v0.2"),
        ("slsaprovenance02", "https://slsa.dev/provenance/v0.2"),
        ("slsaprovenance1", "https://slsa.dev/provenance/v1"),
        ("link", "https://in-toto.io/Link/v1"),
        ("spdx", "https://spdx.dev/Document"),
        ("spdxjson", "https://spdx.dev/Document"),
        ("cyclonedx", "https://cyclonedx.org/bom"),
        ("vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"),
        ("openvex", "https://openvex.dev/ns"),
        ("https://example.com/pred/v1", "https://example.com/pred/v1"),
    ] {
        assert_eq!(predicate_type_uri(name).as_deref(), Some(uri), "{name}");
    }
    for name in ["", "slsa", "cyclonedxxml", "SPDX"] {
        assert_eq!(predicate_type_uri(name), None, "{name}");
    }
}

/// `(type, predicate file, statement cosign made from it)`.
const GOLDEN: &[(&str, &[u8], &[u8])] = &[
    (
        "slsaprovenance",
        include_bytes!("testdata/pred_slsa.json"),
        include_bytes!("testdata/stmt_slsaprovenance.json"),
    ),
    (
        "slsaprovenance1",
        include_bytes!("testdata/pred_slsa1.json"),
        include_bytes!("testdata/stmt_slsaprovenance1.json"),
    ),
    (
        "vuln",
        include_bytes!("testdata/pred_vuln.json"),
        include_bytes!("testdata/stmt_vuln.json"),
    ),
    (
        "link",
        include_bytes!("testdata/pred_link.json"),
        include_bytes!("testdata/stmt_link.json"),
    ),
    (
        "spdx",
        include_bytes!("testdata/pred_other.json"),
        include_bytes!("testdata/stmt_spdx.json"),
    ),
    (
        "spdxjson",
        include_bytes!("testdata/pred_other.json"),
        include_bytes!("testdata/stmt_spdxjson.json"),
    ),
    (
        "cyclonedx",
        include_bytes!("testdata/pred_other.json"),
        include_bytes!("testdata/stmt_cyclonedx.json"),
    ),
    (
        "openvex",
        include_bytes!("testdata/pred_other.json"),
        include_bytes!("testdata/stmt_openvex.json"),
    ),
    (
        "custom",
        include_bytes!("testdata/pred_other.json"),
        include_bytes!("testdata/stmt_custom.json"),
    ),
    (
        "https://example.com/pred/v1",
        include_bytes!("testdata/pred_other.json"),
        include_bytes!("testdata/stmt_uri.json"),
    ),
];

#[test]
fn statements_are_byte_identical_to_cosign() {
    for (type_name, predicate_file, expected) in GOLDEN {
        let cosign = Statement::parse(expected).expect("golden parses");
        // The one thing that differs run to run: the custom predicate's time stamp.
        let stamp = cosign.predicate["Timestamp"].as_str().unwrap_or("");
        let predicate = predicate_for_at(type_name, predicate_file, stamp).expect("predicate");
        let uri = predicate_type_uri(type_name).expect("uri");
        let ours = Statement::new(&uri, "example.com/test/image", DIGEST, predicate);
        assert_eq!(
            String::from_utf8_lossy(&ours.to_bytes()),
            String::from_utf8_lossy(expected),
            "{type_name}"
        );
        assert!(ours.covers_digest(DIGEST));
    }
    // Kyverno policies read a custom predicate's `Data` (the file's text) and `Timestamp`.
    let custom = predicate_for("custom", b"{\"bomFormat\":\"CycloneDX\"}").expect("custom");
    assert_eq!(custom["Data"], "{\"bomFormat\":\"CycloneDX\"}");
    assert_eq!(custom["Timestamp"].as_str().map(str::len), Some(20));
}

#[test]
fn predicates_cosign_refuses() {
    for (type_name, raw, message) in [
        (
            "slsaprovenance",
            &br#"{"buildType":"x"}"#[..],
            "required field builder missing",
        ),
        ("slsaprovenance", b"[]", "not a JSON object"),
        (
            "slsaprovenance1",
            br#"{"buildDefinition":{}}"#,
            "required field runDetails missing",
        ),
        (
            "link",
            br#"{"_type":"link"}"#,
            "required field name missing",
        ),
        (
            "slsaprovenance",
            br#"{"builder":{"id":7},"buildType":"x"}"#,
            "builder.id: expected a string",
        ),
        (
            "slsaprovenance",
            br#"{"builder":{},"buildType":"x","metadata":{"buildStartedOn":"yesterday"}}"#,
            "RFC 3339",
        ),
        (
            "slsaprovenance1",
            br#"{"buildDefinition":{},"runDetails":{"byproducts":[{"content":"***"}]}}"#,
            "base64",
        ),
        ("vuln", b"[1]", "expected an object"),
        ("https://example.com/p", b"[1]", "not a JSON object"),
        ("spdxjson", b"{", "invalid JSON"),
        ("slsa", b"{}", "invalid predicate type"),
    ] {
        let err = predicate_for(type_name, raw).expect_err(type_name);
        assert!(err.to_string().contains(message), "{type_name}: {err}");
    }
    // Go zero values for what is missing.
    let vuln = predicate_for("vuln", b"{}").expect("empty vuln");
    assert_eq!(vuln["metadata"]["scanStartedOn"], "0001-01-01T00:00:00Z");
    assert_eq!(vuln["invocation"]["parameters"], Value::Null);
    let slsa = predicate_for(
        "slsaprovenance",
        br#"{"builder":null,"buildType":"t","BUILDCONFIG":{"b":1,"a":2}}"#,
    )
    .expect("minimal slsa");
    assert_eq!(
        serde_json::to_string(&slsa).expect("json"),
        r#"{"builder":{"id":""},"buildType":"t","invocation":{"configSource":{}},"buildConfig":{"a":2,"b":1}}"#
    );
}

#[test]
fn reads_signature_manifests_cosign_pushed() {
    let sig = SignatureManifest::parse(include_bytes!("testdata/sig.manifest.json")).expect("sig");
    let layer = &sig.layers[0];
    assert!(layer.is_simple_signing() && !layer.is_dsse());
    assert_eq!(layer.size, 245);
    assert!(layer.signature_b64().is_some());
    assert_eq!(layer.signature().expect("b64").map(|s| s.len()), Some(71));
    assert_eq!(
        (
            layer.certificate(),
            layer.chain(),
            layer.bundle(),
            layer.predicate_type()
        ),
        (None, None, None, None)
    );

    let att = SignatureManifest::parse(include_bytes!("testdata/att.manifest.json")).expect("att");
    let layer = &att.layers[0];
    assert!(layer.is_dsse());
    assert_eq!(layer.signature_b64(), None);
    assert_eq!(layer.signature().expect("none"), None);
    assert_eq!(
        layer.predicate_type(),
        Some("https://slsa.dev/provenance/v0.2")
    );
    assert_eq!(
        SignatureManifest::parse(include_bytes!("testdata/sig2.manifest.json"))
            .expect("two")
            .layers
            .len(),
        2
    );

    for bad in [
        &b""[..],
        br#"{"schemaVersion":1,"layers":[]}"#,
        br#"{"schemaVersion":2,"layers":[{"mediaType":"m","digest":"md5:00","size":1}]}"#,
        br#"{"schemaVersion":2,"layers":[{"mediaType":"m","digest":"sha256:00","size":-1}]}"#,
    ] {
        assert!(
            SignatureManifest::parse(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
    )
}

#[test]
fn writes_the_manifests_cosign_pushes() {
    for (manifest, config, blob) in [
        (
            &include_bytes!("testdata/sig.manifest.json")[..],
            &include_bytes!("testdata/sig.config.json")[..],
            &include_bytes!("testdata/sig.layer")[..],
        ),
        (
            &include_bytes!("testdata/att.manifest.json")[..],
            &include_bytes!("testdata/att.config.json")[..],
            &include_bytes!("testdata/att.layer")[..],
        ),
    ] {
        let theirs = SignatureManifest::parse(manifest)
            .expect("golden")
            .layers
            .remove(0);
        let ours = if theirs.is_dsse() {
            Layer::attestation(blob, "https://slsa.dev/provenance/v0.2")
        } else {
            Layer::simple_signing(blob, &theirs.signature().expect("b64").expect("sig"))
        };
        assert_eq!(ours, theirs);
        let our_config = signature_config(&[ours.digest.as_str()]);
        assert_eq!(our_config, config);
        let written = signature_manifest(&sha256(&our_config), our_config.len() as u64, &[ours]);
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(manifest)
        );
    }
    let two = SignatureManifest::parse(include_bytes!("testdata/sig2.manifest.json")).expect("two");
    let digests: Vec<&str> = two.layers.iter().map(|l| l.digest.as_str()).collect();
    let config = signature_config(&digests);
    assert_eq!(config, include_bytes!("testdata/sig2.config.json"));
    assert_eq!(
        signature_manifest(&sha256(&config), config.len() as u64, &two.layers),
        include_bytes!("testdata/sig2.manifest.json")
    );
}

#[test]
fn certificate_annotations() {
    let layer =
        Layer::simple_signing(b"{}", b"sig").with_certificate("-----BEGIN CERTIFICATE-----\n", "");
    assert_eq!(layer.certificate(), Some("-----BEGIN CERTIFICATE-----\n"));
    assert_eq!(layer.chain(), None);
    let manifest = signature_manifest(DIGEST, 2, std::slice::from_ref(&layer));
    let text = String::from_utf8(manifest).expect("utf8");
    assert!(text.contains(r#""annotations":{"dev.cosignproject.cosign/signature":"c2ln","dev.sigstore.cosign/certificate":"-----BEGIN CERTIFICATE-----\n","dev.sigstore.cosign/chain":""}"#), "{text}");
    assert_eq!(
        SignatureManifest::parse(text.as_bytes())
            .expect("parses")
            .layers,
        vec![layer]
    );
}
