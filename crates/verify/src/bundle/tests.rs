use super::der;
use super::model::b64;
use super::*;

#[test]
fn base64_is_read_as_protobuf_json_reads_it() {
    assert_eq!(b64("aGVs\nbG8=", "x").expect("line break"), b"hello");
    assert_eq!(b64("aGVsbG8", "x").expect("unpadded"), b"hello");
    assert_eq!(b64("-_8=", "x").expect("url alphabet"), [0xfb, 0xff]);
    let err = b64("aGVs!G8=", "signature").expect_err("bad symbol");
    assert_eq!(err.class, FailureClass::Malformed);
    assert!(
        err.message.starts_with("signature is not valid base64"),
        "{err}"
    );
}

#[test]
fn generalized_times() {
    assert_eq!(
        der::generalized_time(b"20250612120220Z"),
        Some(1_749_729_740)
    );
    assert_eq!(
        der::generalized_time(b"20250612120220.123Z"),
        Some(1_749_729_740)
    );
    assert_eq!(der::generalized_time(b"20250612120220"), None);
    assert_eq!(der::generalized_time(b"2025061212022Z"), None);
}

const NOTE: &str = "log.example\n2\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n\u{2014} log.example AAAAAAEC\n";

#[test]
fn checkpoints_are_parsed_strictly() {
    let cp = checkpoint::parse(NOTE).expect("well formed");
    assert_eq!((cp.origin.as_str(), cp.size), ("log.example", 2));
    assert_eq!(cp.root_hash.len(), 32);
    for (broken, why) in [
        (NOTE.replace("\n\n", "\n"), "no blank line"),
        (NOTE.replace("log.example\n2\n", "2\n"), "not a tree size"),
        (
            NOTE.replace("\u{2014} log.example AAAAAAEC\n", ""),
            "not signed",
        ),
        (NOTE.replace("\u{2014} ", "- "), "does not start with"),
        (NOTE.replace("AAAAAAEC", "AAAA"), "too short"),
    ] {
        let err = checkpoint::parse(&broken).expect_err(why);
        assert!(err.contains(why), "{why}: {err}");
    }
}

#[test]
fn media_types_and_materials() {
    let err = verify(
        br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.4+json"}"#,
        &Artifact::Bytes(b""),
        &Signer::Identity {
            identity: String::new(),
            issuer: String::new(),
        },
        &TrustRoot::default(),
    )
    .expect_err("unknown version");
    assert_eq!(err.class, FailureClass::UnsupportedVersion);
    let err = verify(
        br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{}}"#,
        &Artifact::Bytes(b""),
        &Signer::Identity {
            identity: String::new(),
            issuer: String::new(),
        },
        &TrustRoot::default(),
    )
    .expect_err("no material");
    assert_eq!(err.class, FailureClass::Malformed);
    assert!(err.to_string().starts_with("malformed bundle: "), "{err}");
}

#[test]
fn digests_of_artifacts() {
    let d = Artifact::Bytes(b"").sha256();
    assert_eq!(
        hex::encode(d),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let text = format!("sha256:{}", hex::encode(d));
    assert_eq!(Artifact::parse_digest(&text), Some(d));
    assert_eq!(Artifact::parse_digest(&text.to_uppercase()), None);
}
