//! Who is calling: JWT bearer tokens signed by this verifier, checked against the store on
//! every call so that revocation and expiry take effect at once.

mod jwt;

use serde::{Deserialize, Serialize};

pub use jwt::Authenticator;

use crate::error::ApiError;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: policies, keys, clusters, tokens, reports.
    Admin,
    /// A cluster's relay: Review and VerifyImage as that cluster, its own reports.
    Cluster,
    /// Read reports.
    Reader,
}

impl Role {
    /// Parses `admin`, `cluster`, `reader`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "cluster" => Some(Role::Cluster),
            "reader" => Some(Role::Reader),
            _ => None,
        }
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Cluster => "cluster",
            Role::Reader => "reader",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's id (never the token itself).
    pub token_id: String,
    /// Its role.
    pub role: Role,
    /// The cluster a `cluster` token belongs to.
    pub cluster: Option<String>,
}

impl Principal {
    /// Admin only.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Admin => Ok(()),
            _ => Err(ApiError::Forbidden("this needs an admin token".into())),
        }
    }

    /// A cluster token (Review, VerifyImage); admins may act for any cluster.
    pub fn require_cluster(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Admin | Role::Cluster => Ok(()),
            Role::Reader => Err(ApiError::Forbidden(
                "this needs a cluster or admin token".into(),
            )),
        }
    }

    /// Whether this caller may read the reports of `cluster`.
    pub fn may_read_cluster(&self, cluster: &str) -> bool {
        match self.role {
            Role::Admin | Role::Reader => true,
            Role::Cluster => self.cluster.as_deref() == Some(cluster),
        }
    }
}
