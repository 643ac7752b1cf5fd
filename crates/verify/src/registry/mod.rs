//! Registry access: tag resolution, manifests, blobs, pushes; authentication, retries,
//! bounded reads and digest checks.

mod auth;
mod client;
mod config;
pub mod docker_config;
mod http;
mod ops;
pub mod referrers;

pub use client::RegistryClient;
pub use config::{CredentialSet, Credentials, RegistryConfig, Transport};
pub use ops::{Manifest, MANIFEST_MEDIA_TYPES};
