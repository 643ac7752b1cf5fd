//! The Sigstore bundle JSON (`dev.sigstore.bundle.v1.Bundle` in protobuf JSON form),
//! versions 0.1 to 0.3, read into what verification needs.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

use super::error::{BundleError, FailureClass};

/// Bundle format versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Version {
    V01,
    V02,
    V03,
}

/// Who signed, as the bundle says.
#[derive(Debug, Clone)]
pub(crate) enum Material {
    /// The signing certificate (DER); other certificates of a v0.1/v0.2 chain are dropped:
    /// only the trust root's chains anchor trust.
    Certificate(Vec<u8>),
    /// A key known to the verifier; the hint is not trusted.
    PublicKey,
}

/// What was signed.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// A signature over the artifact; the digest is the bundle's unauthenticated hint.
    Message {
        digest: Option<(String, Vec<u8>)>,
        signature: Vec<u8>,
    },
    /// A DSSE envelope with exactly one signature.
    Dsse {
        payload_type: String,
        payload: Vec<u8>,
        signature: Vec<u8>,
    },
}

/// A Merkle inclusion proof with its checkpoint.
#[derive(Debug, Clone)]
pub(crate) struct InclusionProof {
    pub log_index: i64,
    pub root_hash: Vec<u8>,
    pub tree_size: i64,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: Option<String>,
}

/// One transparency-log entry.
#[derive(Debug, Clone)]
pub(crate) struct TlogEntry {
    pub log_index: i64,
    pub log_id: Vec<u8>,
    pub kind: String,
    pub kind_version: String,
    pub integrated_time: i64,
    pub set: Option<Vec<u8>>,
    pub proof: Option<InclusionProof>,
    pub body: Vec<u8>,
}

/// A parsed bundle.
#[derive(Debug, Clone)]
pub(crate) struct Bundle {
    pub version: Version,
    pub material: Material,
    pub content: Content,
    pub tlog_entries: Vec<TlogEntry>,
    /// DER of each RFC 3161 timestamp.
    pub timestamps: Vec<Vec<u8>>,
}

fn malformed(msg: impl Into<String>) -> BundleError {
    BundleError::new(FailureClass::Malformed, msg)
}

/// Base64 as protobuf JSON reads it (Go): standard or URL alphabet, padded or not, line
/// breaks ignored.
pub(crate) fn b64(s: &str, what: &str) -> Result<Vec<u8>, BundleError> {
    let s: String = s.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    let url = s.contains(['-', '_']);
    let padded = s.len() % 4 == 0;
    let engine = match (url, padded) {
        (false, true) => &STANDARD,
        (false, false) => &STANDARD_NO_PAD,
        (true, true) => &URL_SAFE,
        (true, false) => &URL_SAFE_NO_PAD,
    };
    engine
        .decode(s.as_bytes())
        .map_err(|e| malformed(format!("{what} is not valid base64: {e}")))
}

/// An int64 field, which protobuf JSON writes as a string (numbers are accepted too).
fn int64(v: Option<&Value>, what: &str) -> Result<i64, BundleError> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| malformed(format!("{what} is not an integer: {s:?}"))),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| malformed(format!("{what} is not an integer: {n}"))),
        Some(other) => Err(malformed(format!("{what} is not an integer: {other}"))),
    }
}

fn str_at<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn bytes_at(v: &Value, pointer: &str, what: &str) -> Result<Vec<u8>, BundleError> {
    let s = str_at(v, pointer).ok_or_else(|| malformed(format!("{what} is missing")))?;
    b64(s, what)
}

fn version(media_type: &str) -> Result<Version, BundleError> {
    match media_type {
        "application/vnd.dev.sigstore.bundle+json;version=0.1" => Ok(Version::V01),
        "application/vnd.dev.sigstore.bundle+json;version=0.2" => Ok(Version::V02),
        "application/vnd.dev.sigstore.bundle+json;version=0.3"
        | "application/vnd.dev.sigstore.bundle.v0.3+json" => Ok(Version::V03),
        other => Err(BundleError::new(
            FailureClass::UnsupportedVersion,
            format!("unknown bundle media type {other:?} (0.1, 0.2 and 0.3 are supported)"),
        )),
    }
}

fn material(vm: &Value) -> Result<Material, BundleError> {
    if let Some(chain) = vm.get("x509CertificateChain") {
        let certs = chain
            .get("certificates")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let Some(leaf) = certs.first() else {
            return Err(BundleError::new(
                FailureClass::Material,
                "the bundle's certificate chain is empty",
            ));
        };
        for (i, c) in certs.iter().enumerate().skip(1) {
            let der = bytes_at(c, "/rawBytes", "chain certificate")?;
            if super::der::is_self_issued(&der) {
                return Err(BundleError::new(
                    FailureClass::Material,
                    format!(
                        "the bundle's certificate chain contains a root certificate \
                         (certificate {}): trust comes from the trust root only",
                        i + 1
                    ),
                ));
            }
        }
        return Ok(Material::Certificate(bytes_at(
            leaf,
            "/rawBytes",
            "certificate",
        )?));
    }
    if let Some(cert) = vm.get("certificate") {
        return Ok(Material::Certificate(bytes_at(
            cert,
            "/rawBytes",
            "certificate",
        )?));
    }
    if vm.get("publicKey").is_some() {
        return Ok(Material::PublicKey);
    }
    Err(malformed(
        "verificationMaterial has no certificate, certificate chain or public key",
    ))
}

fn content(b: &Value) -> Result<Content, BundleError> {
    match (b.get("messageSignature"), b.get("dsseEnvelope")) {
        (Some(m), None) => {
            let digest = match m.get("messageDigest") {
                Some(d) => Some((
                    str_at(d, "/algorithm").unwrap_or_default().to_owned(),
                    bytes_at(d, "/digest", "messageDigest.digest")?,
                )),
                None => None,
            };
            Ok(Content::Message {
                digest,
                signature: bytes_at(m, "/signature", "messageSignature.signature")?,
            })
        }
        (None, Some(e)) => {
            let sigs = e
                .get("signatures")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let [sig] = sigs else {
                return Err(malformed(format!(
                    "the DSSE envelope has {} signatures, exactly one is required",
                    sigs.len()
                )));
            };
            Ok(Content::Dsse {
                payload_type: str_at(e, "/payloadType").unwrap_or_default().to_owned(),
                payload: bytes_at(e, "/payload", "dsseEnvelope.payload")?,
                signature: bytes_at(sig, "/sig", "dsseEnvelope signature")?,
            })
        }
        _ => Err(malformed(
            "a bundle needs exactly one of messageSignature and dsseEnvelope",
        )),
    }
}

fn tlog_entry(t: &Value) -> Result<TlogEntry, BundleError> {
    let proof = match t.get("inclusionProof") {
        Some(p) => Some(InclusionProof {
            log_index: int64(p.get("logIndex"), "inclusionProof.logIndex")?,
            root_hash: bytes_at(p, "/rootHash", "inclusionProof.rootHash")?,
            tree_size: int64(p.get("treeSize"), "inclusionProof.treeSize")?,
            hashes: p
                .get("hashes")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|h| b64(h.as_str().unwrap_or("!"), "inclusionProof hash"))
                .collect::<Result<_, _>>()?,
            checkpoint: str_at(p, "/checkpoint/envelope").map(str::to_owned),
        }),
        None => None,
    };
    Ok(TlogEntry {
        log_index: int64(t.get("logIndex"), "logIndex")?,
        log_id: bytes_at(t, "/logId/keyId", "logId.keyId")?,
        kind: str_at(t, "/kindVersion/kind")
            .unwrap_or_default()
            .to_owned(),
        kind_version: str_at(t, "/kindVersion/version")
            .unwrap_or_default()
            .to_owned(),
        integrated_time: int64(t.get("integratedTime"), "integratedTime")?,
        set: match str_at(t, "/inclusionPromise/signedEntryTimestamp") {
            Some(s) => Some(b64(s, "signedEntryTimestamp")?),
            None => None,
        },
        proof,
        body: bytes_at(t, "/canonicalizedBody", "canonicalizedBody")?,
    })
}

/// Parses a bundle; every error is [`FailureClass::Malformed`], [`FailureClass::Material`]
/// or [`FailureClass::UnsupportedVersion`].
pub(crate) fn parse(json: &[u8]) -> Result<Bundle, BundleError> {
    let b: Value = serde_json::from_slice(json).map_err(|e| malformed(format!("not JSON: {e}")))?;
    let version = version(str_at(&b, "/mediaType").unwrap_or_default())?;
    let vm = b
        .get("verificationMaterial")
        .ok_or_else(|| malformed("verificationMaterial is missing"))?;
    let tlog_entries = vm
        .get("tlogEntries")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(tlog_entry)
        .collect::<Result<Vec<_>, _>>()?;
    let timestamps = vm
        .pointer("/timestampVerificationData/rfc3161Timestamps")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|t| bytes_at(t, "/signedTimestamp", "rfc3161 signedTimestamp"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Bundle {
        version,
        material: material(vm)?,
        content: content(&b)?,
        tlog_entries,
        timestamps,
    })
}
