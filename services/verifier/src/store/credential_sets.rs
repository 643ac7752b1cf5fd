//! Named registry-credential sets: the registry credentials of the Secrets that
//! `imageRegistryCredentials.secrets` names, one row per (set name, registry).
//!
//! As with [`super::credentials`], the store only ever holds the password sealed (by the
//! service, bound to the set's name and the registry); listing returns
//! [`NamedCredentialSummary`], which has no secret, and [`NamedCredentialSecret`]
//! neither serializes nor prints its ciphertext.

use serde::Serialize;
use sqlx::Row;

use super::{check_name, now_ms, Change, ChangeKind, Store, StoreError};

/// One registry of a named set as the API shows it: no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedCredentialSummary {
    /// The set's name, as policies write it in `imageRegistryCredentials.secrets`.
    pub secret: String,
    /// Registry host the credential is for.
    pub registry: String,
    /// User name.
    pub username: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// One registry of a named set with its sealed password, for the registry client only.
#[derive(Clone, PartialEq, Eq)]
pub struct NamedCredentialSecret {
    /// The set's name.
    pub secret: String,
    /// Registry host.
    pub registry: String,
    /// User name.
    pub username: String,
    /// The password as the service sealed it.
    pub secret_ciphertext: String,
}

impl std::fmt::Debug for NamedCredentialSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedCredentialSecret")
            .field("secret", &self.secret)
            .field("registry", &self.registry)
            .field("username", &self.username)
            .field("secret_ciphertext", &"<redacted>")
            .finish()
    }
}

/// The name a change of one registry of a set is announced under: `SET@REGISTRY`.
fn change_name(secret: &str, registry: &str) -> String {
    format!("{secret}@{registry}")
}

impl Store {
    /// Creates or replaces the credential for `registry` in the set `secret` (creating
    /// the set with its first registry); `true` when it was created. Announced as a
    /// [`ChangeKind::Credential`] change named `SET@REGISTRY`.
    pub async fn put_named_credential(
        &self,
        secret: &str,
        registry: &str,
        username: &str,
        secret_ciphertext: &str,
    ) -> Result<(NamedCredentialSummary, bool), StoreError> {
        check_name("secret", secret)?;
        check_name("registry", registry)?;
        check_name("sealed password", secret_ciphertext)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let existing: Option<i64> = sqlx::query_scalar(
            "SELECT created_at FROM registry_credential_sets WHERE name = $1 AND registry = $2",
        )
        .bind(secret)
        .bind(registry)
        .fetch_optional(&mut *tx)
        .await?;
        let created_at = existing.unwrap_or(now);
        sqlx::query(
            "INSERT INTO registry_credential_sets \
             (name, registry, username, secret_ciphertext, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (name, registry) DO UPDATE SET username = excluded.username, \
             secret_ciphertext = excluded.secret_ciphertext, updated_at = excluded.updated_at",
        )
        .bind(secret)
        .bind(registry)
        .bind(username)
        .bind(secret_ciphertext)
        .bind(created_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let change = Change::new(ChangeKind::Credential, change_name(secret, registry));
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        let summary = NamedCredentialSummary {
            secret: secret.to_string(),
            registry: registry.to_string(),
            username: username.to_string(),
            created_at,
            updated_at: now,
        };
        Ok((summary, existing.is_none()))
    }

    /// Every registry of every named set, by set name then registry, without secrets.
    pub async fn list_named_credentials(&self) -> Result<Vec<NamedCredentialSummary>, StoreError> {
        // The ciphertext column is not even read.
        let rows = sqlx::query(
            "SELECT name, registry, username, created_at, updated_at \
             FROM registry_credential_sets ORDER BY name, registry",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(NamedCredentialSummary {
                    secret: row.try_get("name")?,
                    registry: row.try_get("registry")?,
                    username: row.try_get("username")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// Every registry of every named set with its sealed password, by set name then
    /// registry, for loading into the registry client.
    pub async fn list_named_credential_secrets(
        &self,
    ) -> Result<Vec<NamedCredentialSecret>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, registry, username, secret_ciphertext \
             FROM registry_credential_sets ORDER BY name, registry",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(NamedCredentialSecret {
                    secret: row.try_get("name")?,
                    registry: row.try_get("registry")?,
                    username: row.try_get("username")?,
                    secret_ciphertext: row.try_get("secret_ciphertext")?,
                })
            })
            .collect()
    }

    /// Deletes `registry` from the set `secret` (the set ends with its last registry);
    /// `false` when the set has no such registry.
    pub async fn delete_named_credential(
        &self,
        secret: &str,
        registry: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("DELETE FROM registry_credential_sets WHERE name = $1 AND registry = $2")
                .bind(secret)
                .bind(registry)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let change = Change::new(ChangeKind::Credential, change_name(secret, registry));
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        Ok(true)
    }
}
