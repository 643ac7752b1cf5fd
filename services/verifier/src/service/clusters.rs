//! Clusters and tokens: registering a cluster issues its relay's token; tokens are listed
//! by id and revoked by id, and the token itself is shown exactly once.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Service;
use crate::auth::Role;
use crate::error::ApiError;
use crate::store::{ClusterRecord, TokenRecord};

/// A token request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// `admin`, `cluster` or `reader`.
    pub role: Role,
    /// The cluster, for a `cluster` token.
    pub cluster: Option<String>,
    /// Lifetime in seconds; none means until revoked.
    pub ttl_seconds: Option<u64>,
    /// What it is for.
    pub description: Option<String>,
}

/// A freshly issued token: the only time the secret is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    /// Token id (for listing and revocation).
    pub id: String,
    /// Its role.
    pub role: Role,
    /// Its cluster.
    pub cluster: Option<String>,
    /// Expiry, Unix milliseconds.
    pub expires_at: Option<i64>,
    /// The bearer token. Store it now: it is not kept and cannot be shown again.
    pub token: String,
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid cluster name {name:?}: lowercase letters, digits and '-', at most 63"
        )))
    }
}

/// Cluster labels are what cluster selectors match, so they follow the same Kubernetes
/// label syntax: a label no selector could name is refused rather than kept unmatchable.
fn check_labels(labels: &BTreeMap<String, String>) -> Result<(), ApiError> {
    use signet_policy::labels::{is_key, is_value, KEY_SYNTAX, VALUE_SYNTAX};
    for (key, value) in labels {
        if !is_key(key) {
            return Err(ApiError::bad_request(format!(
                "invalid label key {key:?}: {KEY_SYNTAX}"
            )));
        }
        if !is_value(value) {
            return Err(ApiError::bad_request(format!(
                "invalid value {value:?} of label {key}: {VALUE_SYNTAX}"
            )));
        }
    }
    Ok(())
}

impl Service {
    /// Registers a cluster and issues its relay's token.
    pub async fn register_cluster(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<(ClusterRecord, IssuedToken), ApiError> {
        check_name(name)?;
        check_labels(labels)?;
        let cluster = self.store.create_cluster(name, labels).await?;
        let token = self
            .issue_token(&NewToken {
                role: Role::Cluster,
                cluster: Some(name.to_owned()),
                ttl_seconds: None,
                description: Some(format!("relay of cluster {name}")),
            })
            .await?;
        tracing::info!(cluster = %name, "cluster registered");
        Ok((cluster, token))
    }

    /// Issues a token.
    pub async fn issue_token(&self, t: &NewToken) -> Result<IssuedToken, ApiError> {
        match (t.role, &t.cluster) {
            (Role::Cluster, None) => {
                return Err(ApiError::bad_request("a cluster token names its cluster"))
            }
            (Role::Cluster, Some(c)) => {
                let exists = self.store.get_cluster(c).await?.is_some();
                if !exists {
                    return Err(ApiError::NotFound(format!("cluster {c}")));
                }
            }
            (_, Some(_)) => {
                return Err(ApiError::bad_request("only cluster tokens name a cluster"))
            }
            _ => {}
        }
        let (record, jwt) = self
            .auth
            .issue(
                t.role,
                t.cluster.as_deref(),
                t.ttl_seconds.map(Duration::from_secs),
                t.description.as_deref(),
            )
            .await?;
        Ok(IssuedToken {
            id: record.id,
            role: t.role,
            cluster: record.cluster,
            expires_at: record.expires_at,
            token: jwt,
        })
    }

    /// Revokes a token by id.
    pub async fn revoke_token(&self, id: &str) -> Result<(), ApiError> {
        if !self.store.revoke_token(id).await? {
            return Err(ApiError::NotFound(format!("token {id}")));
        }
        self.auth.forget(Some(id));
        tracing::info!(token.id = %id, "token revoked");
        Ok(())
    }

    /// Tokens (ids and metadata, never the secret).
    pub async fn list_tokens(&self, cluster: Option<&str>) -> Result<Vec<TokenRecord>, ApiError> {
        Ok(self.store.list_tokens(cluster).await?)
    }

    /// Creates the first admin token when none exists: written to `file` (0600) or
    /// returned for printing once.
    pub async fn bootstrap_admin(&self) -> Result<Option<IssuedToken>, ApiError> {
        if self.store.count_admin_tokens().await? > 0 {
            return Ok(None);
        }
        let Some((record, jwt)) = self.auth.issue_first_admin("bootstrap admin").await? else {
            return Ok(None);
        };
        tracing::info!(token.id = %record.id, "bootstrap admin token issued");
        Ok(Some(IssuedToken {
            id: record.id,
            role: Role::Admin,
            cluster: None,
            expires_at: record.expires_at,
            token: jwt,
        }))
    }

    /// Replaces a cluster's labels; this replica's next Review already sees them
    /// (others when the change is announced to them).
    pub async fn set_cluster_labels(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), ApiError> {
        check_labels(labels)?;
        self.store.set_cluster_labels(name, labels).await?;
        self.callers.invalidate();
        Ok(())
    }

    /// Deletes a cluster; its tokens stop working.
    pub async fn delete_cluster(&self, name: &str) -> Result<(), ApiError> {
        if !self.store.delete_cluster(name).await? {
            return Err(ApiError::NotFound(format!("cluster {name}")));
        }
        self.auth.forget(None);
        self.callers.invalidate();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::check_labels;
    use crate::service::selector::tests::labels;

    #[test]
    fn cluster_labels_follow_the_kubernetes_label_syntax() {
        let good = labels(&[
            ("env", "prod"),
            ("topology.kubernetes.io/region", "eu-west-1"),
            ("empty", ""),
        ]);
        assert!(check_labels(&good).is_ok());
        for (key, value, named) in [
            ("-env", "prod", "-env"),
            ("Example.com/env", "prod", "Example.com/env"),
            ("env", "prod ", "prod "),
            ("env", "-prod", "-prod"),
        ] {
            let e = check_labels(&labels(&[(key, value)])).expect_err(key);
            assert!(e.to_string().contains(&format!("{named:?}")), "{e}");
        }
    }
}
