//! A private Fulcio-like PKI made with the openssl CLI, as TESTING.md describes: a root CA,
//! an intermediate, and leaf certificates carrying a cosign public key, a signer identity
//! as SAN, the OIDC issuer in Fulcio's extensions `1.1` (raw) and `1.8` (UTF8String) and
//! other Fulcio extensions. A stand-in CT log embeds RFC 6962 SCTs: the leaf's TBS (the
//! precertificate) is signed by the log, the SCT list appended as an extension, and the
//! TBS signed again by the CA with `openssl dgst`. Validity can be rewritten the same way.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use signet_verify::crypto::VerificationKey;

use super::der::{
    der_to_pem, encode, pem_to_der, split_certificate, with_extension, with_validity, SCT_OID,
};
use super::rekor::CtLog;

/// Runs `openssl` with the whitespace-separated `args` in `dir`, panicking with its stderr
/// when it fails. Paths and values must not contain spaces.
pub fn openssl(dir: &Path, args: &str) {
    let out = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A certificate authority: its certificate and key on disk.
pub struct Ca {
    pub dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What a leaf certificate says.
#[derive(Clone)]
pub struct LeafSpec {
    /// openssl `subjectAltName` value, e.g. `URI:https://…` or `email:dev@example.com`.
    pub san: String,
    /// The OIDC issuer (`1.3.6.1.4.1.57264.1.1` raw and `.1.8` UTF8String).
    pub issuer: String,
    /// Further Fulcio extensions: `(arc, value)` under `1.3.6.1.4.1.57264.1.`; arcs 2–6 are
    /// written raw (v1), the others as UTF8String (v2).
    pub extensions: Vec<(u32, String)>,
    /// `(not_before, not_after)` Unix seconds; from an hour ago for a day when `None`.
    pub validity: Option<(i64, i64)>,
}

impl LeafSpec {
    /// A GitHub Actions workflow identity.
    pub fn github(workflow_uri: &str) -> LeafSpec {
        LeafSpec {
            san: format!("URI:{workflow_uri}"),
            issuer: "https://token.actions.githubusercontent.com".into(),
            extensions: vec![
                (2, "push".into()),
                (3, "a1b2c3".into()),
                (5, "company/app".into()),
                (6, "refs/heads/main".into()),
                (12, "https://github.com/company/app".into()),
            ],
            validity: None,
        }
    }
}

/// A leaf certificate.
pub struct Leaf {
    pub path: PathBuf,
    pub der: Vec<u8>,
    pub pem: String,
}

impl Ca {
    /// A self-signed root CA in `dir/name` (`name` without spaces).
    pub fn root(dir: &Path, name: &str) -> Ca {
        let ca = Ca::create(dir.join(name), name);
        openssl(&ca.dir, &format!(
            "req -x509 -new -key ca.key -subj /O=Signet-Test/CN={name} -days 3650 \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
             -out ca.pem"
        ));
        ca.backdate(&ca);
        ca
    }

    /// An intermediate CA issued by this one, limited to issuing code-signing leaves.
    pub fn intermediate(&self, name: &str) -> Ca {
        let ca = Ca::create(self.dir.join(name), name);
        openssl(
            &ca.dir,
            &format!("req -new -key ca.key -subj /O=Signet-Test/CN={name} -out ca.csr"),
        );
        let ext = "[ca]\nbasicConstraints=critical,CA:TRUE,pathlen:0\n\
                   keyUsage=critical,keyCertSign,cRLSign\nextendedKeyUsage=codeSigning\n";
        std::fs::write(ca.dir.join("ext.cnf"), ext).expect("ext");
        openssl(
            &ca.dir,
            &format!(
                "x509 -req -in ca.csr -CA {} -CAkey {} -extfile ext.cnf -extensions ca -days 3650 \
             -set_serial 4242 -out ca.pem",
                self.cert.display(),
                self.key.display()
            ),
        );
        ca.backdate(self);
        ca
    }

    /// A CA folder with a fresh P-256 key.
    fn create(dir: PathBuf, _name: &str) -> Ca {
        std::fs::create_dir_all(&dir).expect("ca dir");
        openssl(&dir, "ecparam -name prime256v1 -genkey -noout -out ca.key");
        Ca {
            cert: dir.join("ca.pem"),
            key: dir.join("ca.key"),
            dir,
        }
    }

    /// Rewrites this CA's validity to start 30 days ago (openssl starts it now), signed by
    /// `issuer`, so that leaves valid in the past still chain at their `notBefore`.
    fn backdate(&self, issuer: &Ca) {
        let (tbs, algorithm) = split_certificate(&self.der());
        let now = super::der::unix_now();
        let tbs = with_validity(&tbs, now - 30 * 86_400, now + 3650 * 86_400);
        let der = issuer.sign_tbs(&self.dir, &tbs, &algorithm);
        std::fs::write(&self.cert, der_to_pem(&der)).expect("write ca");
    }

    pub fn pem(&self) -> String {
        std::fs::read_to_string(&self.cert).expect("ca pem")
    }

    pub fn der(&self) -> Vec<u8> {
        pem_to_der(&self.pem())
    }

    /// Issues a leaf for `public_key` (a cosign `.pub`), with an SCT from `ct` when given.
    pub fn issue(
        &self,
        name: &str,
        spec: &LeafSpec,
        public_key: &Path,
        ct: Option<&CtLog>,
    ) -> Leaf {
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).expect("leaf dir");
        openssl(&dir, "ecparam -name prime256v1 -genkey -noout -out csr.key");
        openssl(
            &dir,
            "req -new -key csr.key -subj /O=sigstore.dev -out leaf.csr",
        );
        let mut ext = format!(
            "[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=codeSigning\nsubjectAltName=critical,{}\n\
             1.3.6.1.4.1.57264.1.1=DER:{}\n1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:{}\n",
            spec.san,
            hex::encode(&spec.issuer),
            spec.issuer
        );
        for (arc, value) in &spec.extensions {
            let value = if (2..=6).contains(arc) {
                format!("DER:{}", hex::encode(value))
            } else {
                format!("ASN1:UTF8String:{value}")
            };
            ext.push_str(&format!("1.3.6.1.4.1.57264.1.{arc}={value}\n"));
        }
        std::fs::write(dir.join("ext.cnf"), ext).expect("ext");
        openssl(
            &dir,
            &format!(
                "x509 -req -in leaf.csr -CA {} -CAkey {} -force_pubkey {} -extfile ext.cnf \
             -extensions leaf -days 1 -set_serial 1001 -out leaf.pem",
                self.cert.display(),
                self.key.display(),
                public_key.display()
            ),
        );
        let path = dir.join("leaf.pem");
        let der = pem_to_der(&std::fs::read_to_string(&path).expect("leaf"));
        // Issued an hour ago (signatures are logged after issuance), valid a day.
        let now = super::der::unix_now();
        let (not_before, not_after) = spec.validity.unwrap_or((now - 3600, now + 86_400));
        let (tbs, algorithm) = split_certificate(&der);
        let mut tbs = with_validity(&tbs, not_before, not_after);
        if let Some(ct) = ct {
            let issuer_spki = VerificationKey::from_certificate_der(&self.der())
                .expect("ca key")
                .spki_der()
                .to_vec();
            let list = ct.sct_list(&tbs, &issuer_spki);
            tbs = with_extension(&tbs, SCT_OID, &encode(0x04, &list));
        }
        let der = self.sign_tbs(&dir, &tbs, &algorithm);
        std::fs::write(&path, der_to_pem(&der)).expect("write leaf");
        Leaf {
            pem: der_to_pem(&der),
            path,
            der,
        }
    }

    /// A certificate of `tbs` signed by this CA (ECDSA P-256, SHA-256).
    fn sign_tbs(&self, dir: &Path, tbs: &[u8], algorithm: &[u8]) -> Vec<u8> {
        std::fs::write(dir.join("tbs.der"), tbs).expect("tbs");
        let key = self.key.display();
        openssl(
            dir,
            &format!("dgst -sha256 -sign {key} -out tbs.sig tbs.der"),
        );
        let sig = std::fs::read(dir.join("tbs.sig")).expect("sig");
        let mut bits = vec![0u8];
        bits.extend_from_slice(&sig);
        encode(0x30, &[tbs, algorithm, &encode(0x03, &bits)].concat())
    }
}
