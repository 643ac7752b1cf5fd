//! Administration of a verifier over its REST API: login, policies, keys, registry
//! credentials, clusters, tokens, reports.

mod client;
mod credentials;
pub mod login;
mod reports;
mod resources;

pub use client::Client;
pub use credentials::registry_credentials;
pub use reports::reports;
pub use resources::{
    apply, cluster_list, cluster_register, delete_policy, get_policy, key_create, list_policies,
    revoke,
};
