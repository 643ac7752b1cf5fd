//! The typed policy model. Values here have passed validation: a `Policy` that exists is
//! one Signet enforces exactly as written.

mod policy;
mod resources;
mod verify_images;

pub use policy::{FailureAction, FailurePolicy, Memo, Policy, PolicyKind, Rule, Spec};
pub use resources::{
    LabelSelector, LabelSelectorRequirement, MatchResources, Operation, ResourceDescription,
    SelectorOperator,
};
pub use verify_images::{
    Attestation, Attestor, AttestorKind, AttestorSet, CertificatesAttestor, CtLog,
    ImageVerification, KeySource, KeylessAttestor, KeysAttestor, RegistryCredentials, Rekor,
    SecretReference, SignatureAlgorithm, VerificationType,
};
