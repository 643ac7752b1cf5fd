//! A stand-in Rekor: its key signs entry timestamps over the canonical JSON of
//! `{body, integratedTime, logID, logIndex}`, and the bundles are written into the
//! signature or attestation layers' annotations, as cosign writes them when it logs.

#![allow(dead_code)]

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{json, Value};
use signet_verify::cosign::{SignatureManifest, BUNDLE_ANNOTATION, SIGNATURE_ANNOTATION};
use signet_verify::crypto::{SigningKey, VerificationKey};
use signet_verify::digest::sha256_digest;
use signet_verify::registry::RegistryClient;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A local Rekor key.
pub struct LocalRekor {
    pub key: SigningKey,
}

impl LocalRekor {
    pub fn new() -> LocalRekor {
        LocalRekor {
            key: SigningKey::generate().expect("rekor key"),
        }
    }

    pub fn public_pem(&self) -> String {
        self.key.public_key_pem().expect("pem")
    }

    pub fn verification_key(&self) -> VerificationKey {
        self.key.verification_key().expect("key")
    }

    /// A cosign Rekor bundle for the entry `body`, integrated at `integrated` (Unix).
    pub fn bundle(&self, body: &Value, integrated: i64) -> String {
        let body = B64.encode(serde_json::to_vec(body).expect("json"));
        let log_id = self.verification_key().fingerprint();
        let canonical = format!(
            r#"{{"body":{},"integratedTime":{integrated},"logID":{},"logIndex":7}}"#,
            Value::String(body.clone()),
            Value::String(log_id.clone())
        );
        let set = self.key.sign(canonical.as_bytes()).expect("sign");
        json!({
            "SignedEntryTimestamp": B64.encode(set),
            "Payload": {"body": body, "integratedTime": integrated, "logIndex": 7, "logID": log_id}
        })
        .to_string()
    }
}

fn hex_sha256(data: &[u8]) -> String {
    sha256_digest(data).trim_start_matches("sha256:").to_owned()
}

/// The `hashedrekord` entry cosign logs for a signature layer: payload hash, signature,
/// and the signer's certificate (or key) PEM.
pub fn hashedrekord(
    payload: &[u8],
    annotations: &BTreeMap<String, String>,
    signer_pem: &str,
) -> Value {
    json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex_sha256(payload)}},
            "signature": {
                "content": annotations[SIGNATURE_ANNOTATION],
                "publicKey": {"content": B64.encode(signer_pem)}
            }
        }
    })
}

/// The `dsse` entry cosign 2.5 logs for an attestation layer (the envelope), naming the
/// signer's certificate (or key) PEM as verifier.
pub fn dsse(envelope: &[u8], signer_pem: &str) -> Value {
    let env: Value = serde_json::from_slice(envelope).expect("envelope");
    let payload = B64
        .decode(env["payload"].as_str().expect("payload"))
        .expect("b64");
    json!({
        "apiVersion": "0.0.1", "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hex_sha256(envelope)},
            "payloadHash": {"algorithm": "sha256", "value": hex_sha256(&payload)},
            "signatures": [{
                "signature": env["signatures"][0]["sig"],
                "verifier": B64.encode(signer_pem)
            }]
        }
    })
}

/// Sets annotations on every layer of `host/repository:tag`: `edit` gets each layer's blob
/// and annotations and returns the annotations to set.
pub async fn edit_layers(
    client: &RegistryClient,
    host: &str,
    repository: &str,
    tag: &str,
    edit: impl Fn(&[u8], &BTreeMap<String, String>) -> Vec<(String, String)>,
) {
    let manifest = client
        .manifest(host, repository, tag)
        .await
        .expect("fetch")
        .expect("exists");
    let parsed = SignatureManifest::parse(&manifest.bytes).expect("parse");
    let mut doc: Value = serde_json::from_slice(&manifest.bytes).expect("json");
    for (i, layer) in parsed.layers.iter().enumerate() {
        let blob = client
            .blob(host, repository, &layer.digest)
            .await
            .expect("blob");
        for (k, v) in edit(&blob, &layer.annotations) {
            doc["layers"][i]["annotations"][k] = Value::String(v);
        }
    }
    client
        .push_manifest(
            host,
            repository,
            tag,
            "application/vnd.oci.image.manifest.v1+json",
            serde_json::to_vec(&doc).expect("json").into(),
        )
        .await
        .expect("push");
}

/// The bundle annotation key, re-exported for tests that write bundles by hand.
pub const BUNDLE: &str = BUNDLE_ANNOTATION;

/// A stand-in certificate-transparency log.
pub struct CtLog {
    pub key: SigningKey,
}

impl CtLog {
    pub fn new() -> CtLog {
        CtLog {
            key: SigningKey::generate().expect("ct key"),
        }
    }

    pub fn public_pem(&self) -> String {
        self.key.public_key_pem().expect("pem")
    }

    /// A TLS-encoded SignedCertificateTimestampList with one SCT over `precert_tbs`.
    pub fn sct_list(&self, precert_tbs: &[u8], issuer_spki: &[u8]) -> Vec<u8> {
        let log_id =
            hex::decode(self.key.verification_key().expect("key").fingerprint()).expect("hex");
        let issuer_hash = hex::decode(
            signet_verify::digest::sha256_digest(issuer_spki).trim_start_matches("sha256:"),
        )
        .expect("hex");
        let timestamp = (super::der::unix_now_millis() - 120_000) as u64;
        let mut signed = vec![0, 0];
        signed.extend_from_slice(&timestamp.to_be_bytes());
        signed.extend_from_slice(&[0, 1]);
        signed.extend_from_slice(&issuer_hash);
        signed.extend_from_slice(&(precert_tbs.len() as u32).to_be_bytes()[1..]);
        signed.extend_from_slice(precert_tbs);
        signed.extend_from_slice(&[0, 0]);
        let sig = self.key.sign(&signed).expect("sign");
        let mut sct = vec![0];
        sct.extend_from_slice(&log_id);
        sct.extend_from_slice(&timestamp.to_be_bytes());
        sct.extend_from_slice(&[0, 0, 4, 3]);
        sct.extend_from_slice(&(sig.len() as u16).to_be_bytes());
        sct.extend_from_slice(&sig);
        let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&(sct.len() as u16).to_be_bytes());
        list.extend_from_slice(&sct);
        list
    }
}
