//! Certificate signers: keyless attestors (a Fulcio-style certificate that chains to the
//! trusted roots and names the expected identity) and certificates attestors (a signing
//! certificate fixed by the policy, or a chain to trust), as Kyverno runs them through
//! cosign (`buildCosignOptions`, `verifyInternal`, `ValidateAndUnpackCert`), then matches
//! identities (`matchCertificateData`).
//!
//! Per signature, in cosign's order: the certificate chains to the roots at its own
//! `notBefore` (`TrustedCert`), its embedded SCTs verify unless `ctlog.ignoreSCT`, the
//! signature verifies with its key, the Rekor entry verifies unless `rekor.ignoreTlog`, and
//! the certificate and its issuers were valid at the entry's integrated time (at the time
//! of checking without a log entry, as cosign); then Kyverno's identity match.

use signet_policy::{CertificatesAttestor, CtLog, KeylessAttestor, Rekor};

use super::identity::match_identity;
use super::tlog::LoggedSigner;
use super::Ctx;
use crate::crypto::VerificationKey;
use crate::trust::{TransparencyLog, TrustRoot};
use crate::x509::{self, time_text};
use crate::Result;

/// What establishes the signer of a certificate leaf.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CertPolicy<'a> {
    /// `keyless`.
    Keyless(&'a KeylessAttestor),
    /// `certificates`.
    Certificates(&'a CertificatesAttestor),
    /// An `attestations[]` entry without attestors: Kyverno adds an empty attestor, which
    /// cosign checks keylessly against the default roots and Rekor keys, with no identity
    /// and SCTs ignored (`opts.IgnoreSCT = true` for attestations in `buildCosignVerifier`).
    AnyIdentity,
}

/// A keyless or certificates leaf and its options.
#[derive(Debug)]
pub(crate) struct CertLeaf<'a> {
    pub(crate) policy: CertPolicy<'a>,
    pub(crate) annotations: &'a [(String, String)],
    pub(crate) repository: Option<&'a str>,
}

impl CertLeaf<'_> {
    /// The leaf's `rekor` (absent: the trust root's logs, entry required).
    pub(crate) fn rekor(&self) -> Option<&Rekor> {
        match self.policy {
            CertPolicy::Keyless(k) => k.rekor.as_ref(),
            CertPolicy::Certificates(c) => c.rekor.as_ref(),
            CertPolicy::AnyIdentity => None,
        }
    }

    fn ctlog(&self) -> Option<&CtLog> {
        match self.policy {
            CertPolicy::Keyless(k) => k.ctlog.as_ref(),
            CertPolicy::Certificates(c) => c.ctlog.as_ref(),
            CertPolicy::AnyIdentity => None,
        }
    }

    fn ignore_sct(&self) -> bool {
        matches!(self.policy, CertPolicy::AnyIdentity) || self.ctlog().is_some_and(|c| c.ignore_sct)
    }
}

/// What one leaf trusts, resolved once before its signatures are read.
#[derive(Debug)]
pub(crate) struct CertCheck<'a> {
    leaf: &'a CertLeaf<'a>,
    /// `certificates.cert`: the policy fixes the signing key.
    fixed_key: Option<VerificationKey>,
    anchors: Vec<Vec<u8>>,
    intermediates: Vec<Vec<u8>>,
    /// The CT logs SCTs must verify against; `None` when SCTs are ignored.
    ctlogs: Option<Vec<TransparencyLog>>,
}

/// The signer of one signature or attestation.
#[derive(Debug)]
pub(crate) struct Signer {
    /// The key that must verify the signature.
    pub(crate) key: VerificationKey,
    /// The certificate the signature carries (DER), if any.
    pub(crate) cert: Option<Vec<u8>>,
    /// The issuers of `cert` up to its root, which must be valid at the signing time too.
    issuers: Vec<Vec<u8>>,
}

fn first_cert(pem: &str, what: &str) -> std::result::Result<Vec<u8>, String> {
    x509::certificates_from_pem(pem)
        .map_err(|e| format!("{what} is unreadable: {e}"))?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{what} holds no certificate"))
}

impl<'a> CertCheck<'a> {
    /// The trust of `leaf`: `Ok(Err(why))` when the policy's own certificates do not hold,
    /// which fails the attestor as in Kyverno (its options cannot be built).
    pub(crate) fn prepare(
        ctx: &Ctx<'_>,
        leaf: &'a CertLeaf<'a>,
    ) -> Result<std::result::Result<Self, String>> {
        let trust = ctx.trust();
        let ctlogs = if leaf.ignore_sct() {
            None
        } else {
            Some(match leaf.ctlog().and_then(|c| c.pubkey.as_ref()) {
                Some(pem) => {
                    let key = VerificationKey::from_public_key(pem)?;
                    // A CT log id is the SHA-256 of its key, like a Rekor v1 log id.
                    TrustRoot::with_rekor_key(key, "ctlog.pubkey").tlogs
                }
                None => trust.ctlogs.clone(),
            })
        };
        // The trust root's CAs: self-signed ones are roots, the others intermediates.
        let (anchors, intermediates) = trust
            .certificate_authorities
            .iter()
            .cloned()
            .partition(|der| x509::is_self_issued(der));
        let mut check = CertCheck {
            leaf,
            fixed_key: None,
            anchors,
            intermediates,
            ctlogs,
        };
        match leaf.policy {
            CertPolicy::Keyless(k) if !k.roots.is_empty() => {
                // Kyverno's `roots` is a pool of trust anchors replacing the defaults.
                check.anchors = k.roots.iter().map(|c| c.der.clone()).collect();
                check.intermediates.clear();
            }
            CertPolicy::Certificates(c) => {
                let chain: Vec<Vec<u8>> = c.cert_chain.iter().map(|c| c.der.clone()).collect();
                match (&c.cert, chain.split_last()) {
                    (Some(cert), None) => {
                        check.fixed_key = Some(VerificationKey::from_certificate_der(&cert.der)?);
                    }
                    (Some(cert), Some((root, intermediates))) => {
                        // cosign's ValidateAndUnpackCertWithChain: the chain's last
                        // certificate is the root, the others intermediates.
                        if let Err(why) =
                            check.validate(&cert.der, intermediates, std::slice::from_ref(root))
                        {
                            return Ok(Err(format!("certificates.cert: {why}")));
                        }
                        check.fixed_key = Some(VerificationKey::from_certificate_der(&cert.der)?);
                    }
                    (None, _) => {
                        // certChain alone: every certificate of it is a trust anchor.
                        check.anchors = chain;
                        check.intermediates.clear();
                    }
                }
            }
            _ => {}
        }
        if check.fixed_key.is_none() && check.anchors.is_empty() {
            return Ok(Err("no Fulcio root certificates to check the signing certificate against: set keyless.roots, or configure a trust root with certificate authorities".into()));
        }
        Ok(Ok(check))
    }

    /// Chains `cert` to `anchors` at its `notBefore` and checks its SCTs; returns the path.
    fn validate(
        &self,
        cert: &[u8],
        intermediates: &[Vec<u8>],
        anchors: &[Vec<u8>],
    ) -> std::result::Result<Vec<Vec<u8>>, String> {
        let (not_before, _) = x509::validity(cert)?;
        let chain = x509::build_chain(cert, intermediates, anchors, not_before)?;
        if let Some(logs) = &self.ctlogs {
            let issuer = chain.get(1).ok_or(
                "the certificate is itself a trusted root, so it has no issuer to check its SCT with (set ctlog.ignoreSCT)",
            )?;
            x509::verify_embedded_scts(cert, issuer, logs)?;
        }
        Ok(chain)
    }

    /// The signer of a signature carrying `cert_pem` and `chain_pem` (cosign's annotations).
    pub(crate) fn signer(
        &self,
        cert_pem: Option<&str>,
        chain_pem: Option<&str>,
    ) -> std::result::Result<Signer, String> {
        let cert = cert_pem
            .map(|pem| first_cert(pem, "the signature's certificate"))
            .transpose()?;
        if let Some(key) = &self.fixed_key {
            if let Some(c) = &cert {
                let carried =
                    VerificationKey::from_certificate_der(c).map_err(|e| e.to_string())?;
                if carried.spki_der() != key.spki_der() {
                    return Err(
                        "the signature's certificate is not for the key of certificates.cert"
                            .into(),
                    );
                }
            }
            return Ok(Signer {
                key: key.clone(),
                cert,
                issuers: Vec::new(),
            });
        }
        let cert = cert.ok_or(
            "the signature carries no certificate (keyless signatures carry one in cosign's dev.sigstore.cosign/certificate annotation)",
        )?;
        // cosign: the chain annotation's last certificate is its root, which is never
        // trusted from there; the ones before it are intermediates.
        let annotated = match chain_pem {
            Some(pem) => x509::certificates_from_pem(pem)
                .map_err(|e| format!("the signature's certificate chain is unreadable: {e}"))?,
            None => Vec::new(),
        };
        let mut intermediates = match annotated.split_last() {
            Some((_, rest)) => rest.to_vec(),
            None => Vec::new(),
        };
        intermediates.extend(self.intermediates.iter().cloned());
        let chain = self.validate(&cert, &intermediates, &self.anchors)?;
        let key = VerificationKey::from_certificate_der(&cert).map_err(|e| e.to_string())?;
        Ok(Signer {
            key,
            issuers: chain.get(1..).unwrap_or_default().to_vec(),
            cert: Some(cert),
        })
    }

    /// Who the Rekor entry must name: the certificate when the signature carries one
    /// (cosign's `keyBytes`), else the key.
    pub(crate) fn logged<'s>(&self, signer: &'s Signer) -> LoggedSigner<'s> {
        match &signer.cert {
            Some(cert) => LoggedSigner::Certificate(cert),
            None => LoggedSigner::Key(signer.key.spki_der()),
        }
    }

    /// cosign's `CheckExpiry`: the certificate and its issuers valid at the integrated time
    /// of the Rekor entry, or now without one.
    pub(crate) fn check_time(
        &self,
        signer: &Signer,
        integrated: Option<i64>,
    ) -> std::result::Result<(), String> {
        let Some(cert) = &signer.cert else {
            return Ok(());
        };
        let at = integrated.unwrap_or_else(|| chrono::Utc::now().timestamp());
        let when = match integrated {
            Some(t) => format!("the Rekor entry's integrated time {}", time_text(t)),
            None => format!("{} (no Rekor entry: rekor.ignoreTlog)", time_text(at)),
        };
        for (i, der) in std::iter::once(cert).chain(&signer.issuers).enumerate() {
            let what = if i == 0 {
                "the signing certificate".to_owned()
            } else {
                format!("issuing CA certificate {i}")
            };
            let (not_before, not_after) = x509::validity(der)?;
            if at > not_after {
                let hint = if integrated.is_none() {
                    "; without a transparency-log entry there is no signed time to show it was valid when signing"
                } else {
                    ""
                };
                return Err(format!(
                    "{what} expired at {}, before {when}{hint}",
                    time_text(not_after)
                ));
            }
            if at < not_before {
                return Err(format!(
                    "{what} is valid only from {}, after {when}",
                    time_text(not_before)
                ));
            }
        }
        Ok(())
    }

    /// Kyverno's identity match for keyless leaves: `None` when the certificate matches
    /// (or the leaf names no identity), else why not.
    pub(crate) fn identity_mismatch(&self, signer: &Signer) -> Option<String> {
        let CertPolicy::Keyless(keyless) = self.leaf.policy else {
            return None;
        };
        match_identity(keyless, signer.cert.as_deref()).err()
    }
}
