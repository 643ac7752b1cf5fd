//! Issuing and checking tokens. The HMAC key comes from a file every replica mounts, or is
//! generated at first start and kept in the store, so every replica shares it and no
//! default secret exists.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use moka::future::Cache;
use serde::{Deserialize, Serialize};

use super::{Principal, Role};
use crate::error::ApiError;
use crate::store::{now_ms, Store, TokenRecord};

const SECRET_SETTING: &str = "jwt_hmac_key";
/// How long a positive token check is reused: short enough that a revocation is felt
/// within the second DESIGN.md allows, long enough to keep the store off the hot path.
const CHECK_TTL: Duration = Duration::from_secs(1);
/// Positive checks kept at most; beyond, the least used are dropped first.
const MAX_CHECKED: u64 = 10_000;
/// Shortest HMAC key accepted from a file: HS256's own output size.
pub const MIN_KEY_BYTES: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    jti: String,
    role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<String>,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

/// Issues and checks bearer tokens.
#[derive(Clone)]
pub struct Authenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    store: Store,
    /// Recent positive checks by token text, so a relay's repeated calls skip the HMAC
    /// and the store; only tokens whose signature verified get here.
    checked: Cache<String, Checked>,
    /// Checks that went to the store (tests count them).
    store_checks: Arc<AtomicU64>,
}

/// A positive token check.
#[derive(Clone)]
struct Checked {
    jti: String,
    principal: Principal,
    /// `exp` of the claims, unix seconds.
    exp: Option<i64>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authenticator { key: <redacted> }")
    }
}

/// 32 random bytes, hex: token ids and the HMAC key.
fn random_hex(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).map_err(|_| ApiError::Internal("no randomness".into()))?;
    Ok(hex::encode(buf))
}

impl Authenticator {
    /// Signs and checks with `key` when one is given (read from a file by the caller),
    /// otherwise with the key kept in the store, created on first start.
    pub async fn load(store: Store, key: Option<Vec<u8>>) -> Result<Self, ApiError> {
        let key = match key {
            Some(key) if key.len() < MIN_KEY_BYTES => {
                return Err(ApiError::bad_request(format!(
                    "the JWT key has {} bytes; at least {MIN_KEY_BYTES} are needed",
                    key.len()
                )))
            }
            Some(key) => key,
            None => {
                let fresh = base64::engine::general_purpose::STANDARD.encode(random_hex(32)?);
                let stored = store.put_setting_if_absent(SECRET_SETTING, &fresh).await?;
                base64::engine::general_purpose::STANDARD
                    .decode(stored)
                    .map_err(|_| ApiError::Internal("stored JWT key is not base64".into()))?
            }
        };
        Ok(Authenticator {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            store,
            checked: Cache::builder()
                .max_capacity(MAX_CHECKED)
                .time_to_live(CHECK_TTL)
                .support_invalidation_closures()
                .build(),
            store_checks: Arc::default(),
        })
    }

    /// Issues a token; the JWT is returned once and never stored.
    pub async fn issue(
        &self,
        role: Role,
        cluster: Option<&str>,
        ttl: Option<Duration>,
        description: Option<&str>,
    ) -> Result<(TokenRecord, String), ApiError> {
        let (record, jwt) = self.sign(role, cluster, ttl, description)?;
        self.store.create_token(&record).await?;
        Ok((record, jwt))
    }

    /// Issues an admin token that never expires, only when no usable admin token exists
    /// (the first start, even when several replicas start at once).
    pub async fn issue_first_admin(
        &self,
        description: &str,
    ) -> Result<Option<(TokenRecord, String)>, ApiError> {
        let (record, jwt) = self.sign(Role::Admin, None, None, Some(description))?;
        let created = self.store.create_first_admin_token(&record).await?;
        Ok(created.then_some((record, jwt)))
    }

    /// A new token record and its signed JWT, not yet stored.
    fn sign(
        &self,
        role: Role,
        cluster: Option<&str>,
        ttl: Option<Duration>,
        description: Option<&str>,
    ) -> Result<(TokenRecord, String), ApiError> {
        let now = now_ms();
        let record = TokenRecord {
            id: random_hex(16)?,
            role: role.as_str().to_owned(),
            cluster: cluster.map(str::to_owned),
            created_at: now,
            expires_at: ttl.map(|t| now + t.as_millis() as i64),
            revoked: false,
            description: description.map(str::to_owned),
        };
        let claims = Claims {
            jti: record.id.clone(),
            role: record.role.clone(),
            cluster: record.cluster.clone(),
            iat: now / 1000,
            exp: record.expires_at.map(|ms| ms / 1000),
        };
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("signing a token: {e}")))?;
        Ok((record, jwt))
    }

    /// Checks an `Authorization` header value (`Bearer <jwt>`).
    pub async fn authenticate(&self, header: Option<&str>) -> Result<Principal, ApiError> {
        let unauth = |m: &str| ApiError::Unauthenticated(m.to_owned());
        let header = header.ok_or_else(|| unauth("no bearer token"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| unauth("the Authorization header is not a bearer token"))?
            .trim();
        // Concurrent calls with one token share one check: when its entry expires, a
        // relay's calls in flight wait for one store read instead of each making one.
        let checked = self
            .checked
            .try_get_with_by_ref(token, self.check(token))
            .await
            .map_err(|e: Arc<ApiError>| e.as_ref().clone())?;
        if checked
            .exp
            .is_some_and(|exp| exp.saturating_mul(1000) <= now_ms())
        {
            self.checked.invalidate(token).await;
            return Err(unauth("token expired"));
        }
        Ok(checked.principal)
    }

    /// Verifies the token's signature and looks it up in the store.
    async fn check(&self, token: &str) -> Result<Checked, ApiError> {
        let unauth = |m: &str| ApiError::Unauthenticated(m.to_owned());
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims = HashSet::new();
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => unauth("token expired"),
                _ => unauth("invalid token"),
            })?
            .claims;
        self.store_checks.fetch_add(1, Ordering::Relaxed);
        let record = self
            .store
            .get_token(&claims.jti)
            .await?
            .ok_or_else(|| unauth("unknown token"))?;
        if record.revoked {
            return Err(unauth("token revoked"));
        }
        if record.expires_at.is_some_and(|e| e <= now_ms()) {
            return Err(unauth("token expired"));
        }
        let role = Role::parse(&record.role).ok_or_else(|| unauth("token with an unknown role"))?;
        Ok(Checked {
            jti: claims.jti,
            principal: Principal {
                token_id: record.id,
                role,
                cluster: record.cluster,
            },
            exp: claims.exp,
        })
    }

    /// Forgets cached checks (a token was revoked here or on another replica).
    pub fn forget(&self, id: Option<&str>) {
        match id {
            Some(id) => {
                let id = id.to_owned();
                // Only fails when invalidation closures are not enabled; they are.
                let _ = self
                    .checked
                    .invalidate_entries_if(move |_, c: &Checked| c.jti == id);
            }
            None => self.checked.invalidate_all(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn authenticator() -> (tempfile::TempDir, Store, Authenticator) {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(None, dir.path()).await.expect("store");
        store
            .create_cluster("c1", &Default::default())
            .await
            .expect("cluster");
        let auth = Authenticator::load(store.clone(), None)
            .await
            .expect("auth");
        (dir, store, auth)
    }

    #[tokio::test]
    async fn a_key_from_a_file_signs_for_every_replica_and_stays_out_of_the_store() {
        let (_dir, store, _) = authenticator().await;
        let key = b"0123456789abcdef0123456789abcdef-shared-by-replicas".to_vec();
        let a = Authenticator::load(store.clone(), Some(key.clone()))
            .await
            .expect("replica a");
        let b = Authenticator::load(store.clone(), Some(key))
            .await
            .expect("replica b");
        let (_, token) = cluster_token(&a).await;
        let principal = b
            .authenticate(Some(&token))
            .await
            .expect("b accepts a's token");
        assert_eq!(principal.cluster.as_deref(), Some("c1"));

        // The store's generated key is a different key: it refuses the file key's tokens.
        let stored = Authenticator::load(store.clone(), None)
            .await
            .expect("stored key");
        let refused = stored
            .authenticate(Some(&token))
            .await
            .expect_err("other key");
        assert!(refused.to_string().contains("invalid token"), "{refused}");

        let short = Authenticator::load(store, Some(vec![7; MIN_KEY_BYTES - 1]))
            .await
            .expect_err("short key");
        assert!(short.to_string().contains("31 bytes"), "{short}");
    }

    /// A new token of cluster c1 and its `Authorization` value.
    async fn cluster_token(auth: &Authenticator) -> (TokenRecord, String) {
        let (record, jwt) = auth
            .issue(Role::Cluster, Some("c1"), None, None)
            .await
            .expect("issue");
        (record, format!("Bearer {jwt}"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_with_one_token_share_one_store_check() {
        let (_dir, _store, auth) = authenticator().await;
        let (record, header) = cluster_token(&auth).await;
        let calls: Vec<_> = (0..32)
            .map(|_| {
                let (auth, header) = (auth.clone(), header.clone());
                tokio::spawn(async move { auth.authenticate(Some(&header)).await })
            })
            .collect();
        for call in calls {
            let p = call.await.expect("task").expect("authenticated");
            assert_eq!(p.token_id, record.id);
            assert_eq!(p.cluster.as_deref(), Some("c1"));
        }
        assert_eq!(auth.store_checks.load(Ordering::Relaxed), 1);
        // Forgetting (a revocation somewhere) sends the next call to the store again.
        auth.forget(None);
        auth.authenticate(Some(&header)).await.expect("again");
        assert_eq!(auth.store_checks.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_revoked_token_is_refused_once_forgotten() {
        let (_dir, store, auth) = authenticator().await;
        let (record, header) = cluster_token(&auth).await;
        auth.authenticate(Some(&header)).await.expect("valid");
        assert!(store.revoke_token(&record.id).await.expect("revoke"));
        auth.forget(Some(&record.id));
        let err = auth.authenticate(Some(&header)).await.expect_err("revoked");
        assert!(
            matches!(&err, ApiError::Unauthenticated(m) if m == "token revoked"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn an_invalid_token_never_reaches_the_store_and_is_not_remembered() {
        let (_dir, _store, auth) = authenticator().await;
        for _ in 0..2 {
            let err = auth
                .authenticate(Some("Bearer not.a.jwt"))
                .await
                .expect_err("invalid");
            assert!(
                matches!(&err, ApiError::Unauthenticated(m) if m == "invalid token"),
                "{err:?}"
            );
        }
        assert_eq!(auth.store_checks.load(Ordering::Relaxed), 0);
        assert_eq!(auth.checked.entry_count(), 0);
    }
}
