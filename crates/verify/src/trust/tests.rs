use super::*;

#[test]
fn public_good_root_has_rekor_fulcio_ct_and_tsa() {
    let root = TrustRoot::public_good().expect("embedded root parses");
    let v1 = root
        .tlogs
        .iter()
        .find(|l| l.base_url == "https://rekor.sigstore.dev")
        .expect("rekor v1");
    // A Rekor v1 log id is the SHA-256 of the key, which is how bundles name their log.
    assert_eq!(hex::encode(&v1.log_id), v1.key.fingerprint());
    assert_eq!(v1.checkpoint_name(), Some("rekor.sigstore.dev"));
    assert!(v1.valid_for.start.is_some() && v1.valid_for.end.is_none());
    assert!(root
        .tlogs
        .iter()
        .any(|l| l.base_url == "https://log2025-1.rekor.sigstore.dev"));
    assert_eq!(root.authorities.len(), 2);
    assert_eq!(
        root.certificate_authorities.len(),
        root.authorities
            .iter()
            .map(|a| a.chain.len())
            .sum::<usize>()
    );
    assert!(!root.ctlogs.is_empty());
    assert_eq!(root.timestamp_authorities.len(), 1);
}

#[test]
fn malformed_root_is_an_error() {
    assert!(TrustRoot::from_trusted_root_json(b"{").is_err());
    let bad = br#"{"tlogs":[{"publicKey":{"rawBytes":"!!"},"logId":{"keyId":"AA=="}}]}"#;
    assert!(TrustRoot::from_trusted_root_json(bad).is_err());
}

const P256_SPKI: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwrkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==";

fn one_tlog(valid_for: &str) -> String {
    format!(
        r#"{{"tlogs":[{{"baseUrl":"https://rekor.example","publicKey":{{"rawBytes":"{P256_SPKI}",
        "keyDetails":"PKIX_ECDSA_P256_SHA_256"{valid_for}}},"logId":{{"keyId":"AA=="}}}}]}}"#
    )
}

#[test]
fn validity_without_start_is_refused_not_unbounded() {
    let err = TrustRoot::from_trusted_root_json(
        one_tlog(r#","validFor":{"end":"2030-01-01T00:00:00Z"}"#).as_bytes(),
    )
    .expect_err("no start");
    assert!(err.to_string().contains("validFor has no start"), "{err}");
}

#[test]
fn validity_is_a_closed_interval() {
    let root = TrustRoot::from_trusted_root_json(
        one_tlog(
            r#","validFor":{"start":"2021-01-01T00:00:00Z","end":"2021-01-02T00:00:00.000Z"}"#,
        )
        .as_bytes(),
    )
    .expect("parses");
    let v = root.tlogs[0].valid_for;
    assert!(v.contains(1_609_459_200) && v.contains(1_609_545_600));
    assert!(!v.contains(1_609_459_199) && !v.contains(1_609_545_601));
    let open = TrustRoot::from_trusted_root_json(
        one_tlog(r#","validFor":{"start":"2021-01-01T00:00:00Z","end":null}"#).as_bytes(),
    )
    .expect("null end is open");
    assert!(open.tlogs[0].valid_for.contains(i64::MAX));
}

#[test]
fn pkcs1_rsa_ct_keys_are_read() {
    let staging = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/sigstore-conformance/bundle-verify/rekor2-happy-path/trusted_root.json"
    ));
    let Ok(staging) = staging else {
        return; // the shared test data is not on this machine
    };
    let root = TrustRoot::from_trusted_root_json(&staging).expect("staging root parses");
    assert_eq!(root.ctlogs.len(), 3);
    assert_eq!(root.timestamp_authorities.len(), 1);
}

#[test]
fn staging_is_not_available_offline() {
    let err = TrustRoot::staging().expect_err("not embedded");
    assert!(err.to_string().contains("--trusted-root"), "{err}");
}

#[test]
fn pem_roots_name_their_logs_like_trusted_root_json() {
    let ed25519 = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAPn+AREHoBaZ7wgS1zBqpxmLSGnyhxXj4lFxSdWVB8o8=\n-----END PUBLIC KEY-----\n";
    let root = TrustRoot::from_pem(&PemRoot {
        rekor_keys: vec![(
            "https://log2025-alpha1.rekor.sigstage.dev".into(),
            ed25519.into(),
        )],
        ..PemRoot::default()
    })
    .expect("pem root");
    // The signed-note key id of the staging Rekor v2 log, as its trusted_root.json has it.
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(&root.tlogs[0].log_id),
        "8w1amZ2S5mJIQkQmPxdMuOrL/oJkvFg9MnQXmeOCXck="
    );
    assert!(TrustRoot::from_pem(&PemRoot {
        fulcio_chains: vec!["not pem".into()],
        ..PemRoot::default()
    })
    .is_err());
}

#[test]
fn named_roots() {
    let mut roots = TrustRoots::new().expect("public good");
    roots.insert("private", TrustRoot::default());
    assert!(roots.get("public-good").is_ok());
    assert!(roots.get("private").is_ok());
    let err = roots.get("nope").expect_err("unknown");
    assert!(
        err.to_string().contains("known: private, public-good"),
        "{err}"
    );
}
