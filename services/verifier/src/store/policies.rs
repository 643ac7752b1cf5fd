//! Policies: the document as submitted (kept verbatim), its parsed form, and a
//! version that grows with every replacement.
//!
//! Versions never repeat for a name, even across a delete and a re-create, and
//! every version's document is kept in `policy_revisions`, so the `(policy,
//! policy_version)` a decision records always names exactly one document.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{check_json, check_name, now_ms, Change, ChangeKind, Store, StoreError};

/// A policy to create or replace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPolicy {
    /// Qualified name: `name` for a ClusterPolicy, `namespace/name` for a Policy.
    pub name: String,
    /// `ClusterPolicy` or `Policy`.
    pub kind: String,
    /// The namespace of a namespaced `Policy`.
    pub namespace: Option<String>,
    /// The document exactly as submitted (YAML or JSON).
    pub document: String,
    /// The parsed form, as JSON.
    pub parsed: String,
}

/// A stored policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRecord {
    pub name: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub document: String,
    pub parsed: String,
    /// 1 for the first document stored under this name, +1 on every replacement.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds of the current version.
    pub updated_at: i64,
}

/// One version of a policy as it was stored, kept after replacement and deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRevision {
    pub name: String,
    pub version: i64,
    pub kind: String,
    pub namespace: Option<String>,
    pub document: String,
    /// Unix milliseconds when this version was stored.
    pub created_at: i64,
}

/// The columns [`record`] reads, as a literal for `concat!`.
macro_rules! columns {
    () => {
        "name, kind, namespace, document, parsed, version, created_at, updated_at"
    };
}

fn record(row: &AnyRow) -> Result<PolicyRecord, StoreError> {
    Ok(PolicyRecord {
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        namespace: row.try_get("namespace")?,
        document: row.try_get("document")?,
        parsed: row.try_get("parsed")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Creates or replaces the policy `p.name`. Returns the stored record and
    /// whether it was created (`false`: an existing policy was replaced and its
    /// version incremented).
    pub async fn put_policy(&self, p: &NewPolicy) -> Result<(PolicyRecord, bool), StoreError> {
        check_name("policy name", &p.name)?;
        check_name("policy kind", &p.kind)?;
        check_json("parsed policy", &p.parsed)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        // The counter row is the lock: on PostgreSQL a second writer of the same name
        // waits here until the first commits, then counts on from its version.
        sqlx::query(
            "INSERT INTO policy_versions (name, version) VALUES ($1, 1) \
             ON CONFLICT (name) DO UPDATE SET version = policy_versions.version + 1",
        )
        .bind(&p.name)
        .execute(&mut *tx)
        .await?;
        let version: i64 =
            sqlx::query_scalar("SELECT version FROM policy_versions WHERE name = $1")
                .bind(&p.name)
                .fetch_one(&mut *tx)
                .await?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT created_at FROM policies WHERE name = $1")
                .bind(&p.name)
                .fetch_optional(&mut *tx)
                .await?;
        let created_at = existing.unwrap_or(now);
        sqlx::query(
            "INSERT INTO policies (name, kind, namespace, document, parsed, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, namespace = excluded.namespace, \
             document = excluded.document, parsed = excluded.parsed, version = excluded.version, \
             updated_at = excluded.updated_at",
        )
        .bind(&p.name)
        .bind(&p.kind)
        .bind(&p.namespace)
        .bind(&p.document)
        .bind(&p.parsed)
        .bind(version)
        .bind(created_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO policy_revisions (name, version, kind, namespace, document, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&p.name)
        .bind(version)
        .bind(&p.kind)
        .bind(&p.namespace)
        .bind(&p.document)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let change = Change::new(ChangeKind::Policy, p.name.clone());
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        let rec = PolicyRecord {
            name: p.name.clone(),
            kind: p.kind.clone(),
            namespace: p.namespace.clone(),
            document: p.document.clone(),
            parsed: p.parsed.clone(),
            version,
            created_at,
            updated_at: now,
        };
        Ok((rec, existing.is_none()))
    }

    /// The policy called `name` (qualified), if any.
    pub async fn get_policy(&self, name: &str) -> Result<Option<PolicyRecord>, StoreError> {
        let sql = concat!("SELECT ", columns!(), " FROM policies WHERE name = $1");
        let row = sqlx::query(sql)
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(record).transpose()
    }

    /// Every policy, by name.
    pub async fn list_policies(&self) -> Result<Vec<PolicyRecord>, StoreError> {
        let sql = concat!("SELECT ", columns!(), " FROM policies ORDER BY name");
        let rows = sqlx::query(sql).fetch_all(self.pool()).await?;
        rows.iter().map(record).collect()
    }

    /// Deletes the policy `name`; `false` when there was none. Its revisions stay,
    /// for the decisions that refer to them.
    pub async fn delete_policy(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM policies WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let change = Change::new(ChangeKind::Policy, name);
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        Ok(true)
    }

    /// The document of version `version` of policy `name`, even if it was since
    /// replaced or deleted.
    pub async fn get_policy_revision(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<PolicyRevision>, StoreError> {
        let row = sqlx::query(
            "SELECT name, version, kind, namespace, document, created_at FROM policy_revisions \
             WHERE name = $1 AND version = $2",
        )
        .bind(name)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(PolicyRevision {
            name: row.try_get("name")?,
            version: row.try_get("version")?,
            kind: row.try_get("kind")?,
            namespace: row.try_get("namespace")?,
            document: row.try_get("document")?,
            created_at: row.try_get("created_at")?,
        }))
    }
}
