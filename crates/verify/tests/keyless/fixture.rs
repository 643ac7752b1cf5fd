//! One registry, a private Fulcio-like CA (root and intermediate), a local Rekor and CT log,
//! and a cosign key pair whose public key goes into the leaf certificates.

use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;

use signet_verify::cosign::{attestation_tag, signature_tag};
use signet_verify::trust::TrustRoot;
use signet_verify::{StaticKeys, Verifier};

use crate::pki::{Ca, Leaf, LeafSpec};
use crate::rekor::{dsse, edit_layers, hashedrekord, CtLog, LocalRekor, BUNDLE};
use crate::support::*;

/// The workflow identity most fixtures sign as.
pub const WORKFLOW: &str =
    "https://github.com/company/workflows/.github/workflows/build.yml@refs/heads/main";
pub const GITHUB: &str = "https://token.actions.githubusercontent.com";

/// How a signature is logged.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Log {
    /// A valid bundle integrated `n` seconds ago.
    SecondsAgo(i64),
    /// No bundle.
    Unlogged,
    /// A bundle whose signed entry timestamp is corrupted.
    BadSet,
    /// A bundle signed by a log nobody trusts.
    Untrusted,
}

pub struct Fixture {
    pub env: Env,
    pub signer: KeyPair,
    pub root: Ca,
    pub fulcio: Ca,
    pub other_root: Ca,
    pub rekor: LocalRekor,
    pub ct: CtLog,
    /// Intermediate then root, as `--certificate-chain`.
    pub chain: PathBuf,
}

impl Fixture {
    pub async fn new() -> Fixture {
        let env = Env::new().await;
        let signer = env.key_pair("signer");
        let root = Ca::root(env.dir.path(), "Test-Fulcio-Root");
        let fulcio = root.intermediate("Test-Fulcio-Intermediate");
        let other_root = Ca::root(env.dir.path(), "Another-Root");
        let chain = env.write("chain.pem", &format!("{}{}", fulcio.pem(), root.pem()));
        Fixture {
            env,
            signer,
            root,
            fulcio,
            other_root,
            rekor: LocalRekor::new(),
            ct: CtLog::new(),
            chain,
        }
    }

    /// A leaf for the signer's key, with an SCT when `sct`.
    pub fn leaf(&self, name: &str, spec: &LeafSpec, sct: bool) -> Leaf {
        let ct = sct.then_some(&self.ct);
        self.fulcio.issue(name, spec, &self.signer.public, ct)
    }

    fn cert_flags(&self, leaf: &Leaf) -> Vec<String> {
        vec![
            "--certificate".into(),
            leaf.path.display().to_string(),
            "--certificate-chain".into(),
            self.chain.display().to_string(),
        ]
    }

    /// Pushes `repository:tag` and signs it with `leaf`; returns (reference by digest, digest).
    pub async fn signed_image(
        &self,
        repository: &str,
        tag: &str,
        leaf: &Leaf,
        log: Log,
    ) -> (String, String) {
        let (_, digest) = self.env.image(repository, tag).await;
        let image = self.env.by_digest(repository, &digest);
        // cosign checks the certificate's SCT when it signs: it needs the CT log key.
        let mut cmd = self.env.cosign.command(&self.env.registry);
        cmd.env("COSIGN_PASSWORD", PASSWORD)
            .env("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", self.ct_pub())
            .args(["sign", "--yes", "--tlog-upload=false", "--key"])
            .arg(&self.signer.key)
            .args(self.cert_flags(leaf))
            .args(self.env.cosign.registry_flags(&self.env.registry))
            .arg(&image);
        let out = cmd.output().expect("cosign sign");
        signet_testkit::ensure_success(&out, "cosign sign").expect("cosign sign");
        let pem = leaf.pem.clone();
        self.log(
            repository,
            &signature_tag(&digest),
            log,
            move |blob, ann| hashedrekord(blob, ann, &pem),
        )
        .await;
        (image, digest)
    }

    /// Attests `predicate` of `type_name` on `image` (by digest) with `leaf`.
    pub async fn attest(
        &self,
        repository: &str,
        digest: &str,
        leaf: &Leaf,
        type_name: &str,
        predicate: &serde_json::Value,
        log: Log,
    ) {
        let image = self.env.by_digest(repository, digest);
        let path = self.env.write("predicate.json", &predicate.to_string());
        let mut cmd = self.env.cosign.command(&self.env.registry);
        cmd.env("COSIGN_PASSWORD", PASSWORD)
            .env("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", self.ct_pub())
            .args(["attest", "--yes", "--tlog-upload=false", "--key"])
            .arg(&self.signer.key)
            .args(self.cert_flags(leaf))
            .args(["--type", type_name, "--predicate"])
            .arg(&path)
            .args(self.env.cosign.registry_flags(&self.env.registry))
            .arg(&image);
        let out = cmd.output().expect("cosign attest");
        signet_testkit::ensure_success(&out, "cosign attest").expect("cosign attest");
        let pem = leaf.pem.clone();
        self.log(repository, &attestation_tag(digest), log, move |blob, _| {
            dsse(blob, &pem)
        })
        .await;
    }

    /// Attests with Signet's own signer (for predicate types cosign 2.5 no longer writes,
    /// such as the old `cosign.sigstore.dev/attestation/vuln/v1`), then attaches `leaf`
    /// and the chain as cosign would have.
    #[allow(clippy::too_many_arguments)]
    pub async fn attest_with_signet(
        &self,
        repository: &str,
        digest: &str,
        leaf: &Leaf,
        type_name: &str,
        predicate_type: &str,
        predicate: &serde_json::Value,
        log: Log,
    ) {
        let pem = std::fs::read(&self.signer.key).expect("key");
        let key = signet_verify::crypto::SigningKey::from_encrypted_pem(&pem, PASSWORD.as_bytes())
            .expect("key");
        let image = signet_policy::image::ImageRef::parse(&self.env.by_digest(repository, digest))
            .expect("ref");
        let raw = predicate.to_string();
        signet_verify::signing::attest_image(
            &self.env.client(),
            &key,
            &image,
            type_name,
            predicate_type,
            raw.as_bytes(),
        )
        .await
        .expect("attest");
        let chain = std::fs::read_to_string(&self.chain).expect("chain");
        let annotate = |_: &[u8], _: &std::collections::BTreeMap<String, String>| {
            vec![
                (
                    signet_verify::cosign::CERTIFICATE_ANNOTATION.to_owned(),
                    leaf.pem.clone(),
                ),
                (
                    signet_verify::cosign::CHAIN_ANNOTATION.to_owned(),
                    chain.clone(),
                ),
            ]
        };
        let (client, host) = (self.env.client(), self.env.host());
        edit_layers(
            &client,
            &host,
            repository,
            &attestation_tag(digest),
            annotate,
        )
        .await;
        let pem = leaf.pem.clone();
        self.log(repository, &attestation_tag(digest), log, move |blob, _| {
            dsse(blob, &pem)
        })
        .await;
    }

    async fn log(
        &self,
        repository: &str,
        tag: &str,
        log: Log,
        body: impl Fn(&[u8], &std::collections::BTreeMap<String, String>) -> serde_json::Value,
    ) {
        let now = crate::der::unix_now();
        let stranger = LocalRekor::new();
        let edit = |blob: &[u8], ann: &std::collections::BTreeMap<String, String>| {
            let bundle = match log {
                Log::Unlogged => return vec![],
                Log::SecondsAgo(n) => self.rekor.bundle(&body(blob, ann), now - n),
                Log::Untrusted => stranger.bundle(&body(blob, ann), now - 60),
                Log::BadSet => {
                    let good = self.rekor.bundle(&body(blob, ann), now - 60);
                    let mut v: serde_json::Value = serde_json::from_str(&good).expect("json");
                    let set = v["SignedEntryTimestamp"].as_str().expect("set").to_owned();
                    // Another valid-looking signature: the SET of a different integrated time.
                    let other = self.rekor.bundle(&body(blob, ann), now - 61);
                    let other: serde_json::Value = serde_json::from_str(&other).expect("json");
                    assert_ne!(other["SignedEntryTimestamp"].as_str(), Some(set.as_str()));
                    v["SignedEntryTimestamp"] = other["SignedEntryTimestamp"].clone();
                    v.to_string()
                }
            };
            vec![(BUNDLE.to_owned(), bundle)]
        };
        edit_layers(&self.env.client(), &self.env.host(), repository, tag, edit).await;
    }

    fn ct_pub(&self) -> PathBuf {
        self.env.write("ct.pub", &self.ct.public_pem())
    }

    /// `cosign verify` of a keyless signature, offline, with the local Rekor key (and CT
    /// log key unless `ignore_sct`).
    pub fn cosign_verify(
        &self,
        image: &str,
        identity: &str,
        issuer: &str,
        ignore_sct: bool,
    ) -> Output {
        let rekor = self.env.write("rekor.pub", &self.rekor.public_pem());
        let ct = self.ct_pub();
        let mut cmd = self.env.cosign.command(&self.env.registry);
        cmd.env("SIGSTORE_REKOR_PUBLIC_KEY", &rekor)
            .env("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", &ct)
            .args(["verify", "--offline", "--certificate-chain"])
            .arg(&self.chain)
            .args([
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                issuer,
            ])
            .args(self.env.cosign.registry_flags(&self.env.registry));
        if ignore_sct {
            cmd.arg("--insecure-ignore-sct");
        }
        cmd.arg(image).output().expect("cosign verify")
    }

    /// A verifier whose trust root is this private instance (CA, Rekor key, CT log key).
    pub fn private_verifier(&self) -> Verifier {
        let one = |pem: &str| {
            let key = signet_policy::pem_material::parse_public_keys(pem).expect("pem");
            signet_verify::crypto::VerificationKey::from_public_key(&key[0]).expect("key")
        };
        let root = TrustRoot {
            tlogs: TrustRoot::with_rekor_key(one(&self.rekor.public_pem()), "https://rekor.local")
                .tlogs,
            ctlogs: TrustRoot::with_rekor_key(one(&self.ct.public_pem()), "https://ct.local").tlogs,
            certificate_authorities: vec![self.fulcio.der(), self.root.der()],
            ..TrustRoot::default()
        };
        Verifier::new(self.env.client(), Arc::new(StaticKeys::new()), root)
    }

    /// A verifier that trusts nothing beyond what policies carry.
    pub fn bare_verifier(&self) -> Verifier {
        self.env.verifier(StaticKeys::new())
    }
}
