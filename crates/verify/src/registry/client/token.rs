//! Answering a registry's challenge: basic credentials, or a bearer token from the
//! challenge's realm, kept for its lifetime per (credentials, host, scope).

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, AUTHORIZATION, WWW_AUTHENTICATE};

use super::{error_chain, read_limited, AuthKey, RegistryClient, Response};
use crate::registry::auth::{basic_header, parse_challenge, Challenge, TokenResponse};
use crate::registry::{Credentials, Transport};
use crate::{Error, Result};

impl RegistryClient {
    /// Why a registry that wants credentials got none from this view.
    pub(super) fn no_credentials(&self) -> String {
        match &self.secrets {
            None => "the registry requires credentials and none are configured".to_owned(),
            Some(view) => {
                let names: Vec<String> = view.names.iter().map(|n| format!("{n:?}")).collect();
                format!(
                    "the registry requires credentials and no registry credentials secret \
                     of the rule ({}) holds any for it",
                    names.join(", ")
                )
            }
        }
    }

    /// The cached Authorization value for (credentials identity, host, scope).
    pub(super) fn cached_auth(&self, key: &AuthKey) -> Option<String> {
        let map = self.inner.auth.lock().ok()?;
        if map.is_empty() {
            return None;
        }
        let (value, expires) = map.get(key)?;
        (Instant::now() < *expires).then(|| value.clone())
    }

    fn store_auth(&self, host: &str, scope: &str, value: String, ttl: Duration) {
        if let Ok(mut map) = self.inner.auth.lock() {
            map.insert(
                (
                    self.credentials_identity().to_owned(),
                    host.to_owned(),
                    scope.to_owned(),
                ),
                (value, Instant::now() + ttl),
            );
        }
    }

    /// Answers a 401: basic credentials, or a bearer token from the challenge's realm.
    pub(super) async fn authenticate(
        &self,
        host: &str,
        scope: &str,
        headers: &HeaderMap,
    ) -> Result<()> {
        let unauthorized = |reason: &str| Error::Unauthorized {
            registry: host.to_owned(),
            reason: reason.to_owned(),
        };
        let challenge = headers
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_challenge)
            .ok_or_else(|| unauthorized("no usable WWW-Authenticate challenge"))?;
        let creds = self.credentials_for(host);
        let creds = creds.as_ref();
        match challenge {
            Challenge::Basic => match creds {
                Some(Credentials::Basic { username, password }) => {
                    let value = basic_header(username, password);
                    self.store_auth(host, scope, value, Duration::from_secs(3600));
                    Ok(())
                }
                _ => Err(unauthorized(&self.no_credentials())),
            },
            Challenge::Bearer {
                realm,
                service,
                scope: challenge_scope,
            } => {
                if let Some(Credentials::Bearer(token)) = creds {
                    self.store_auth(
                        host,
                        scope,
                        format!("Bearer {token}"),
                        Duration::from_secs(300),
                    );
                    return Ok(());
                }
                let mut url = reqwest::Url::parse(&realm)
                    .map_err(|_| unauthorized("the token realm is not a URL"))?;
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(service) = &service {
                        q.append_pair("service", service);
                    }
                    q.append_pair("scope", challenge_scope.as_deref().unwrap_or(scope));
                }
                let client = match self.transport_for(host) {
                    Transport::Https => &self.inner.verified,
                    _ => &self.inner.unverified,
                };
                let mut req = client.get(url);
                if let Some(Credentials::Basic { username, password }) = creds {
                    req = req.header(AUTHORIZATION, basic_header(username, password));
                }
                let resp = req.send().await.map_err(|e| Error::Registry {
                    registry: host.to_owned(),
                    reason: format!("token service unreachable: {}", error_chain(&e)),
                })?;
                if !resp.status().is_success() {
                    return Err(unauthorized(&format!(
                        "token service answered HTTP {}",
                        resp.status().as_u16()
                    )));
                }
                let deadline = tokio::time::Instant::now() + self.inner.config.request_timeout;
                let body = read_limited(
                    Response::from_reqwest(resp, deadline),
                    host,
                    64 * 1024,
                    "token response",
                    self.inner.config.request_timeout,
                )
                .await?;
                let (token, expires_in) = serde_json::from_slice::<TokenResponse>(&body)
                    .ok()
                    .and_then(TokenResponse::into_token)
                    .ok_or_else(|| unauthorized("the token service gave no token"))?;
                let ttl = Duration::from_secs(expires_in.unwrap_or(60).saturating_sub(5).max(1));
                self.store_auth(host, scope, format!("Bearer {token}"), ttl);
                Ok(())
            }
        }
    }
}
