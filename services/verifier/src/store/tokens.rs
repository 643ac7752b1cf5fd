//! API tokens. The store keeps a token's id (the JWT `jti`), role, cluster,
//! expiry and revocation; never the signed token itself.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{check_name, flag, now_ms, Backend, Change, ChangeKind, Store, StoreError};

/// The roles a token may have.
pub const TOKEN_ROLES: [&str; 3] = ["admin", "cluster", "reader"];

/// A token's stored facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The JWT id (`jti`).
    pub id: String,
    /// `admin`, `cluster` or `reader`.
    pub role: String,
    /// The cluster a `cluster` token (or a cluster-scoped reader) acts for.
    pub cluster: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds; `None` never expires.
    pub expires_at: Option<i64>,
    pub revoked: bool,
    pub description: Option<String>,
}

fn record(row: &AnyRow) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: row.try_get("id")?,
        role: row.try_get("role")?,
        cluster: row.try_get("cluster")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked: flag(row.try_get("revoked")?),
        description: row.try_get("description")?,
    })
}

/// The columns [`record`] reads, as a literal for `concat!`.
macro_rules! columns {
    () => {
        "id, role, cluster, created_at, expires_at, revoked, description"
    };
}

/// Admin tokens that still work at `$1` (unix ms), as a literal for `concat!`.
macro_rules! active_admins {
    () => {
        "role = 'admin' AND revoked = 0 AND (expires_at IS NULL OR expires_at > $1)"
    };
}

impl Store {
    /// Stores a new token. [`StoreError::Conflict`] when the id exists,
    /// [`StoreError::Invalid`] for an unknown role or a `cluster` token without a
    /// cluster, [`StoreError::NotFound`] when its cluster is not registered.
    pub async fn create_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        self.insert_token(t, false).await.map(|_| ())
    }

    /// Stores `t` only when no usable admin token exists, and says whether it did.
    /// Replicas that start together on a fresh store all see no admin; the check and the
    /// insert are one transaction that keeps other writers of `tokens` out, so exactly
    /// one of them creates the bootstrap token.
    pub async fn create_first_admin_token(&self, t: &TokenRecord) -> Result<bool, StoreError> {
        self.insert_token(t, true).await
    }

    async fn insert_token(&self, t: &TokenRecord, first_admin: bool) -> Result<bool, StoreError> {
        check_name("token id", &t.id)?;
        if !TOKEN_ROLES.contains(&t.role.as_str()) {
            return Err(StoreError::Invalid(format!(
                "token role {:?} is not one of admin, cluster, reader",
                t.role
            )));
        }
        if t.role == "cluster" && t.cluster.is_none() {
            return Err(StoreError::Invalid(
                "a cluster token needs a cluster".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        if first_admin {
            // SQLite's BEGIN IMMEDIATE already excludes other writers.
            if self.backend() == Backend::Postgres {
                sqlx::query("LOCK TABLE tokens IN EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
            let admins: i64 = sqlx::query_scalar(concat!(
                "SELECT COUNT(*) FROM tokens WHERE ",
                active_admins!()
            ))
            .bind(now_ms())
            .fetch_one(&mut *tx)
            .await?;
            if admins > 0 {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        if let Some(cluster) = &t.cluster {
            let found: Option<String> =
                sqlx::query_scalar("SELECT name FROM clusters WHERE name = $1")
                    .bind(cluster)
                    .fetch_optional(&mut *tx)
                    .await?;
            if found.is_none() {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("cluster {cluster}")));
            }
        }
        let done = sqlx::query(
            "INSERT INTO tokens (id, role, cluster, description, created_at, expires_at, revoked) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&t.id)
        .bind(&t.role)
        .bind(&t.cluster)
        .bind(&t.description)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(i64::from(t.revoked))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(StoreError::Conflict("a token with this id exists".into()));
        }
        let change = Change::new(ChangeKind::Token, t.id.clone());
        self.notify_in(&mut tx, &change).await?;
        self.commit(tx, vec![change]).await?;
        Ok(true)
    }

    /// The token `id`, if any (revoked and expired ones included).
    pub async fn get_token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM tokens WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(record).transpose()
    }

    /// Every token, or those of one cluster, oldest first.
    pub async fn list_tokens(&self, cluster: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = match cluster {
            Some(c) => {
                sqlx::query(concat!(
                    "SELECT ",
                    columns!(),
                    " FROM tokens WHERE cluster = $1 ORDER BY created_at, id"
                ))
                .bind(c)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    columns!(),
                    " FROM tokens ORDER BY created_at, id"
                ))
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(record).collect()
    }

    /// Revokes the token `id`; `false` when there is no such token. Revoking a
    /// revoked token succeeds and changes nothing.
    pub async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let found: Option<i64> = sqlx::query_scalar("SELECT revoked FROM tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        match found {
            None => {
                tx.rollback().await?;
                Ok(false)
            }
            Some(r) if flag(r) => {
                tx.rollback().await?;
                Ok(true)
            }
            Some(_) => {
                sqlx::query("UPDATE tokens SET revoked = 1 WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let change = Change::new(ChangeKind::Token, id);
                self.notify_in(&mut tx, &change).await?;
                self.commit(tx, vec![change]).await?;
                Ok(true)
            }
        }
    }

    /// How many admin tokens are usable now (not revoked, not expired): zero means
    /// the service must create a bootstrap admin token.
    pub async fn count_admin_tokens(&self) -> Result<i64, StoreError> {
        let n: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM tokens WHERE ",
            active_admins!()
        ))
        .bind(now_ms())
        .fetch_one(self.pool())
        .await?;
        Ok(n)
    }
}
