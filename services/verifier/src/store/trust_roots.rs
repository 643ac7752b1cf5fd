//! Private trust roots (Fulcio CA certificates, Rekor and CT log public keys),
//! stored as JSON documents under a name that policies refer to.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{check_json, check_name, now_ms, Change, ChangeKind, Store, StoreError};

/// A stored trust root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustRootRecord {
    pub name: String,
    /// The trust root document (JSON), as submitted.
    pub json: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

fn record(row: &AnyRow) -> Result<TrustRootRecord, StoreError> {
    Ok(TrustRootRecord {
        name: row.try_get("name")?,
        json: row.try_get("document")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Creates or replaces the trust root `name`; `true` when it was created.
    /// `json` must parse as JSON; it is stored as given.
    pub async fn put_trust_root(
        &self,
        name: &str,
        json: &str,
    ) -> Result<(TrustRootRecord, bool), StoreError> {
        check_name("trust root name", name)?;
        check_json("trust root", json)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT created_at FROM trust_roots WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let created_at = existing.unwrap_or(now);
        sqlx::query(
            "INSERT INTO trust_roots (name, document, created_at, updated_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET document = excluded.document, \
             updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(json)
        .bind(created_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let change = Change::new(ChangeKind::TrustRoot, name);
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        let rec = TrustRootRecord {
            name: name.to_string(),
            json: json.to_string(),
            created_at,
            updated_at: now,
        };
        Ok((rec, existing.is_none()))
    }

    /// The trust root `name`, if any.
    pub async fn get_trust_root(&self, name: &str) -> Result<Option<TrustRootRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT name, document, created_at, updated_at FROM trust_roots WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(record).transpose()
    }

    /// Every trust root, by name.
    pub async fn list_trust_roots(&self) -> Result<Vec<TrustRootRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, document, created_at, updated_at FROM trust_roots ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// Deletes the trust root `name`; `false` when there was none.
    pub async fn delete_trust_root(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM trust_roots WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let change = Change::new(ChangeKind::TrustRoot, name);
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        Ok(true)
    }
}
