//! Clusters: the fleet members whose relays call the verifier.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{check_name, now_ms, Change, ChangeKind, Store, StoreError};

/// A registered cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRecord {
    pub name: String,
    /// Matched against policies' `signet.dev/cluster-selector`.
    pub labels: BTreeMap<String, String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds of the last call from the cluster's relay.
    pub last_seen: Option<i64>,
    /// The relay version it last reported.
    pub relay_version: Option<String>,
}

fn record(row: &AnyRow) -> Result<ClusterRecord, StoreError> {
    let labels: String = row.try_get("labels")?;
    let labels = serde_json::from_str(&labels)
        .map_err(|e| StoreError::Internal(format!("stored cluster labels: {e}")))?;
    Ok(ClusterRecord {
        name: row.try_get("name")?,
        labels,
        created_at: row.try_get("created_at")?,
        last_seen: row.try_get("last_seen")?,
        relay_version: row.try_get("relay_version")?,
    })
}

fn labels_json(labels: &BTreeMap<String, String>) -> Result<String, StoreError> {
    serde_json::to_string(labels).map_err(|e| StoreError::Internal(format!("labels: {e}")))
}

impl Store {
    /// Registers the cluster `name`; [`StoreError::Conflict`] when it exists.
    pub async fn create_cluster(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<ClusterRecord, StoreError> {
        check_name("cluster name", name)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        // ON CONFLICT DO NOTHING rather than a unique violation: on PostgreSQL a failed
        // statement would poison the transaction, and the answer is the same.
        let done = sqlx::query(
            "INSERT INTO clusters (name, labels, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(labels_json(labels)?)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::Conflict(format!(
                "cluster {name} already exists"
            )));
        }
        let change = Change::new(ChangeKind::Cluster, name);
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        Ok(ClusterRecord {
            name: name.to_string(),
            labels: labels.clone(),
            created_at: now,
            last_seen: None,
            relay_version: None,
        })
    }

    /// The cluster `name`, if any.
    pub async fn get_cluster(&self, name: &str) -> Result<Option<ClusterRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT name, labels, created_at, last_seen, relay_version FROM clusters \
             WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(record).transpose()
    }

    /// Every cluster, by name.
    pub async fn list_clusters(&self) -> Result<Vec<ClusterRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, labels, created_at, last_seen, relay_version FROM clusters \
             ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// Replaces the labels of cluster `name`; [`StoreError::NotFound`] when it
    /// does not exist.
    pub async fn set_cluster_labels(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<ClusterRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE clusters SET labels = $1 WHERE name = $2")
            .bind(labels_json(labels)?)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("cluster {name}")));
        }
        let row = sqlx::query(
            "SELECT name, labels, created_at, last_seen, relay_version FROM clusters \
             WHERE name = $1",
        )
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        let rec = record(&row)?;
        let change = Change::new(ChangeKind::Cluster, name);
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        Ok(rec)
    }

    /// Deletes the cluster `name` and revokes every token bound to it (the tokens
    /// stay, revoked, for the record; its decisions stay too). `false` when there
    /// was no such cluster.
    pub async fn delete_cluster(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM clusters WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let revoked: Vec<String> =
            sqlx::query_scalar("SELECT id FROM tokens WHERE cluster = $1 AND revoked = 0")
                .bind(name)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("UPDATE tokens SET revoked = 1 WHERE cluster = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let mut changes = vec![Change::new(ChangeKind::Cluster, name)];
        changes.extend(
            revoked
                .into_iter()
                .map(|id| Change::new(ChangeKind::Token, id)),
        );
        for c in &changes {
            self.notify_in(&mut tx, c).await?;
        }
        self.commit(tx, changes).await?;
        Ok(true)
    }

    /// Records a call from cluster `name`'s relay at `at` (unix ms), and the relay
    /// version when given. `false` when there is no such cluster.
    ///
    /// Not announced as a [`Change`]: it happens on every call and changes nothing
    /// another replica caches.
    pub async fn touch_cluster(
        &self,
        name: &str,
        relay_version: Option<&str>,
        at: i64,
    ) -> Result<bool, StoreError> {
        // A heartbeat never moves last_seen backwards (replicas race to write it).
        let done = sqlx::query(
            "UPDATE clusters SET last_seen = CASE WHEN last_seen IS NULL OR last_seen < $1 \
             THEN $2 ELSE last_seen END, relay_version = COALESCE($3, relay_version) \
             WHERE name = $4",
        )
        .bind(at)
        .bind(at)
        .bind(relay_version)
        .bind(name)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
