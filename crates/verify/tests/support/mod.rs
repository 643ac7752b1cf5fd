//! Shared set-up for the engine's integration tests: a real registry, cosign key pairs,
//! and a verifier pointed at them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use signet_policy::image::ImageRef;
use signet_policy::{load_policies, ImageVerification, Policy};
use signet_testkit::{ensure_success, push_random_image, Cosign, Registry, RegistryOptions};
use signet_verify::registry::{RegistryClient, RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;
use signet_verify::{ArtifactCache, EntryVerdict, StaticKeys, Verifier};

pub const PASSWORD: &str = "correct horse battery staple";

/// A registry, cosign, and a temp dir for keys and predicates.
pub struct Env {
    pub registry: Registry,
    pub cosign: Cosign,
    pub dir: tempfile::TempDir,
}

/// A cosign key pair on disk.
pub struct KeyPair {
    pub key: PathBuf,
    pub public: PathBuf,
}

impl KeyPair {
    pub fn public_pem(&self) -> String {
        std::fs::read_to_string(&self.public).expect("read public key")
    }
}

impl Env {
    pub async fn new() -> Env {
        Env::with_registry(RegistryOptions::default()).await
    }

    /// An environment whose registry runs as `options` say (e.g. with htpasswd auth: the
    /// testkit's pushes and cosign then use its credentials).
    pub async fn with_registry(options: RegistryOptions) -> Env {
        Env {
            registry: Registry::start_with(options).await.expect("start registry"),
            cosign: Cosign::find().expect("cosign (scripts/install-test-tools.sh)"),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// A fresh cosign key pair in its own folder.
    pub fn key_pair(&self, name: &str) -> KeyPair {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).expect("key dir");
        let (key, public) = self
            .cosign
            .generate_key_pair(&dir, PASSWORD)
            .expect("cosign generate-key-pair");
        KeyPair { key, public }
    }

    /// Pushes a new random image; returns its tag reference and digest.
    pub async fn image(&self, repository: &str, tag: &str) -> (String, String) {
        let digest = push_random_image(&self.registry, repository, tag)
            .await
            .expect("push image");
        (self.registry.reference(repository, tag), digest)
    }

    pub fn by_digest(&self, repository: &str, digest: &str) -> String {
        self.registry.reference(repository, digest)
    }

    /// `cosign sign` by digest, failing the test when cosign fails.
    pub fn cosign_sign(&self, keys: &KeyPair, image: &str, extra: &[&str]) {
        let out = self
            .cosign
            .sign(&self.registry, &keys.key, PASSWORD, image, extra)
            .expect("run cosign sign");
        ensure_success(&out, "cosign sign").expect("cosign sign");
    }

    pub fn cosign_attest(
        &self,
        keys: &KeyPair,
        type_name: &str,
        predicate: &serde_json::Value,
        image: &str,
    ) {
        let path = self.write("predicate.json", &predicate.to_string());
        let out = self
            .cosign
            .attest(&self.registry, &keys.key, PASSWORD, type_name, &path, image)
            .expect("run cosign attest");
        ensure_success(&out, "cosign attest").expect("cosign attest");
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{}-{name}", rand_suffix()));
        std::fs::write(&path, text).expect("write file");
        path
    }

    pub fn client(&self) -> RegistryClient {
        RegistryClient::new(RegistryConfig {
            default_transport: Transport::Http,
            ..RegistryConfig::default()
        })
        .expect("registry client")
    }

    pub fn verifier(&self, keys: StaticKeys) -> Verifier {
        Verifier::new(self.client(), Arc::new(keys), TrustRoot::default())
    }

    pub fn host(&self) -> String {
        self.registry.host()
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Indents a PEM block for a YAML block scalar at `indent` spaces.
pub fn indent(pem: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    pem.trim_end()
        .lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loads one policy (test YAML is trusted to be valid).
pub fn policy(yaml: &str) -> Policy {
    let mut p = load_policies(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    p.remove(0)
}

/// The first `verifyImages` entry of a policy.
pub fn first_entry(policy: &Policy) -> &ImageVerification {
    &policy.spec.rules[0].verify_images[0]
}

/// Verifies `image` against `entry` with a fresh per-decision cache.
pub async fn verify(verifier: &Verifier, entry: &ImageVerification, image: &str) -> EntryVerdict {
    let image = ImageRef::parse(image).expect("image reference");
    verifier
        .verify_entry(&ArtifactCache::default(), &image, entry)
        .await
}

/// A ClusterPolicy with one rule whose only entry is `entry_yaml` (indented 8 spaces,
/// starting with `- imageReferences:`).
pub fn cluster_policy(entry_yaml: &str) -> String {
    format!(
        "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: test
spec:
  validationFailureAction: Enforce
  rules:
    - name: verify
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
{entry_yaml}
"
    )
}

/// A keys attestor entry list item (indented 16) for `pem`, tlog ignored.
pub fn key_attestor(pem: &str) -> String {
    format!(
        "                - keys:
                    publicKeys: |-
{}
                    rekor:
                      url: https://rekor.sigstore.dev
                      ignoreTlog: true",
        indent(pem, 22)
    )
}

pub fn path_exists(p: &Path) -> bool {
    p.exists()
}
