//! Signed certificate timestamps embedded in a certificate (RFC 6962 §3.3): each SCT is a
//! CT log's signature over the precertificate, which is the certificate's `TBSCertificate`
//! without the SCT list extension, bound to the issuer's key hash (§3.2). As cosign's
//! `VerifyEmbeddedSCT` (Kyverno's path), every embedded SCT must come from a trusted log
//! and verify.

use aws_lc_rs::digest;
use signet_policy::SignatureAlgorithm;
use x509_parser::extensions::ParsedExtension;

use super::{der, parse};
use crate::trust::TransparencyLog;

/// The SCT list extension, `1.3.6.1.4.1.11129.2.4.2`, as a DER OBJECT IDENTIFIER.
const SCT_LIST_OID_DER: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02,
];
const SCT_LIST_OID: &str = "1.3.6.1.4.1.11129.2.4.2";

/// Whether the certificate carries an embedded SCT list.
pub fn has_embedded_scts(leaf_der: &[u8]) -> Result<bool, String> {
    let cert = parse(leaf_der, "signing certificate")?;
    Ok(cert
        .extensions()
        .iter()
        .any(|e| e.oid.to_id_string() == SCT_LIST_OID))
}

/// Checks every SCT embedded in `leaf_der` (issued by `issuer_der`) against `ct_logs`,
/// which are found by log id (SHA-256 of the log key). Fails when the certificate has no
/// SCT, an SCT names an unknown log, or a signature does not verify.
pub fn verify_embedded_scts(
    leaf_der: &[u8],
    issuer_der: &[u8],
    ct_logs: &[TransparencyLog],
) -> Result<(), String> {
    let leaf = parse(leaf_der, "signing certificate")?;
    let issuer = parse(issuer_der, "issuing certificate")?;
    let extension = leaf
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == SCT_LIST_OID)
        .ok_or("the certificate has no embedded SCT (set ctlog.ignoreSCT to accept certificates that were not logged in certificate transparency)")?;
    let scts = match extension.parsed_extension() {
        ParsedExtension::SCT(list) if !list.is_empty() => list,
        _ => return Err("the certificate's SCT list is malformed".into()),
    };
    if ct_logs.is_empty() {
        return Err("no certificate-transparency log key is configured (set ctlog.pubkey, or ctlog.ignoreSCT)".into());
    }
    let precert = der::tbs_without_extension(leaf.tbs_certificate.as_ref(), SCT_LIST_OID_DER)
        .ok_or("cannot rebuild the precertificate from the certificate")?;
    let precert_len = u32::try_from(precert.len())
        .ok()
        .filter(|&n| n < 1 << 24)
        .ok_or("the certificate is too large for an SCT")?;
    let issuer_key_hash = digest::digest(&digest::SHA256, issuer.public_key().raw);
    for sct in scts {
        let log = ct_logs
            .iter()
            .find(|l| l.log_id.as_slice() == sct.id.key_id.as_slice())
            .ok_or_else(|| {
                format!(
                    "the certificate's SCT is from an untrusted CT log {}",
                    hex::encode(sct.id.key_id)
                )
            })?;
        if sct.version.0 != 0 {
            return Err(format!("unsupported SCT version {}", sct.version.0));
        }
        let hash = match sct.signature.hash_alg_id {
            4 => SignatureAlgorithm::Sha256,
            5 => SignatureAlgorithm::Sha384,
            6 => SignatureAlgorithm::Sha512,
            other => return Err(format!("unsupported SCT hash algorithm {other}")),
        };
        let extensions = sct.extensions.0;
        let extensions_len =
            u16::try_from(extensions.len()).map_err(|_| "SCT extensions too long".to_owned())?;
        // RFC 6962 §3.2: digitally-signed struct of a precert_entry.
        let mut signed = Vec::with_capacity(precert.len() + extensions.len() + 48);
        signed.push(0); // version v1
        signed.push(0); // signature_type certificate_timestamp
        signed.extend_from_slice(&sct.timestamp.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes()); // entry_type precert_entry
        signed.extend_from_slice(issuer_key_hash.as_ref());
        signed.extend_from_slice(&precert_len.to_be_bytes()[1..]);
        signed.extend_from_slice(&precert);
        signed.extend_from_slice(&extensions_len.to_be_bytes());
        signed.extend_from_slice(extensions);
        log.key
            .verify(&signed, sct.signature.data, hash)
            .map_err(|e| {
                format!(
                    "the certificate's SCT does not verify with the key of CT log {}: {e}",
                    log_name(log)
                )
            })?;
    }
    Ok(())
}

fn log_name(log: &TransparencyLog) -> String {
    if log.base_url.is_empty() {
        hex::encode(&log.log_id)
    } else {
        log.base_url.clone()
    }
}
