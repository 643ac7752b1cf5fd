//! Issuing and checking tokens. The HMAC key is generated at first start and kept in the
//! store, so every replica shares it and no default secret exists.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{Principal, Role};
use crate::error::ApiError;
use crate::store::{now_ms, Store, TokenRecord};

const SECRET_SETTING: &str = "jwt_hmac_key";
/// How long a positive token check is reused: short enough that a revocation is felt
/// within the second DESIGN.md allows, long enough to keep the store off the hot path.
const CHECK_TTL: Duration = Duration::from_secs(1);
/// Checks kept before stale ones are dropped.
const MAX_CHECKED: usize = 10_000;

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
    checked: Arc<Mutex<HashMap<String, Checked>>>,
}

/// A positive token check.
struct Checked {
    jti: String,
    principal: Principal,
    at: Instant,
    /// `exp` of the claims, unix seconds.
    exp: Option<i64>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authenticator { key: <redacted> }")
    }
}

/// 32 random bytes, hex: token ids and the HMAC key.
pub(crate) fn random_hex(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).map_err(|_| ApiError::Internal("no randomness".into()))?;
    Ok(hex::encode(buf))
}

impl Authenticator {
    /// Loads the signing key from the store, creating it on first start.
    pub async fn load(store: Store) -> Result<Self, ApiError> {
        let fresh = base64::engine::general_purpose::STANDARD.encode(random_hex(32)?);
        let stored = store.put_setting_if_absent(SECRET_SETTING, &fresh).await?;
        let key = base64::engine::general_purpose::STANDARD
            .decode(stored)
            .map_err(|_| ApiError::Internal("stored JWT key is not base64".into()))?;
        Ok(Authenticator {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            store,
            checked: Arc::new(Mutex::new(HashMap::new())),
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
        self.store.create_token(&record).await?;
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
        if let Some(p) = self.cached(token) {
            return Ok(p);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims = HashSet::new();
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => unauth("token expired"),
                _ => unauth("invalid token"),
            })?
            .claims;
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
        let principal = Principal {
            token_id: record.id,
            role,
            cluster: record.cluster,
        };
        let checked = Checked {
            jti: claims.jti,
            principal: principal.clone(),
            at: Instant::now(),
            exp: claims.exp,
        };
        let mut m = self.lock();
        if m.len() >= MAX_CHECKED {
            m.retain(|_, c| c.at.elapsed() < CHECK_TTL);
        }
        m.insert(token.to_owned(), checked);
        Ok(principal)
    }

    /// The principal of a token checked within [`CHECK_TTL`] and not expired since.
    fn cached(&self, token: &str) -> Option<Principal> {
        let m = self.lock();
        let c = m.get(token)?;
        let live = c.at.elapsed() < CHECK_TTL
            && c.exp.is_none_or(|exp| exp.saturating_mul(1000) > now_ms());
        live.then(|| c.principal.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Checked>> {
        self.checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets cached checks (a token was revoked here or on another replica).
    pub fn forget(&self, id: Option<&str>) {
        let mut m = self.lock();
        match id {
            Some(id) => m.retain(|_, c| c.jti != id),
            None => m.clear(),
        }
    }
}
