//! Offline transparency-log checks: a cosign Rekor bundle's signed entry timestamp (SET)
//! against a trusted Rekor key, and the logged entry against the signature it vouches for.

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use signet_policy::SignatureAlgorithm;

use crate::digest::sha256_digest;
use crate::trust::TransparencyLog;

/// Who the logged entry must name as the signer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LoggedSigner<'a> {
    /// A public key, or a certificate of that key (SPKI DER): key-based signatures.
    Key(&'a [u8]),
    /// Exactly this certificate (DER), as cosign's `comparePublicKey` demands when the
    /// signature carries a certificate (keyless signing logs the certificate).
    Certificate(&'a [u8]),
}

/// What the logged entry must be about.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LoggedArtifact<'a> {
    /// A `hashedrekord` of this payload, signature and signer.
    Signature {
        payload: &'a [u8],
        signature: &'a [u8],
        signer: LoggedSigner<'a>,
    },
    /// An `intoto` or `dsse` entry whose payload hash is this payload's and, when
    /// `signer` is set, whose logged verifier is that signer.
    Attestation {
        payload: &'a [u8],
        signer: Option<LoggedSigner<'a>>,
    },
}

#[derive(Deserialize)]
struct Bundle {
    #[serde(rename = "SignedEntryTimestamp")]
    set: String,
    #[serde(rename = "Payload")]
    payload: BundlePayload,
}

#[derive(Deserialize)]
struct BundlePayload {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

fn b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

/// Checks a bundle and returns its integrated time (Unix seconds); `Err` says why not.
pub(crate) fn verify_bundle(
    bundle_json: &str,
    logs: &[TransparencyLog],
    artifact: LoggedArtifact<'_>,
) -> Result<i64, String> {
    let bundle: Bundle =
        serde_json::from_str(bundle_json).map_err(|e| format!("malformed Rekor bundle: {e}"))?;
    let p = &bundle.payload;
    let log_id = hex::decode(&p.log_id).map_err(|_| "Rekor bundle logID is not hex".to_owned())?;
    let log = logs
        .iter()
        .find(|l| l.log_id == log_id)
        .ok_or_else(|| format!("Rekor bundle from an untrusted log {}", p.log_id))?;
    // The SET signs the canonical JSON (sorted keys, no spaces) of the payload.
    let canonical = format!(
        r#"{{"body":{},"integratedTime":{},"logID":{},"logIndex":{}}}"#,
        Value::String(p.body.clone()),
        p.integrated_time,
        Value::String(p.log_id.clone()),
        p.log_index
    );
    let set = b64(&bundle.set).ok_or("Rekor SET is not base64")?;
    log.key
        .verify(canonical.as_bytes(), &set, SignatureAlgorithm::Sha256)
        .map_err(|e| {
            format!(
                "Rekor SET does not verify with the key of {}: {e}",
                log.base_url
            )
        })?;
    let body = b64(&p.body).ok_or("Rekor entry body is not base64")?;
    let entry: Value =
        serde_json::from_slice(&body).map_err(|_| "Rekor entry body is not JSON".to_owned())?;
    check_entry(&entry, artifact)?;
    if p.integrated_time > chrono::Utc::now().timestamp() + 300 {
        return Err("Rekor entry is integrated in the future".into());
    }
    if !log.valid_for.contains(p.integrated_time) {
        return Err(format!(
            "Rekor entry integrated at {} is outside the validity of the key of {}",
            crate::x509::time_text(p.integrated_time),
            log.base_url
        ));
    }
    Ok(p.integrated_time)
}

fn hex_sha256(data: &[u8]) -> String {
    sha256_digest(data).trim_start_matches("sha256:").to_owned()
}

fn str_at<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// Whether the PEM a log entry names as verifier is `signer`.
fn logged_signer_is(pem_text: &[u8], signer: LoggedSigner<'_>) -> Result<(), String> {
    match signer {
        LoggedSigner::Key(spki) => match spki_of_pem(pem_text) {
            Some(logged) if logged == spki => Ok(()),
            Some(_) => Err("Rekor entry is for another key".into()),
            None => Err("Rekor entry has no readable public key".into()),
        },
        LoggedSigner::Certificate(der) => {
            let logged = std::str::from_utf8(pem_text)
                .ok()
                .and_then(|t| signet_policy::pem_material::parse_certificates(t).ok())
                .and_then(|c| c.into_iter().next());
            match logged {
                Some(c) if c.der == der => Ok(()),
                Some(_) => Err("Rekor entry is for another certificate".into()),
                None => Err(
                    "Rekor entry names no certificate, but the signature was made with one".into(),
                ),
            }
        }
    }
}

/// The PEM a logged verifier field holds: base64 of the PEM text (decoded twice when the
/// log stored it base64-encoded once more).
fn logged_pem(field: &str) -> Option<Vec<u8>> {
    let once = b64(field)?;
    if once.starts_with(b"-----") {
        return Some(once);
    }
    b64(std::str::from_utf8(&once).ok()?).filter(|twice| twice.starts_with(b"-----"))
}

/// The SPKI DER of a PEM public key or certificate, as logged entries carry either.
fn spki_of_pem(pem_text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(pem_text).ok()?;
    if let Ok(keys) = signet_policy::pem_material::parse_public_keys(text) {
        return keys.into_iter().next().map(|k| k.spki_der);
    }
    let certs = signet_policy::pem_material::parse_certificates(text).ok()?;
    let cert = certs.first()?;
    crate::crypto::VerificationKey::from_certificate_der(&cert.der)
        .ok()
        .map(|k| k.spki_der().to_vec())
}

fn check_entry(entry: &Value, artifact: LoggedArtifact<'_>) -> Result<(), String> {
    let kind = str_at(entry, "/kind").unwrap_or_default();
    match artifact {
        LoggedArtifact::Signature {
            payload,
            signature,
            signer,
        } => {
            if kind != "hashedrekord" {
                return Err(format!("Rekor entry is {kind:?}, expected hashedrekord"));
            }
            let hash = str_at(entry, "/spec/data/hash/value").ok_or("Rekor entry has no hash")?;
            if hash != hex_sha256(payload) {
                return Err("Rekor entry is for another payload".into());
            }
            let logged_sig = str_at(entry, "/spec/signature/content")
                .and_then(b64)
                .ok_or("Rekor entry has no signature")?;
            if logged_sig != signature {
                return Err("Rekor entry is for another signature".into());
            }
            let logged = str_at(entry, "/spec/signature/publicKey/content")
                .and_then(b64)
                .ok_or("Rekor entry has no readable public key")?;
            logged_signer_is(&logged, signer)
        }
        LoggedArtifact::Attestation { payload, signer } => {
            let (pointer, verifiers): (_, &[&str]) = match kind {
                "intoto" => (
                    "/spec/content/payloadHash/value",
                    &[
                        "/spec/publicKey",
                        "/spec/content/envelope/signatures/0/publicKey",
                    ],
                ),
                "dsse" => ("/spec/payloadHash/value", &["/spec/signatures/0/verifier"]),
                other => return Err(format!("Rekor entry is {other:?}, expected intoto or dsse")),
            };
            match str_at(entry, pointer) {
                Some(h) if h == hex_sha256(payload) => {}
                Some(_) => return Err("Rekor entry is for another attestation".into()),
                None => return Err("Rekor entry has no payload hash".into()),
            }
            let Some(signer) = signer else {
                return Ok(());
            };
            let logged = verifiers
                .iter()
                .find_map(|p| str_at(entry, p))
                .and_then(logged_pem)
                .ok_or("Rekor entry names no verifier for the attestation")?;
            logged_signer_is(&logged, signer)
        }
    }
}
