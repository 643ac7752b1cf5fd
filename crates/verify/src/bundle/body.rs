//! The transparency-log entry body must be about this bundle: its artifact (or DSSE
//! payload), its signature and its signer. Kinds: `hashedrekord` 0.0.1 (Rekor v1) and
//! 0.0.2 (Rekor v2, also for DSSE: the digest of the PAE), `dsse` 0.0.1, `intoto` 0.0.2.

use aws_lc_rs::digest;
use serde_json::Value;
use signet_policy::pem_material::{parse_certificates, parse_public_keys};

use super::model::b64;
use crate::cosign::pae;

/// What the bundle says was signed, by whom.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    /// SHA-256 of the artifact.
    pub artifact_digest: [u8; 32],
    /// The signature bytes (message signature, or the DSSE envelope's signature).
    pub signature: Vec<u8>,
    /// The signer's SubjectPublicKeyInfo.
    pub key_spki: Vec<u8>,
    /// The signing certificate, in keyless bundles.
    pub leaf: Option<Vec<u8>>,
    /// `(payloadType, payload)` of a DSSE envelope.
    pub dsse: Option<(String, Vec<u8>)>,
}

fn sha256(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, data).as_ref().to_vec()
}

fn str_at<'v>(v: &'v Value, pointer: &str) -> Result<&'v str, String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the log entry has no {pointer}"))
}

fn bytes_at(v: &Value, pointer: &str) -> Result<Vec<u8>, String> {
    b64(str_at(v, pointer)?, pointer).map_err(|e| e.message)
}

fn hex_at(v: &Value, pointer: &str) -> Result<Vec<u8>, String> {
    hex::decode(str_at(v, pointer)?).map_err(|_| format!("the log entry's {pointer} is not hex"))
}

/// The logged signer (a PEM certificate or public key) must be the bundle's.
fn same_signer(pem_text: &[u8], signed: &Signed) -> Result<(), String> {
    let text = std::str::from_utf8(pem_text).map_err(|_| "the logged signer is not PEM")?;
    if let Ok(certs) = parse_certificates(text) {
        return match (&signed.leaf, certs.first()) {
            (Some(leaf), Some(c)) if &c.der == leaf => Ok(()),
            (Some(_), _) => Err("the log entry is for another certificate".into()),
            (None, _) => Err("the log entry names a certificate, the bundle a public key".into()),
        };
    }
    let keys = parse_public_keys(text).map_err(|e| format!("the logged signer: {e}"))?;
    match (&signed.leaf, keys.first()) {
        (None, Some(k)) if k.spki_der == signed.key_spki => Ok(()),
        (None, _) => Err("the log entry is for another public key".into()),
        (Some(_), _) => Err("the log entry names a public key, the bundle a certificate".into()),
    }
}

fn expect(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("the log entry is for another {what}"))
    }
}

fn hashedrekord_v1(spec: &Value, signed: &Signed) -> Result<(), String> {
    if signed.dsse.is_some() {
        return Err("a DSSE bundle cannot be logged as hashedrekord 0.0.1".into());
    }
    expect(
        str_at(spec, "/data/hash/algorithm")? == "sha256",
        "hash algorithm",
    )?;
    expect(
        hex_at(spec, "/data/hash/value")? == signed.artifact_digest,
        "artifact",
    )?;
    expect(
        bytes_at(spec, "/signature/content")? == signed.signature,
        "signature",
    )?;
    same_signer(&bytes_at(spec, "/signature/publicKey/content")?, signed)
}

fn hashedrekord_v2(spec: &Value, signed: &Signed) -> Result<(), String> {
    let spec = spec
        .get("hashedRekordV002")
        .ok_or("the log entry has no hashedRekordV002")?;
    expect(
        str_at(spec, "/data/algorithm")? == "SHA2_256",
        "hash algorithm",
    )?;
    let digest = bytes_at(spec, "/data/digest")?;
    match &signed.dsse {
        Some((payload_type, payload)) => expect(
            digest == sha256(&pae(payload_type, payload)),
            "DSSE envelope",
        )?,
        None => expect(digest == signed.artifact_digest, "artifact")?,
    }
    expect(
        bytes_at(spec, "/signature/content")? == signed.signature,
        "signature",
    )?;
    let verifier = spec
        .pointer("/signature/verifier")
        .ok_or("the log entry has no verifier")?;
    match (&signed.leaf, verifier.get("x509Certificate")) {
        (Some(leaf), Some(_)) => expect(
            &bytes_at(verifier, "/x509Certificate/rawBytes")? == leaf,
            "certificate",
        ),
        (None, None) => expect(
            bytes_at(verifier, "/publicKey/rawBytes")? == signed.key_spki,
            "public key",
        ),
        (Some(_), None) => Err("the log entry names a public key, the bundle a certificate".into()),
        (None, Some(_)) => Err("the log entry names a certificate, the bundle a public key".into()),
    }
}

fn dsse_payload<'s>(signed: &'s Signed, kind: &str) -> Result<(&'s str, &'s [u8]), String> {
    signed
        .dsse
        .as_ref()
        .map(|(t, p)| (t.as_str(), p.as_slice()))
        .ok_or_else(|| format!("a message-signature bundle cannot be logged as {kind}"))
}

fn dsse_v1(spec: &Value, signed: &Signed) -> Result<(), String> {
    let (_, payload) = dsse_payload(signed, "dsse")?;
    expect(
        str_at(spec, "/payloadHash/algorithm")? == "sha256",
        "hash algorithm",
    )?;
    expect(
        hex_at(spec, "/payloadHash/value")? == sha256(payload),
        "DSSE payload",
    )?;
    let sigs = spec
        .get("signatures")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let [sig] = sigs else {
        return Err(format!(
            "the log entry has {} signatures, the bundle one",
            sigs.len()
        ));
    };
    expect(
        bytes_at(sig, "/signature")? == signed.signature,
        "signature",
    )?;
    same_signer(&bytes_at(sig, "/verifier")?, signed)
}

fn intoto_v2(spec: &Value, signed: &Signed) -> Result<(), String> {
    let (payload_type, payload) = dsse_payload(signed, "intoto")?;
    let content = spec.get("content").ok_or("the log entry has no content")?;
    expect(
        str_at(content, "/payloadHash/algorithm")? == "sha256",
        "hash algorithm",
    )?;
    expect(
        hex_at(content, "/payloadHash/value")? == sha256(payload),
        "DSSE payload",
    )?;
    if let Ok(t) = str_at(content, "/envelope/payloadType") {
        expect(t == payload_type, "payload type")?;
    }
    let sigs = content
        .pointer("/envelope/signatures")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let [sig] = sigs else {
        return Err(format!(
            "the log entry has {} signatures, the bundle one",
            sigs.len()
        ));
    };
    // intoto 0.0.2 stores the envelope's base64 fields base64-encoded once more; a
    // signature encoded only once is read too.
    let once = bytes_at(sig, "/sig")?;
    let twice = std::str::from_utf8(&once)
        .ok()
        .and_then(|inner| b64(inner, "sig").ok());
    expect(
        once == signed.signature || twice.as_ref() == Some(&signed.signature),
        "signature",
    )?;
    same_signer(&bytes_at(sig, "/publicKey")?, signed)
}

/// Checks the decoded `canonicalizedBody` of an entry of `kind`/`version` against `signed`.
pub(crate) fn check(kind: &str, version: &str, body: &[u8], signed: &Signed) -> Result<(), String> {
    let entry: Value =
        serde_json::from_slice(body).map_err(|_| "the log entry body is not JSON".to_owned())?;
    let body_kind = str_at(&entry, "/kind")?;
    let body_version = str_at(&entry, "/apiVersion")?;
    if body_kind != kind || body_version != version {
        return Err(format!(
            "the log entry is {body_kind} {body_version}, the bundle says {kind} {version}"
        ));
    }
    let spec = entry.get("spec").ok_or("the log entry has no spec")?;
    match (kind, version) {
        ("hashedrekord", "0.0.1") => hashedrekord_v1(spec, signed),
        ("hashedrekord", "0.0.2") => hashedrekord_v2(spec, signed),
        ("dsse", "0.0.1") => dsse_v1(spec, signed),
        ("intoto", "0.0.2") => intoto_v2(spec, signed),
        _ => Err(format!(
            "log entries of kind {kind} {version} are not supported"
        )),
    }
}
