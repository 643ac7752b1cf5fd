//! The `verifyImages` policies of Kyverno's public library: each loads, or is refused
//! naming exactly the field Signet does not support.

mod common;

use signet_policy::{load_policies, Error};

/// file → the exact (path, message start) of every error, or empty when it loads.
const EXPECTED: &[(&str, &[(&str, &str)])] = &[
    ("require-vulnerability-scan.yaml", &[]),
    ("verify-flux-images.yaml", &[]),
    ("verify-image-cve-2022-42889.yaml", &[]),
    ("verify-image-slsa.yaml", &[]),
    ("verify-image.yaml", &[]),
    ("verify-sbom-cyclonedx.yaml", &[]),
    // KMS keys would need a cloud KMS call at verification time.
    (
        "verify-image-gcpkms.yaml",
        &[(
            "spec.rules[0].verifyImages[0].attestors[0].entries[0].keys.kms",
            "not supported by Signet",
        )],
    ),
    // Keys come from a ConfigMap through `context` and request variables.
    (
        "verify-image-with-multi-keys.yaml",
        &[
            (
                "spec.rules[0].verifyImages[0].attestors[0].entries[0].keys.publicKeys",
                "variables are not supported",
            ),
            (
                "spec.rules[0].verifyImages[0].attestors[0].entries[1].keys.publicKeys",
                "variables are not supported",
            ),
            ("spec.rules[0].context", "not supported by Signet"),
        ],
    ),
    // Tekton bundles are found through custom image extractors.
    (
        "verify-tekton-pipeline-bundle-signatures.yaml",
        &[("spec.rules[0].imageExtractors", "not supported by Signet")],
    ),
    (
        "verify-tekton-taskrun-signatures.yaml",
        &[("spec.rules[0].imageExtractors", "not supported by Signet")],
    ),
    (
        "verify-tekton-taskrun-vuln-scan.yaml",
        &[("spec.rules[0].imageExtractors", "not supported by Signet")],
    ),
];

#[test]
fn library_policies_load_or_name_the_unsupported_field() {
    let dir = common::testdata("kyverno-policies");
    let files = std::fs::read_dir(&dir).expect("dir").count();
    assert_eq!(
        files,
        EXPECTED.len(),
        "every library policy has an expectation"
    );
    for (file, expected) in EXPECTED {
        let result = load_policies(&common::read("kyverno-policies", file));
        match (result, expected.is_empty()) {
            (Ok(p), true) => assert_eq!(p.len(), 1, "{file}"),
            (Ok(_), false) => panic!("{file}: loaded, but expected {expected:?}"),
            (Err(Error::InvalidPolicy(d)), false) => {
                let got: Vec<_> = d
                    .errors()
                    .iter()
                    .map(|e| (e.path.as_str(), e.message.as_str()))
                    .collect();
                assert_eq!(got.len(), expected.len(), "{file}: {got:?}");
                for ((path, msg), (want_path, want_msg)) in got.iter().zip(expected.iter()) {
                    assert_eq!(path, want_path, "{file}");
                    assert!(msg.starts_with(want_msg), "{file}: {path}: {msg}");
                }
            }
            (Err(e), _) => panic!("{file}: {e}"),
        }
    }
}

#[test]
fn legacy_match_resources_and_gvk_kinds_are_read() {
    // The Tekton policies use `match.resources` without any/all; with the extractor
    // removed they load, and the legacy block becomes an `all` filter.
    let text = common::read("kyverno-policies", "verify-tekton-taskrun-vuln-scan.yaml");
    let start = text.find("    imageExtractors:").expect("extractor");
    let end = text.find("    verifyImages:").expect("verifyImages");
    let stripped = format!("{}{}", &text[..start], &text[end..]);
    let p = load_policies(&stripped).unwrap_or_else(|e| panic!("{e}"));
    let rule = &p[0].spec.rules[0];
    assert_eq!(
        rule.match_resources.any[0].kinds,
        ["tekton.dev/v1beta1/TaskRun.status"]
    );
    let text = common::read("kyverno-policies", "verify-tekton-taskrun-signatures.yaml");
    let start = text.find("    imageExtractors:").expect("extractor");
    let end = text.find("    verifyImages:").expect("verifyImages");
    let p = load_policies(&format!("{}{}", &text[..start], &text[end..]))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(p[0].spec.rules[0].match_resources.any.is_empty());
    assert_eq!(p[0].spec.rules[0].match_resources.all[0].kinds, ["TaskRun"]);
}
