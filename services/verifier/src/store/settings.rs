//! Settings the service writes once and then only reads, such as the JWT signing
//! key generated at first start. The first writer wins, so replicas that start
//! together agree on one value.

use super::{check_name, now_ms, Store, StoreError};

impl Store {
    /// The setting `key`, if set.
    pub async fn get_setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let v: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(v)
    }

    /// Stores `value` under `key` unless a value is already there, and returns the
    /// value that is stored afterwards: `value` for the first writer, the earlier
    /// value for everyone else.
    pub async fn put_setting_if_absent(
        &self,
        key: &str,
        value: &str,
    ) -> Result<String, StoreError> {
        check_name("setting name", key)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO settings (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let stored: String = sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(stored)
    }
}
