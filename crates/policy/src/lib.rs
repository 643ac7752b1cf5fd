//! # signet-policy
//!
//! The policy model of Signet: Kyverno `kyverno.io/v1` `ClusterPolicy` and `Policy`
//! documents with `verifyImages` rules, read exactly as Kyverno reads them or refused
//! with the field path Signet cannot honour. Also image-reference normalisation and
//! wildcard matching, admission-request matching and image extraction, and the
//! `{{ jmespath }}` conditions of attestations.
//!
//! The crate does no I/O: no async runtime, transport, database or signature checks.

pub mod conditions;
mod decode;
mod error;
pub mod extract;
pub mod image;
pub mod jmespath;
pub mod labels;
mod load;
pub mod matching;
pub mod model;
pub mod pem_material;
pub mod wildcard;

pub use error::{Diagnostics, Error, FieldError, Result};
pub use load::{
    is_secret_reference, load_policies, load_policy_value, parse_json_or_yaml,
    TRUST_ROOT_ANNOTATION,
};
pub use model::*;
