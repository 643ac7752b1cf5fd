//! Public keys, named by namespace and name as the Kubernetes Secrets that
//! Kyverno policies read them from (`keys.secret: {name, namespace}`).

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{check_name, now_ms, Change, ChangeKind, Store, StoreError};

/// A stored public key (PEM; one or more public keys, never private material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub namespace: String,
    pub name: String,
    pub pem: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

fn record(row: &AnyRow) -> Result<KeyRecord, StoreError> {
    Ok(KeyRecord {
        namespace: row.try_get("namespace")?,
        name: row.try_get("name")?,
        pem: row.try_get("pem")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The name a key's [`Change`] carries.
fn change_name(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

impl Store {
    /// Creates or replaces the key `namespace/name`; `true` when it was created.
    pub async fn put_key(
        &self,
        namespace: &str,
        name: &str,
        pem: &str,
    ) -> Result<(KeyRecord, bool), StoreError> {
        check_name("key namespace", namespace)?;
        check_name("key name", name)?;
        if private_material(pem) {
            return Err(StoreError::Invalid(
                "key PEM holds private key material; store the public key only".into(),
            ));
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let existing: Option<i64> = sqlx::query_scalar(
            "SELECT created_at FROM public_keys WHERE namespace = $1 AND name = $2",
        )
        .bind(namespace)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let created_at = existing.unwrap_or(now);
        sqlx::query(
            "INSERT INTO public_keys (namespace, name, pem, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (namespace, name) DO UPDATE SET pem = excluded.pem, \
             updated_at = excluded.updated_at",
        )
        .bind(namespace)
        .bind(name)
        .bind(pem)
        .bind(created_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let change = Change::new(ChangeKind::Key, change_name(namespace, name));
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        let rec = KeyRecord {
            namespace: namespace.to_string(),
            name: name.to_string(),
            pem: pem.to_string(),
            created_at,
            updated_at: now,
        };
        Ok((rec, existing.is_none()))
    }

    /// The key `namespace/name`, if any.
    pub async fn get_key(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<KeyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT namespace, name, pem, created_at, updated_at FROM public_keys \
             WHERE namespace = $1 AND name = $2",
        )
        .bind(namespace)
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(record).transpose()
    }

    /// Every key, by namespace then name.
    pub async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT namespace, name, pem, created_at, updated_at FROM public_keys \
             ORDER BY namespace, name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// Deletes the key `namespace/name`; `false` when there was none.
    pub async fn delete_key(&self, namespace: &str, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM public_keys WHERE namespace = $1 AND name = $2")
            .bind(namespace)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let change = Change::new(ChangeKind::Key, change_name(namespace, name));
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        Ok(true)
    }
}

/// Whether a PEM text contains a private key block (`-----BEGIN … PRIVATE KEY-----`),
/// which must never be stored as a verification key.
fn private_material(pem: &str) -> bool {
    pem.lines()
        .any(|l| l.trim_start().starts_with("-----BEGIN") && l.contains("PRIVATE KEY"))
}

#[cfg(test)]
mod tests {
    use super::private_material;

    #[test]
    fn private_keys_are_recognised() {
        assert!(private_material(
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"
        ));
        assert!(private_material(
            "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
        ));
        assert!(!private_material(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        ));
    }
}
