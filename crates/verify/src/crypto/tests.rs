//! Tests of [`VerificationKey`]. OpenSSL-made vectors (testdata/openssl_vectors.txt) are
//! the oracle independent of aws-lc.

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use signet_policy::pem_material::parse_public_keys;
use signet_policy::SignatureAlgorithm::{self, Sha224, Sha256, Sha384, Sha512};

use super::{pem, VerificationKey};

pub(super) const VECTORS: &str = include_str!("testdata/openssl_vectors.txt");
pub(super) const VECTOR_MESSAGE: &[u8] = b"signet openssl vector";

fn hash_named(name: &str) -> SignatureAlgorithm {
    match name {
        "sha224" => Sha224,
        "sha256" => Sha256,
        "sha384" => Sha384,
        _ => Sha512,
    }
}

pub(super) fn vector_key(name: &str) -> VerificationKey {
    let line = VECTORS
        .lines()
        .find(|l| l.starts_with(&format!("key {name} ")))
        .expect("vector key");
    let der = STANDARD
        .decode(line.rsplit(' ').next().expect("b64"))
        .expect("base64");
    VerificationKey::from_spki_der(&der).expect("vector key loads")
}

/// `(key name, hash, signature)` for every OpenSSL signature.
pub(super) fn vector_signatures() -> Vec<(String, SignatureAlgorithm, Vec<u8>)> {
    VECTORS
        .lines()
        .filter_map(|l| l.strip_prefix("sig "))
        .map(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            let sig = STANDARD.decode(parts[2]).expect("base64");
            (parts[0].to_string(), hash_named(parts[1]), sig)
        })
        .collect()
}

#[test]
fn openssl_vectors_verify_for_every_curve_and_hash() {
    let vectors = vector_signatures();
    assert_eq!(vectors.len(), 17);
    for (name, hash, sig) in &vectors {
        let key = vector_key(name);
        let result = key.verify(VECTOR_MESSAGE, sig, *hash);
        if name == "rsa" && *hash == Sha224 {
            // cosign's RSA verifier refuses sha224 outright.
            let err = result.expect_err("rsa sha224 refused");
            assert!(err.to_string().contains("not supported"), "{err}");
            assert!(key.supports(Sha224).is_err());
            continue;
        }
        result.unwrap_or_else(|e| panic!("{name} {hash:?}: {e}"));
        assert!(key.supports(*hash).is_ok());
        assert!(
            key.verify(b"another message", sig, *hash).is_err(),
            "{name} {hash:?}"
        );
        if name != "ed25519" {
            // The hash is part of what is signed, except for Ed25519.
            for other in [Sha224, Sha256, Sha384, Sha512] {
                if other != *hash {
                    assert!(
                        key.verify(VECTOR_MESSAGE, sig, other).is_err(),
                        "{name} {hash:?} as {other:?}"
                    );
                }
            }
        }
    }
    let ed = vectors.iter().find(|v| v.0 == "ed25519").expect("ed25519");
    for hash in [Sha224, Sha384, Sha512] {
        vector_key("ed25519")
            .verify(VECTOR_MESSAGE, &ed.2, hash)
            .expect("hash ignored");
    }
}

/// An ECDSA signature over `hash(message)` made through aws-lc's prehash signing, checked
/// against aws-lc's own verifier for that (curve, hash) pair as an oracle.
fn sign_with_hash(
    alg: &'static signature::EcdsaSigningAlgorithm,
    native: &'static digest::Algorithm,
    hash: &'static digest::Algorithm,
    oracle: &'static signature::EcdsaVerificationAlgorithm,
    message: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let key = EcdsaKeyPair::generate(alg).expect("key");
    let h = digest::digest(hash, message);
    let len = native.output_len();
    let mut fitted = vec![0u8; len];
    let n = h.as_ref().len().min(len);
    fitted[len - n..].copy_from_slice(&h.as_ref()[..n]);
    let d = digest::Digest::import_less_safe(&fitted, native).expect("digest");
    let sig = key.sign_digest(&d).expect("sign").as_ref().to_vec();
    UnparsedPublicKey::new(oracle, key.public_key().as_ref())
        .verify(message, &sig)
        .expect("aws-lc oracle agrees");
    let spki = key.public_key().as_der().expect("der").as_ref().to_vec();
    (spki, sig)
}

#[test]
fn ecdsa_generated_keys_with_each_hash() {
    use signature::*;
    let msg = b"payload";
    let cases: [(
        &'static EcdsaSigningAlgorithm,
        &'static digest::Algorithm,
        &'static digest::Algorithm,
        &'static EcdsaVerificationAlgorithm,
        SignatureAlgorithm,
    ); 6] = [
        (
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            &digest::SHA256,
            &digest::SHA256,
            &ECDSA_P256_SHA256_ASN1,
            Sha256,
        ),
        (
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            &digest::SHA256,
            &digest::SHA384,
            &ECDSA_P256_SHA384_ASN1,
            Sha384,
        ),
        (
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            &digest::SHA256,
            &digest::SHA512,
            &ECDSA_P256_SHA512_ASN1,
            Sha512,
        ),
        (
            &ECDSA_P384_SHA384_ASN1_SIGNING,
            &digest::SHA384,
            &digest::SHA256,
            &ECDSA_P384_SHA256_ASN1,
            Sha256,
        ),
        (
            &ECDSA_P384_SHA384_ASN1_SIGNING,
            &digest::SHA384,
            &digest::SHA384,
            &ECDSA_P384_SHA384_ASN1,
            Sha384,
        ),
        (
            &ECDSA_P384_SHA384_ASN1_SIGNING,
            &digest::SHA384,
            &digest::SHA512,
            &ECDSA_P384_SHA512_ASN1,
            Sha512,
        ),
    ];
    for (alg, native, hash, oracle, ours) in cases {
        let (spki, sig) = sign_with_hash(alg, native, hash, oracle, msg);
        let key = VerificationKey::from_spki_der(&spki).expect("key");
        key.verify(msg, &sig, ours).expect("verifies");
        assert_rejects_tampering(&key, msg, &sig, ours);
    }
}

fn assert_rejects_tampering(
    key: &VerificationKey,
    msg: &[u8],
    sig: &[u8],
    hash: SignatureAlgorithm,
) {
    let mut bad_msg = msg.to_vec();
    bad_msg[0] ^= 1;
    assert!(
        key.verify(&bad_msg, sig, hash).is_err(),
        "flipped message bit"
    );
    for i in [0, sig.len() / 2, sig.len() - 1] {
        let mut bad_sig = sig.to_vec();
        bad_sig[i] ^= 0x01;
        assert!(
            key.verify(msg, &bad_sig, hash).is_err(),
            "flipped signature bit {i}"
        );
    }
    for garbage in [
        &b""[..],
        &[0u8; 1][..],
        &[0x30; 72][..],
        &[0xff; 10_000][..],
    ] {
        assert!(key.verify(msg, garbage, hash).is_err());
    }
    let mut trailing = sig.to_vec();
    trailing.push(0);
    assert!(key.verify(msg, &trailing, hash).is_err(), "trailing byte");
}

#[test]
fn rsa_pkcs1_2048_and_3072() {
    let msg = b"rsa payload";
    let rng = SystemRandom::new();
    for (size, hashes) in [
        (KeySize::Rsa2048, &[Sha256, Sha384, Sha512][..]),
        (KeySize::Rsa3072, &[Sha256][..]),
    ] {
        let key_pair = RsaKeyPair::generate(size).expect("rsa key");
        let spki = key_pair
            .public_key()
            .as_der()
            .expect("der")
            .as_ref()
            .to_vec();
        let key = VerificationKey::from_spki_der(&spki).expect("rsa key loads");
        for &hash in hashes {
            let padding: &'static dyn signature::RsaEncoding = match hash {
                Sha384 => &signature::RSA_PKCS1_SHA384,
                Sha512 => &signature::RSA_PKCS1_SHA512,
                _ => &signature::RSA_PKCS1_SHA256,
            };
            let mut sig = vec![0u8; key_pair.public_modulus_len()];
            key_pair.sign(padding, &rng, msg, &mut sig).expect("sign");
            key.verify(msg, &sig, hash).expect("verifies");
            assert_rejects_tampering(&key, msg, &sig, hash);
        }
        assert!(key.verify(msg, &[0u8; 256], Sha224).is_err());
    }
}

#[test]
fn ed25519_pure() {
    let key_pair = Ed25519KeyPair::generate().expect("ed25519");
    let msg = b"ed25519 payload";
    let sig = key_pair.sign(msg).as_ref().to_vec();
    let spki = key_pair
        .public_key()
        .as_der()
        .expect("der")
        .as_ref()
        .to_vec();
    let key = VerificationKey::from_spki_der(&spki).expect("loads");
    key.verify(msg, &sig, Sha256).expect("verifies");
    assert_rejects_tampering(&key, msg, &sig, Sha256);
}

#[test]
fn p256_key_from_pem_and_certificate() {
    let line = VECTORS
        .lines()
        .find(|l| l.starts_with("key p256 "))
        .expect("p256");
    let b64 = line.rsplit(' ').next().expect("b64");
    let pem_text = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n",
        &b64[..64],
        &b64[64..]
    );
    let keys = parse_public_keys(&pem_text).expect("pem");
    let key = VerificationKey::from_public_key(&keys[0]).expect("loads");
    let (_, _, sig) = vector_signatures()
        .into_iter()
        .find(|v| v.0 == "p256" && v.1 == Sha256)
        .expect("sig");
    key.verify(VECTOR_MESSAGE, &sig, Sha256).expect("verifies");

    let (label, cert) = pem::decode(include_bytes!("testdata/p256_cert.pem")).expect("cert pem");
    assert_eq!(label, "CERTIFICATE");
    let from_cert = VerificationKey::from_certificate_der(&cert).expect("cert key");
    assert_eq!(from_cert.spki_der(), key.spki_der());
    assert_eq!(from_cert.fingerprint(), key.fingerprint());
    from_cert
        .verify(VECTOR_MESSAGE, &sig, Sha256)
        .expect("verifies");
    assert!(VerificationKey::from_certificate_der(&cert[..cert.len() / 2]).is_err());
    assert!(VerificationKey::from_certificate_der(b"not a certificate").is_err());
    assert!(VerificationKey::from_spki_der(&cert).is_err());
}

#[test]
fn fingerprint_is_sha256_of_spki() {
    let key = vector_key("p384");
    let expected = hex::encode(digest::digest(&digest::SHA256, key.spki_der()));
    assert_eq!(key.fingerprint(), expected);
    assert_eq!(key.clone().fingerprint(), expected);
    assert!(format!("{key:?}").contains(&expected));
    fn send_sync<T: Send + Sync>() {}
    send_sync::<VerificationKey>();
}
