use regex::Regex;
use serde::{Serialize, Serializer};

use super::FailureAction;
use crate::conditions::AnyAllConditions;
use crate::pem_material::{Certificate, PublicKey};

/// The signature format a `verifyImages` entry checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum VerificationType {
    /// Cosign signatures and attestations under the `sha256-<hex>.sig` / `.att` tags (default).
    Cosign,
    /// Sigstore bundles attached as OCI 1.1 referrers.
    SigstoreBundle,
}

/// One entry of a rule's `verifyImages`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageVerification {
    /// `failureAction`, overriding the policy's `validationFailureAction` for this entry.
    pub failure_action: Option<FailureAction>,
    /// `type`; Cosign when absent.
    #[serde(rename = "type")]
    pub verification_type: VerificationType,
    /// `imageReferences`: wildcard patterns over normalised references.
    pub image_references: Vec<String>,
    /// `skipImageReferences`: images matching these are not checked by this entry.
    pub skip_image_references: Vec<String>,
    /// `attestors`: every set must be satisfied.
    pub attestors: Vec<AttestorSet>,
    /// `attestations`: every one must be present, signed and satisfy its conditions.
    pub attestations: Vec<Attestation>,
    /// `repository`: where signatures and attestations are stored instead of next to the image.
    pub repository: Option<String>,
    /// `mutateDigest`: pin tags to digests. True when absent, except under Audit where
    /// an absent value means false (an audit cannot mutate).
    pub mutate_digest: bool,
    /// `verifyDigest`: deny an image that cannot be pinned to a digest. True when absent.
    pub verify_digest: bool,
    /// `required`: the image must pass verification. True when absent.
    pub required: bool,
    /// `useCache`: verdicts may be cached. True when absent.
    pub use_cache: bool,
    /// `imageRegistryCredentials`.
    pub image_registry_credentials: Option<RegistryCredentials>,
    /// The stored trust root the policy names in its `signet.dev/trust-root` annotation,
    /// used instead of the verifier's default root; set for every entry of the policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_root: Option<String>,
    /// A digest of this entry as written, kept by the verifier for its verdict-cache keys
    /// (every admission needs it, and it depends on the entry alone).
    #[serde(skip)]
    pub written_digest: super::Memo<[u8; 32]>,
}

impl ImageVerification {
    /// An entry that admits its images without any check: `required: false` and nothing
    /// to verify (the seed guide's `allow-public-images`).
    pub fn is_allow_only(&self) -> bool {
        !self.required && self.attestors.is_empty() && self.attestations.is_empty()
    }
}

/// `imageRegistryCredentials`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryCredentials {
    /// `allowInsecureRegistry`: this entry's images and their signature repositories may
    /// be read over plain HTTP or TLS without certificate verification, as Kyverno does
    /// (go-containerregistry's `name.Insecure`).
    pub allow_insecure_registry: bool,
    /// `secrets`: the names of the registry-credential sets this entry reads its images
    /// and signatures with, in order (the first set holding a registry's credentials
    /// wins). In Kyverno they name `kubernetes.io/dockerconfigjson` Secrets (`name` in
    /// Kyverno's namespace, or `namespace/name`); in Signet, named credential sets stored
    /// in the verifier under the same strings. Left out of the serialized entry when
    /// empty, so an entry without it keeps the digest it had before the field existed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
}

/// A set of attestors of which `count` (all when absent) must verify.
#[derive(Debug, Clone, Serialize)]
pub struct AttestorSet {
    /// `count`; `None` means every entry.
    pub count: Option<usize>,
    /// `entries`.
    pub entries: Vec<Attestor>,
}

impl AttestorSet {
    /// How many entries must verify, as Kyverno computes it (absent or 0 means all).
    pub fn required_count(&self) -> usize {
        match self.count {
            None | Some(0) => self.entries.len(),
            Some(n) => n,
        }
    }
}

/// One attestor entry.
#[derive(Debug, Clone, Serialize)]
pub struct Attestor {
    /// What proves the signature.
    pub kind: AttestorKind,
    /// `annotations` that must be present in the signed payload with these values.
    pub annotations: Vec<(String, String)>,
    /// `repository` overriding the entry's for this attestor.
    pub repository: Option<String>,
}

/// The kinds of attestor entry; exactly one per entry.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AttestorKind {
    /// `keys`: static public keys.
    Keys(KeysAttestor),
    /// `keyless`: Fulcio certificate identities.
    Keyless(KeylessAttestor),
    /// `certificates`: a given signing certificate or chain.
    Certificates(CertificatesAttestor),
    /// `attestor`: a nested set.
    Nested(AttestorSet),
}

/// `keys`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeysAttestor {
    /// Where the keys come from.
    pub source: KeySource,
    /// `signatureAlgorithm` (the digest of the signed payload); sha256 when absent.
    pub signature_algorithm: SignatureAlgorithm,
    /// `rekor`.
    pub rekor: Option<Rekor>,
    /// `ctlog`.
    pub ctlog: Option<CtLog>,
}

/// Where a `keys` attestor's keys come from.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum KeySource {
    /// Inline PEM, one or many keys; each counts as its own entry for `count`, as in Kyverno.
    PublicKeys(Vec<PublicKey>),
    /// A named key: `secret: {name, namespace}` or `publicKeys: k8s://namespace/name`.
    Secret(SecretReference),
}

/// A key stored under a namespace and name, as Kyverno reads it from a Secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SecretReference {
    /// Secret name.
    pub name: String,
    /// Secret namespace.
    pub namespace: String,
}

/// Hash used for the signed payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureAlgorithm {
    /// SHA-224.
    Sha224,
    /// SHA-256 (cosign's default).
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// `keyless`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeylessAttestor {
    /// `subject`: exact, or a wildcard pattern.
    pub subject: Option<String>,
    /// `subjectRegExp`.
    #[serde(serialize_with = "regex_str")]
    pub subject_regexp: Option<Regex>,
    /// `issuer`: exact, or a wildcard pattern.
    pub issuer: Option<String>,
    /// `issuerRegExp`.
    #[serde(serialize_with = "regex_str")]
    pub issuer_regexp: Option<Regex>,
    /// `roots`: Fulcio root (and intermediate) certificates; the trust root's when absent.
    pub roots: Vec<Certificate>,
    /// `additionalExtensions`: Fulcio certificate extensions and their required values.
    pub additional_extensions: Vec<(String, String)>,
    /// `rekor`.
    pub rekor: Option<Rekor>,
    /// `ctlog`.
    pub ctlog: Option<CtLog>,
}

/// `certificates`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificatesAttestor {
    /// `cert`: the signing certificate.
    pub cert: Option<Certificate>,
    /// `certChain`: the chain up to a root.
    pub cert_chain: Vec<Certificate>,
    /// `rekor`.
    pub rekor: Option<Rekor>,
    /// `ctlog`.
    pub ctlog: Option<CtLog>,
}

/// `rekor`: the transparency log.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rekor {
    /// `url`. Signet never calls it: the signed entry timestamp in the signature's bundle is
    /// checked offline against `pubkey` or the trust root's Rekor key.
    pub url: String,
    /// `pubkey`.
    pub pubkey: Option<PublicKey>,
    /// `ignoreTlog`.
    pub ignore_tlog: bool,
}

/// `ctlog`: certificate transparency.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CtLog {
    /// `ignoreSCT`.
    #[serde(rename = "ignoreSCT")]
    pub ignore_sct: bool,
    /// `pubkey`.
    pub pubkey: Option<PublicKey>,
    /// `tsaCertChain`: timestamp-authority certificates.
    pub tsa_cert_chain: Vec<Certificate>,
}

/// One entry of `attestations`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attestation {
    /// `name`, used in messages when present.
    pub name: Option<String>,
    /// `type`, or its older spelling `predicateType`.
    #[serde(rename = "type")]
    pub predicate_type: String,
    /// `attestors` that must have signed the attestation.
    pub attestors: Vec<AttestorSet>,
    /// `conditions` over the predicate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<AnyAllConditions>,
}

fn regex_str<S: Serializer>(re: &Option<Regex>, s: S) -> Result<S::Ok, S::Error> {
    match re {
        Some(re) => s.serialize_some(re.as_str()),
        None => s.serialize_none(),
    }
}
