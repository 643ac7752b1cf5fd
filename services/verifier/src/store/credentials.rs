//! Registry credentials.
//!
//! The store only ever holds the secret encrypted: the service encrypts it
//! (with the key from the environment or a file) before [`Store::put_credential`]
//! and decrypts what [`Store::get_credential_secret`] returns when it talks to
//! the registry. Listing returns [`CredentialSummary`], which has no secret, and
//! [`CredentialSecret`] neither serializes nor prints its ciphertext.

use serde::Serialize;
use sqlx::Row;

use super::{check_name, now_ms, Change, ChangeKind, Store, StoreError};

/// A credential as the API shows it: no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialSummary {
    /// Registry host (and optional port / path prefix) the credential is for.
    pub registry: String,
    pub username: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// A credential with its encrypted secret, for the registry client only.
#[derive(Clone, PartialEq, Eq)]
pub struct CredentialSecret {
    pub registry: String,
    pub username: String,
    /// The secret as the service encrypted it.
    pub secret_ciphertext: String,
}

impl std::fmt::Debug for CredentialSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSecret")
            .field("registry", &self.registry)
            .field("username", &self.username)
            .field("secret_ciphertext", &"<redacted>")
            .finish()
    }
}

impl Store {
    /// Creates or replaces the credential for `registry`; `true` when it was created.
    pub async fn put_credential(
        &self,
        registry: &str,
        username: &str,
        secret_ciphertext: &str,
    ) -> Result<(CredentialSummary, bool), StoreError> {
        check_name("registry", registry)?;
        check_name("secret", secret_ciphertext)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT created_at FROM registry_credentials WHERE registry = $1")
                .bind(registry)
                .fetch_optional(&mut *tx)
                .await?;
        let created_at = existing.unwrap_or(now);
        sqlx::query(
            "INSERT INTO registry_credentials \
             (registry, username, secret_ciphertext, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (registry) DO UPDATE SET username = excluded.username, \
             secret_ciphertext = excluded.secret_ciphertext, updated_at = excluded.updated_at",
        )
        .bind(registry)
        .bind(username)
        .bind(secret_ciphertext)
        .bind(created_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let change = Change::new(ChangeKind::Credential, registry);
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        let summary = CredentialSummary {
            registry: registry.to_string(),
            username: username.to_string(),
            created_at,
            updated_at: now,
        };
        Ok((summary, existing.is_none()))
    }

    /// Every credential, by registry, without secrets.
    pub async fn list_credentials(&self) -> Result<Vec<CredentialSummary>, StoreError> {
        // The ciphertext column is not even read.
        let rows = sqlx::query(
            "SELECT registry, username, created_at, updated_at FROM registry_credentials \
             ORDER BY registry",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CredentialSummary {
                    registry: row.try_get("registry")?,
                    username: row.try_get("username")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// The credential for `registry` with its encrypted secret, if any.
    pub async fn get_credential_secret(
        &self,
        registry: &str,
    ) -> Result<Option<CredentialSecret>, StoreError> {
        let row = sqlx::query(
            "SELECT registry, username, secret_ciphertext FROM registry_credentials \
             WHERE registry = $1",
        )
        .bind(registry)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(CredentialSecret {
            registry: row.try_get("registry")?,
            username: row.try_get("username")?,
            secret_ciphertext: row.try_get("secret_ciphertext")?,
        }))
    }

    /// Deletes the credential for `registry`; `false` when there was none.
    pub async fn delete_credential(&self, registry: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM registry_credentials WHERE registry = $1")
            .bind(registry)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let change = Change::new(ChangeKind::Credential, registry);
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        Ok(true)
    }
}
