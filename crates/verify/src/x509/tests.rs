//! Chains, identities and SCTs of certificates made with rcgen.

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};

use super::*;
use crate::crypto::SigningKey;
use crate::trust::TransparencyLog;

/// 2027-01-15, inside the default validity of rcgen certificates.
const AT: i64 = 1_800_000_000;

fn ca_params(name: &str, path_len: Option<u8>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

fn leaf_params(extra: Vec<CustomExtension>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.serial_number = Some(SerialNumber::from_slice(&[7]));
    p.subject_alt_names = vec![SanType::URI(
        "https://github.com/company/workflows/build.yml@refs/heads/main"
            .try_into()
            .expect("uri"),
    )];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    p.custom_extensions = vec![
        CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 57264, 1, 1],
            b"https://token.actions.githubusercontent.com".to_vec(),
        ),
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 57264, 1, 2], b"push".to_vec()),
        CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 57264, 1, 12],
            utf8("https://github.com/company/app"),
        ),
    ];
    p.custom_extensions.extend(extra);
    p
}

fn utf8(s: &str) -> Vec<u8> {
    let mut v = vec![0x0c, s.len() as u8];
    v.extend_from_slice(s.as_bytes());
    v
}

struct Pki {
    root: Vec<u8>,
    intermediate: Vec<u8>,
    intermediate_issuer: Issuer<'static, KeyPair>,
}

fn pki(root_path_len: Option<u8>) -> Pki {
    let root_key = KeyPair::generate().expect("key");
    let root_params = ca_params("Test Root", root_path_len);
    let root = root_params.self_signed(&root_key).expect("root");
    let root_issuer = Issuer::new(root_params, root_key);
    let inter_key = KeyPair::generate().expect("key");
    let inter_params = ca_params("Test Intermediate", None);
    let intermediate = inter_params
        .signed_by(&inter_key, &root_issuer)
        .expect("intermediate");
    Pki {
        root: root.der().to_vec(),
        intermediate: intermediate.der().to_vec(),
        intermediate_issuer: Issuer::new(inter_params, inter_key),
    }
}

fn leaf(pki: &Pki, params: &CertificateParams, key: &KeyPair) -> Vec<u8> {
    params
        .signed_by(key, &pki.intermediate_issuer)
        .expect("leaf")
        .der()
        .to_vec()
}

#[test]
fn a_leaf_chains_through_its_intermediate_to_the_root() {
    let pki = pki(None);
    let leaf = leaf(
        &pki,
        &leaf_params(vec![]),
        &KeyPair::generate().expect("key"),
    );
    let chain = build_chain(
        &leaf,
        std::slice::from_ref(&pki.intermediate),
        std::slice::from_ref(&pki.root),
        AT,
    )
    .expect("chains");
    assert_eq!(
        chain,
        vec![leaf.clone(), pki.intermediate.clone(), pki.root.clone()]
    );
    // Without the intermediate, or with another root, there is no path.
    let err =
        verify_chain(&leaf, &[], std::slice::from_ref(&pki.root), AT).expect_err("no intermediate");
    assert!(err.contains("Test Intermediate"), "{err}");
    let other = self::pki(None);
    let err = verify_chain(
        &leaf,
        std::slice::from_ref(&pki.intermediate),
        &[other.root],
        AT,
    )
    .expect_err("wrong root");
    assert!(err.contains("does not verify"), "{err}");
    // The intermediate itself may be the trust anchor (a policy's roots hold any CA).
    verify_chain(&leaf, &[], std::slice::from_ref(&pki.intermediate), AT)
        .expect("intermediate as anchor");
}

#[test]
fn validity_usage_and_path_length_are_enforced() {
    let pki = pki(None);
    let key = KeyPair::generate().expect("key");
    let mut expired = leaf_params(vec![]);
    expired.not_after = date_time_ymd(2020, 1, 1);
    let cert = leaf(&pki, &expired, &key);
    let err = verify_chain(
        &cert,
        std::slice::from_ref(&pki.intermediate),
        std::slice::from_ref(&pki.root),
        AT,
    )
    .expect_err("expired");
    assert!(
        err.contains("signing certificate expired at 2020-01-01T00:00:00Z"),
        "{err}"
    );

    let mut server = leaf_params(vec![]);
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = leaf(&pki, &server, &key);
    let err = verify_chain(
        &cert,
        std::slice::from_ref(&pki.intermediate),
        std::slice::from_ref(&pki.root),
        AT,
    )
    .expect_err("server auth only");
    assert!(err.contains("does not allow code signing"), "{err}");

    // A root allowing no intermediate below it.
    let strict = self::pki(Some(0));
    let cert = leaf(&strict, &leaf_params(vec![]), &key);
    let err = verify_chain(
        &cert,
        std::slice::from_ref(&strict.intermediate),
        std::slice::from_ref(&strict.root),
        AT,
    )
    .expect_err("path length");
    assert!(err.contains("allows 0 intermediates"), "{err}");

    // A leaf cannot act as an intermediate.
    let fake_ca = leaf(&pki, &leaf_params(vec![]), &key);
    let err =
        verify_chain(&cert, &[fake_ca], std::slice::from_ref(&pki.root), AT).expect_err("not a CA");
    assert!(!err.is_empty());
}

#[test]
fn identity_reads_sans_issuer_and_fulcio_extensions() {
    let pki = pki(None);
    let mut params = leaf_params(vec![CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 4, 1, 57264, 1, 8],
        utf8("https://issuer.v2"),
    )]);
    params.subject_alt_names.push(SanType::Rfc822Name(
        "dev@example.com".try_into().expect("email"),
    ));
    let cert = leaf(&pki, &params, &KeyPair::generate().expect("key"));
    let id = identity(&cert).expect("identity");
    assert_eq!(
        id.sans,
        vec![
            "dev@example.com".to_owned(),
            "https://github.com/company/workflows/build.yml@refs/heads/main".to_owned()
        ],
        "emails before URIs, as cosign lists them"
    );
    // The v1 issuer wins over the v2 one, as cosign's GetIssuer reads only v1.
    assert_eq!(
        id.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(
        id.extensions["issuer"],
        "https://token.actions.githubusercontent.com"
    );
    assert_eq!(id.extensions["githubWorkflowTrigger"], "push");
    assert_eq!(
        id.extensions["sourceRepositoryURI"],
        "https://github.com/company/app"
    );
    assert!(id.not_before < AT && AT < id.not_after);
}

/// An SCT list extension for a precertificate TBS, signed by `log`.
fn sct_extension(log: &SigningKey, precert_tbs: &[u8], issuer_spki: &[u8]) -> CustomExtension {
    let log_id = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        log.verification_key().expect("key").spki_der(),
    );
    let issuer_hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, issuer_spki);
    let timestamp: u64 = 1_700_000_000_000;
    let mut signed = vec![0, 0];
    signed.extend_from_slice(&timestamp.to_be_bytes());
    signed.extend_from_slice(&[0, 1]);
    signed.extend_from_slice(issuer_hash.as_ref());
    signed.extend_from_slice(&(precert_tbs.len() as u32).to_be_bytes()[1..]);
    signed.extend_from_slice(precert_tbs);
    signed.extend_from_slice(&[0, 0]);
    let sig = log.sign(&signed).expect("sign");
    let mut sct = vec![0];
    sct.extend_from_slice(log_id.as_ref());
    sct.extend_from_slice(&timestamp.to_be_bytes());
    sct.extend_from_slice(&[0, 0, 4, 3]);
    sct.extend_from_slice(&(sig.len() as u16).to_be_bytes());
    sct.extend_from_slice(&sig);
    let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
    list.extend_from_slice(&(sct.len() as u16).to_be_bytes());
    list.extend_from_slice(&sct);
    CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2],
        der::encode(0x04, &list),
    )
}

fn ct_log(key: &SigningKey) -> TransparencyLog {
    let key = key.verification_key().expect("key");
    // A CT log id is the SHA-256 of its key, as a Rekor v1 log id.
    let mut logs = crate::trust::TrustRoot::with_rekor_key(key, "https://ct.test").tlogs;
    logs.remove(0)
}

#[test]
fn embedded_scts_verify_against_the_precertificate() {
    let pki = pki(None);
    let key = KeyPair::generate().expect("key");
    let precert = leaf(&pki, &leaf_params(vec![]), &key);
    let precert_tbs = parse(&precert, "precert")
        .expect("parse")
        .tbs_certificate
        .as_ref()
        .to_vec();
    let issuer_spki = parse(&pki.intermediate, "ca")
        .expect("parse")
        .public_key()
        .raw
        .to_vec();
    let log = SigningKey::generate().expect("log key");
    let with_sct = leaf(
        &pki,
        &leaf_params(vec![sct_extension(&log, &precert_tbs, &issuer_spki)]),
        &key,
    );
    assert!(has_embedded_scts(&with_sct).expect("parse"));
    assert!(!has_embedded_scts(&precert).expect("parse"));
    verify_embedded_scts(&with_sct, &pki.intermediate, &[ct_log(&log)]).expect("valid SCT");

    let stranger = SigningKey::generate().expect("key");
    let err = verify_embedded_scts(&with_sct, &pki.intermediate, &[ct_log(&stranger)])
        .expect_err("unknown log");
    assert!(err.contains("untrusted CT log"), "{err}");
    // The issuer key is bound into the SCT.
    let other = self::pki(None);
    let err = verify_embedded_scts(&with_sct, &other.intermediate, &[ct_log(&log)])
        .expect_err("wrong issuer");
    assert!(err.contains("does not verify"), "{err}");
    let err =
        verify_embedded_scts(&precert, &pki.intermediate, &[ct_log(&log)]).expect_err("no SCT");
    assert!(err.contains("ctlog.ignoreSCT"), "{err}");
}

#[test]
fn removing_an_absent_extension_is_refused_and_der_lengths_round_trip() {
    assert!(der::tbs_without_extension(&[0x30, 0x00], &[0x06, 0x01, 0x00]).is_none());
    for len in [0usize, 1, 127, 128, 255, 256, 70_000] {
        let content = vec![0xab; len];
        let encoded = der::encode(0x04, &content);
        let (element, rest) = der::read(&encoded).expect("read back");
        assert!(rest.is_empty());
        assert_eq!(element.content.len(), len);
    }
}
