//! `attestors[]` sets and their entries: keys, keyless, certificates, nested sets.

use regex::Regex;

use super::no_variables;
use super::verify_images::check_repository;
use crate::decode::{Errors, Node, Obj, Path};
use crate::pem_material::{parse_certificates, parse_public_keys, Certificate, PublicKey};
use crate::{
    Attestor, AttestorKind, AttestorSet, CertificatesAttestor, CtLog, KeySource, KeylessAttestor,
    KeysAttestor, Rekor, SecretReference, SignatureAlgorithm,
};

/// Fulcio certificate extensions that `additionalExtensions` may name (cosign's
/// `CertExtensions` fields, v1 and v2 OIDs).
pub(crate) const FULCIO_EXTENSIONS: &[&str] = &[
    "githubWorkflowTrigger",
    "githubWorkflowSha",
    "githubWorkflowName",
    "githubWorkflowRepository",
    "githubWorkflowRef",
    "issuer",
    "buildSignerURI",
    "buildSignerDigest",
    "runnerEnvironment",
    "sourceRepositoryURI",
    "sourceRepositoryDigest",
    "sourceRepositoryRef",
    "sourceRepositoryIdentifier",
    "sourceRepositoryOwnerURI",
    "sourceRepositoryOwnerIdentifier",
    "buildConfigURI",
    "buildConfigDigest",
    "buildTrigger",
    "runInvocationURI",
    "sourceRepositoryVisibilityAtSigning",
];

pub(super) fn read_attestor_sets(
    node: Node<'_, '_>,
    errs: &mut Errors,
) -> Option<Vec<AttestorSet>> {
    node.list(errs, read_attestor_set)
}

fn read_attestor_set(node: Node<'_, '_>, errs: &mut Errors) -> Option<AttestorSet> {
    let mut obj = node.object(errs)?;
    let path = obj.path.clone();
    let count = obj.int("count", errs);
    let entries = obj.with("entries", errs, |n, errs| n.list(errs, read_attestor));
    let decoded = entries.is_some() || !obj.has("entries");
    let entries = entries.unwrap_or_default();
    obj.finish(errs, &[]);
    if entries.is_empty() && decoded {
        errs.push(&path.field("entries"), "at least one entry is required");
    }
    // Several PEM keys in one `publicKeys` count as that many entries, as in Kyverno.
    let available: usize = entries.iter().map(expanded_len).sum();
    let count = match count {
        Some(n) if n < 0 => {
            errs.push(&path.field("count"), format!("{n} is negative"));
            None
        }
        Some(n) if decoded && n as usize > available => {
            errs.push(
                &path.field("count"),
                format!("{n} exceeds the number of entries ({available})"),
            );
            None
        }
        Some(n) => Some(n as usize),
        None => None,
    };
    Some(AttestorSet { count, entries })
}

fn expanded_len(a: &Attestor) -> usize {
    match &a.kind {
        AttestorKind::Keys(KeysAttestor {
            source: KeySource::PublicKeys(keys),
            ..
        }) => keys.len(),
        _ => 1,
    }
}

fn read_attestor(node: Node<'_, '_>, errs: &mut Errors) -> Option<Attestor> {
    let mut obj = node.object(errs)?;
    let path = obj.path.clone();
    let algorithm = read_algorithm(&mut obj, errs);
    let present: Vec<&str> = ["keys", "keyless", "certificates", "attestor"]
        .into_iter()
        .filter(|k| obj.has(k))
        .collect();
    if present.len() != 1 {
        errs.push(
            &path,
            format!(
                "exactly one of keys, keyless, certificates or attestor is required (found {})",
                if present.is_empty() {
                    "none".to_owned()
                } else {
                    present.join(", ")
                }
            ),
        );
    }
    let keys = obj.with("keys", errs, |n, e| read_keys(n, e, algorithm));
    let keyless = obj.with("keyless", errs, read_keyless);
    let certificates = obj.with("certificates", errs, read_certificates);
    let nested = obj.with("attestor", errs, read_attestor_set);
    let annotations = obj.string_map("annotations", errs).unwrap_or_default();
    super::no_variables_in_map(&annotations, &path.field("annotations"), errs);
    let repository = obj.string("repository", errs);
    if let Some(r) = &repository {
        check_repository(r, &path.field("repository"), errs);
    }
    obj.finish(errs, &[]);
    if algorithm.is_some() && keys.is_none() && present.len() == 1 {
        errs.push(
            &path.field("signatureAlgorithm"),
            "applies to keys attestors only",
        );
    }
    let kind = match (keys, keyless, certificates, nested) {
        (Some(k), None, None, None) => AttestorKind::Keys(k),
        (None, Some(k), None, None) => AttestorKind::Keyless(k),
        (None, None, Some(c), None) => AttestorKind::Certificates(c),
        (None, None, None, Some(n)) => AttestorKind::Nested(n),
        _ => return None,
    };
    Some(Attestor {
        kind,
        annotations,
        repository,
    })
}

fn parse_algorithm(s: &str) -> Option<SignatureAlgorithm> {
    Some(match s {
        "sha224" => SignatureAlgorithm::Sha224,
        "sha256" => SignatureAlgorithm::Sha256,
        "sha384" => SignatureAlgorithm::Sha384,
        "sha512" => SignatureAlgorithm::Sha512,
        _ => return None,
    })
}

fn read_algorithm(obj: &mut Obj<'_>, errs: &mut Errors) -> Option<SignatureAlgorithm> {
    let path = obj.path.field("signatureAlgorithm");
    let s = obj.string("signatureAlgorithm", errs)?;
    let parsed = parse_algorithm(&s);
    if parsed.is_none() {
        errs.push(
            &path,
            format!("{s:?} is not valid: expected sha224, sha256, sha384 or sha512"),
        );
    }
    parsed
}

fn read_keys(
    node: Node<'_, '_>,
    errs: &mut Errors,
    attestor_algorithm: Option<SignatureAlgorithm>,
) -> Option<KeysAttestor> {
    let mut obj = node.object(errs)?;
    let path = obj.path.clone();
    let own_algorithm = read_algorithm(&mut obj, errs);
    let signature_algorithm = match (own_algorithm, attestor_algorithm) {
        (Some(a), Some(b)) if a != b => {
            errs.push(
                &path.field("signatureAlgorithm"),
                "contradicts the attestor's signatureAlgorithm",
            );
            a
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => SignatureAlgorithm::Sha256,
    };
    let public_keys = obj.with("publicKeys", errs, |n, errs| {
        let text = n.string(errs)?;
        read_public_keys(&text, n.path, errs)
    });
    let secret = obj.with("secret", errs, read_secret);
    let sources = usize::from(obj.has("publicKeys"))
        + usize::from(obj.has("secret"))
        + usize::from(obj.has("kms"));
    if sources != 1 {
        errs.push(
            &path,
            "exactly one of publicKeys, secret or kms is required",
        );
    }
    let rekor = obj.with("rekor", errs, read_rekor);
    let ctlog = obj.with("ctlog", errs, read_ctlog);
    obj.finish(
        errs,
        &[(
            "kms",
            "KMS keys: store the public key in Signet and name it with secret",
        )],
    );
    let source = match (public_keys, secret) {
        (Some(k), None) => k,
        (None, Some(s)) => KeySource::Secret(s),
        _ => return None,
    };
    Some(KeysAttestor {
        source,
        signature_algorithm,
        rekor,
        ctlog,
    })
}

/// `publicKeys` holds PEM keys, or `k8s://namespace/name` naming a stored key.
fn read_public_keys(text: &str, path: &Path, errs: &mut Errors) -> Option<KeySource> {
    if !no_variables(text, path, errs) {
        return None;
    }
    if let Some(rest) = text.trim().strip_prefix("k8s://") {
        return match rest.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
                Some(KeySource::Secret(SecretReference {
                    name: name.to_owned(),
                    namespace: ns.to_owned(),
                }))
            }
            _ => {
                errs.push(path, format!("{text:?} is not k8s://namespace/name"));
                None
            }
        };
    }
    match parse_public_keys(text) {
        Ok(keys) => Some(KeySource::PublicKeys(keys)),
        Err(e) => {
            errs.push(path, format!("not a valid public key: {e}"));
            None
        }
    }
}

fn read_secret(node: Node<'_, '_>, errs: &mut Errors) -> Option<SecretReference> {
    let mut obj = node.object(errs)?;
    let field = |obj: &mut Obj<'_>, key: &str, errs: &mut Errors| {
        let v = obj.string(key, errs);
        match &v {
            Some(s) if !s.is_empty() => {
                no_variables(s, &obj.path.field(key), errs);
            }
            _ => errs.push(&obj.path.field(key), "required"),
        }
        v
    };
    let name = field(&mut obj, "name", errs);
    let namespace = field(&mut obj, "namespace", errs);
    obj.finish(errs, &[]);
    Some(SecretReference {
        name: name?,
        namespace: namespace?,
    })
}

fn read_keyless(node: Node<'_, '_>, errs: &mut Errors) -> Option<KeylessAttestor> {
    let mut obj = node.object(errs)?;
    let path = obj.path.clone();
    let subject = obj.string("subject", errs);
    let issuer = obj.string("issuer", errs);
    let subject_regexp = read_regex(&mut obj, "subjectRegExp", errs);
    let issuer_regexp = read_regex(&mut obj, "issuerRegExp", errs);
    for (key, value) in [("subject", &subject), ("issuer", &issuer)] {
        if let Some(v) = value {
            no_variables(v, &path.field(key), errs);
        }
    }
    let roots = obj
        .with("roots", errs, |n, errs| read_certs(n, errs))
        .unwrap_or_default();
    let ext_path = path.field("additionalExtensions");
    let additional_extensions = obj
        .string_map("additionalExtensions", errs)
        .unwrap_or_default();
    for (name, value) in &additional_extensions {
        let at = ext_path.field(name);
        if !no_variables(name, &at, errs) || !no_variables(value, &at, errs) {
            continue;
        }
        if !FULCIO_EXTENSIONS.contains(&name.as_str()) {
            errs.push(
                &ext_path.field(name),
                format!(
                    "unknown Fulcio extension: expected one of {}",
                    FULCIO_EXTENSIONS.join(", ")
                ),
            );
        }
    }
    let rekor = obj.with("rekor", errs, read_rekor);
    let ctlog = obj.with("ctlog", errs, read_ctlog);
    if !obj.has("rekor") && !obj.has("roots") {
        errs.push(
            &path,
            "either rekor or roots is required, as Kyverno requires",
        );
    }
    obj.finish(errs, &[]);
    Some(KeylessAttestor {
        subject,
        subject_regexp: subject_regexp?,
        issuer,
        issuer_regexp: issuer_regexp?,
        roots,
        additional_extensions,
        rekor,
        ctlog,
    })
}

/// Outer `None`: invalid; inner `None`: absent.
fn read_regex(obj: &mut Obj<'_>, key: &str, errs: &mut Errors) -> Option<Option<Regex>> {
    let path = obj.path.field(key);
    let Some(s) = obj.string(key, errs) else {
        return Some(None);
    };
    if !no_variables(&s, &path, errs) {
        return None;
    }
    match Regex::new(&s) {
        Ok(re) => Some(Some(re)),
        Err(e) => {
            errs.push(&path, format!("invalid regular expression: {e}"));
            None
        }
    }
}

fn read_certs(node: Node<'_, '_>, errs: &mut Errors) -> Option<Vec<Certificate>> {
    let text = node.string(errs)?;
    if !no_variables(&text, node.path, errs) {
        return None;
    }
    match parse_certificates(&text) {
        Ok(c) => Some(c),
        Err(e) => {
            errs.push(node.path, format!("not a valid certificate: {e}"));
            None
        }
    }
}

fn read_key(node: Node<'_, '_>, errs: &mut Errors) -> Option<PublicKey> {
    let text = node.string(errs)?;
    if !no_variables(&text, node.path, errs) {
        return None;
    }
    match parse_public_keys(&text) {
        Ok(mut keys) if keys.len() == 1 => keys.pop(),
        Ok(keys) => {
            errs.push(
                node.path,
                format!("expected one public key, found {}", keys.len()),
            );
            None
        }
        Err(e) => {
            errs.push(node.path, format!("not a valid public key: {e}"));
            None
        }
    }
}

fn read_certificates(node: Node<'_, '_>, errs: &mut Errors) -> Option<CertificatesAttestor> {
    let mut obj = node.object(errs)?;
    let cert = obj.with("cert", errs, |n, errs| {
        let mut certs = read_certs(n, errs)?;
        if certs.len() != 1 {
            errs.push(
                n.path,
                format!("expected one certificate, found {}", certs.len()),
            );
            return None;
        }
        certs.pop()
    });
    let cert_chain = obj.with("certChain", errs, read_certs).unwrap_or_default();
    if !obj.has("cert") && !obj.has("certChain") {
        errs.push(&obj.path, "cert or certChain is required");
    }
    let rekor = obj.with("rekor", errs, read_rekor);
    let ctlog = obj.with("ctlog", errs, read_ctlog);
    obj.finish(errs, &[]);
    Some(CertificatesAttestor {
        cert,
        cert_chain,
        rekor,
        ctlog,
    })
}

fn read_rekor(node: Node<'_, '_>, errs: &mut Errors) -> Option<Rekor> {
    let mut obj = node.object(errs)?;
    let url = obj.string("url", errs);
    let url_path = obj.path.field("url");
    match &url {
        Some(u) if !no_variables(u, &url_path, errs) => {}
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => {}
        Some(u) => errs.push(
            &obj.path.field("url"),
            format!("{u:?} is not an http(s) URL"),
        ),
        None => errs.push(&obj.path.field("url"), "required, as Kyverno requires"),
    }
    let pubkey = obj.with("pubkey", errs, read_key);
    let ignore_tlog = obj.bool("ignoreTlog", errs).unwrap_or(false);
    obj.finish(errs, &[]);
    Some(Rekor {
        url: url?,
        pubkey,
        ignore_tlog,
    })
}

fn read_ctlog(node: Node<'_, '_>, errs: &mut Errors) -> Option<CtLog> {
    let mut obj = node.object(errs)?;
    let ignore_sct = obj.bool("ignoreSCT", errs).unwrap_or(false);
    let pubkey = obj.with("pubkey", errs, read_key);
    let tsa_cert_chain = obj
        .with("tsaCertChain", errs, read_certs)
        .unwrap_or_default();
    obj.finish(errs, &[]);
    Some(CtLog {
        ignore_sct,
        pubkey,
        tsa_cert_chain,
    })
}
