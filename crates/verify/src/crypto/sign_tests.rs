//! Tests of [`SigningKey`]: cosign's encrypted key format, in both directions, with cosign
//! (../cosign/testdata/cosign.key, written by `cosign generate-key-pair`) and sigstore.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use signet_policy::pem_material::parse_public_keys;
use signet_policy::SignatureAlgorithm::Sha256;
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::crypto::SigningScheme;

use super::tests::{vector_key, vector_signatures, VECTOR_MESSAGE};
use super::{SigningKey, VerificationKey};

#[test]
fn signing_key_round_trips_through_encrypted_pem() {
    let key = SigningKey::generate().expect("generate");
    let pem_text = key.to_encrypted_pem(b"s3cret").expect("encrypt");
    assert!(pem_text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(pem_text.ends_with("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(pem_text
        .lines()
        .all(|l| l.len() <= 64 && !l.ends_with('\r')));
    let back = SigningKey::from_encrypted_pem(pem_text.as_bytes(), b"s3cret").expect("decrypt");
    assert_eq!(
        back.public_key_pem().expect("pem"),
        key.public_key_pem().expect("pem")
    );
    let err =
        SigningKey::from_encrypted_pem(pem_text.as_bytes(), b"wrong").expect_err("wrong password");
    assert!(err.to_string().contains("wrong password"), "{err}");
    // The label cosign 1.x wrote is still read.
    let old = pem_text.replace("SIGSTORE PRIVATE KEY", "COSIGN PRIVATE KEY");
    SigningKey::from_encrypted_pem(old.as_bytes(), b"s3cret").expect("old label");
    let wrong_label = pem_text.replace("ENCRYPTED SIGSTORE PRIVATE KEY", "PRIVATE KEY");
    assert!(SigningKey::from_encrypted_pem(wrong_label.as_bytes(), b"s3cret").is_err());

    let msg = b"simple signing payload";
    let sig = back.sign(msg).expect("sign");
    key.verification_key()
        .expect("vk")
        .verify(msg, &sig, Sha256)
        .expect("verifies");
    let debug = format!("{key:?}");
    assert!(
        debug.contains("fingerprint") && !debug.contains("pkcs8"),
        "{debug}"
    );
}

#[test]
fn reads_a_key_written_by_cosign() {
    let key = SigningKey::from_encrypted_pem(
        include_bytes!("../cosign/testdata/cosign.key"),
        b"signet-test",
    )
    .expect("cosign key");
    let cosign_pub = include_str!("../cosign/testdata/cosign.pub");
    assert_eq!(
        key.public_key_pem().expect("pem"),
        cosign_pub,
        "same bytes as cosign.pub"
    );
    let err =
        SigningKey::from_encrypted_pem(include_bytes!("../cosign/testdata/cosign.key"), b"nope")
            .expect_err("wrong password");
    assert!(err.to_string().contains("wrong password"), "{err}");

    // A signature cosign made with it (`cosign sign-blob`) verifies with cosign.pub.
    let public = parse_public_keys(cosign_pub).expect("pub");
    let vk = VerificationKey::from_public_key(&public[0]).expect("vk");
    let payload = include_bytes!("../cosign/testdata/payload.json");
    let sig = STANDARD
        .decode(include_str!("../cosign/testdata/payload.sig").trim())
        .expect("b64");
    vk.verify(payload, &sig, Sha256)
        .expect("cosign signature verifies");
    let ours = key.sign(payload).expect("sign");
    vk.verify(payload, &ours, Sha256)
        .expect("our signature verifies");
}

#[test]
fn interoperates_with_sigstore_key_pairs() {
    // Ours read by sigstore.
    let key = SigningKey::generate().expect("generate");
    let pem_text = key.to_encrypted_pem(b"pw").expect("encrypt");
    let theirs = SigStoreKeyPair::from_encrypted_pem(pem_text.as_bytes(), b"pw")
        .expect("sigstore reads ours");
    assert_eq!(
        theirs.public_key_to_der().expect("der"),
        key.verification_key().expect("vk").spki_der()
    );
    let signer = theirs
        .to_sigstore_signer(&SigningScheme::ECDSA_P256_SHA256_ASN1)
        .expect("signer");
    let sig = signer.sign(b"msg").expect("sigstore signs");
    key.verification_key()
        .expect("vk")
        .verify(b"msg", &sig, Sha256)
        .expect("verifies");

    // Sigstore's read by us.
    let theirs = SigningScheme::ECDSA_P256_SHA256_ASN1
        .create_signer()
        .expect("signer")
        .to_sigstore_keypair()
        .expect("keypair");
    let pem_text = theirs.private_key_to_encrypted_pem(b"pw").expect("encrypt");
    let ours =
        SigningKey::from_encrypted_pem(pem_text.as_bytes(), b"pw").expect("we read sigstore's");
    assert_eq!(
        ours.verification_key().expect("vk").spki_der(),
        theirs.public_key_to_der().expect("der")
    );

    // Keys of other types are refused with a reason.
    let ed = SigningScheme::ED25519
        .create_signer()
        .expect("ed")
        .to_sigstore_keypair()
        .expect("kp");
    let pem_text = ed.private_key_to_encrypted_pem(b"pw").expect("encrypt");
    let err =
        SigningKey::from_encrypted_pem(pem_text.as_bytes(), b"pw").expect_err("ed25519 refused");
    assert!(err.to_string().contains("P-256"), "{err}");
}

#[test]
fn signature_by_another_key_fails() {
    let msg = b"payload";
    let a = SigningKey::generate().expect("a");
    let b = SigningKey::generate().expect("b");
    let sig = a.sign(msg).expect("sign");
    a.verification_key()
        .expect("vk")
        .verify(msg, &sig, Sha256)
        .expect("own key");
    let err = b
        .verification_key()
        .expect("vk")
        .verify(msg, &sig, Sha256)
        .expect_err("other key");
    assert!(err.to_string().contains("does not verify"), "{err}");
    for (name, _, sig) in vector_signatures() {
        if name != "p256" {
            assert!(vector_key("p256")
                .verify(VECTOR_MESSAGE, &sig, Sha256)
                .is_err());
        }
    }
}
