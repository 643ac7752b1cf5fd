//! # signet-verify
//!
//! Decides whether container images are signed and attested as a policy demands, with
//! the answer cosign gives: registry access, cosign signatures (`sha256-<hex>.sig`) and
//! attestations (`sha256-<hex>.att`, DSSE), attestor sets, conditions, verdicts and
//! digest patches.

pub mod bundle;
pub mod cache;
pub mod cosign;
pub mod crypto;
pub mod decision;
mod der;
pub mod digest;
pub mod engine;
mod error;
pub mod registry;
pub mod signing;
pub mod trust;
pub mod verdict;
pub mod x509;

pub use decision::{pod_request, Decision, PatchOperation};
pub use engine::{ArtifactCache, EntryVerdict, KeyResolver, StaticKeys, Verifier};
pub use error::{Error, Result};
pub use verdict::{Verdict, VerdictResult};
