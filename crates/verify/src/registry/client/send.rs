//! One request's life: its scheme and transport, authentication when challenged, and
//! retries with backoff (honouring `Retry-After`) of what a registry may answer better
//! later.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, AUTHORIZATION, RETRY_AFTER};
use reqwest::StatusCode;

use super::{error_chain, Access, RegistryClient, Request, Response, RETRYABLE};
use crate::registry::http::SendError;
use crate::registry::Transport;
use crate::{Error, Result};

impl RegistryClient {
    /// Sends a request with authentication and retries; returns any final response,
    /// leaving status handling to the caller.
    pub(crate) async fn send(&self, req: Request<'_>) -> Result<Response> {
        let cfg = &self.inner.config;
        let scope = match req.access {
            Access::Pull => format!("repository:{}:pull", req.repository),
            Access::Push => format!("repository:{}:pull,push", req.repository),
        };
        let auth_key = (
            self.credentials_identity().to_owned(),
            req.host.to_owned(),
            scope,
        );
        let scope = auth_key.2.as_str();
        let (verify, scheme) = self.transport(req.host).await;
        let mut authenticated = false;
        let mut retries = 0;
        loop {
            let url = format!("{scheme}://{}{}", req.host, req.path);
            let authorization = self.cached_auth(&auth_key);
            let started = Instant::now();
            let deadline = tokio::time::Instant::now() + cfg.request_timeout;
            let outcome = match &self.inner.fast {
                Some((verified, unverified)) => {
                    let client = if verify { verified } else { unverified };
                    client
                        .send(
                            &req.method,
                            url,
                            &req.headers,
                            authorization.as_deref(),
                            req.body.as_ref(),
                            deadline,
                        )
                        .await
                }
                None => {
                    let client = if verify {
                        &self.inner.verified
                    } else {
                        &self.inner.unverified
                    };
                    let mut builder = client
                        .request(req.method.clone(), &url)
                        .headers(req.headers.clone());
                    if let Some(value) = authorization {
                        builder = builder.header(AUTHORIZATION, value);
                    }
                    if let Some(body) = &req.body {
                        builder = builder.body(body.clone());
                    }
                    Box::pin(builder.send())
                        .await
                        .map(|r| Response::from_reqwest(r, deadline))
                        .map_err(SendError::from_reqwest)
                }
            };
            tracing::debug!(
                registry = req.host,
                method = %req.method,
                path = %req.path,
                status = outcome.as_ref().map(|r| r.status().as_u16()).unwrap_or(0),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "registry request"
            );
            let wait = match outcome {
                Err(e) if e.is_timeout() => {
                    return Err(Error::Timeout {
                        registry: req.host.to_owned(),
                        seconds: cfg.request_timeout.as_secs().max(1),
                    })
                }
                // A certificate the registry cannot prove, or a peer that does not speak
                // TLS, stays so: reported at once, never retried.
                Err(e) if e.is_connect() && is_tls_failure(e.cause()) => {
                    return Err(Error::Registry {
                        registry: req.host.to_owned(),
                        reason: format!("TLS handshake failed: {}", error_chain(e.cause())),
                    })
                }
                // Refused, or (for a request that may be repeated) closed or reset before
                // an answer: a registry restarting, a stale pooled connection.
                Err(e)
                    if (e.is_connect() || req.method.is_idempotent())
                        && retries < cfg.max_retries =>
                {
                    self.backoff(retries)
                }
                Err(e) => {
                    return Err(Error::Registry {
                        registry: req.host.to_owned(),
                        reason: format!(
                            "unreachable after {retries} retries: {}",
                            error_chain(e.cause())
                        ),
                    })
                }
                Ok(resp) if resp.status() == StatusCode::UNAUTHORIZED && !authenticated => {
                    authenticated = true;
                    // Boxed, as the other rare paths: a smaller future for every request.
                    Box::pin(self.authenticate(req.host, scope, resp.headers())).await?;
                    continue;
                }
                Ok(resp) if resp.status() == StatusCode::UNAUTHORIZED => {
                    let reason = if self.credentials_for(req.host).is_some() {
                        "credentials were refused".to_owned()
                    } else {
                        self.no_credentials()
                    };
                    return Err(Error::Unauthorized {
                        registry: req.host.to_owned(),
                        reason,
                    });
                }
                Ok(resp) if RETRYABLE.contains(&resp.status()) => {
                    if retries >= cfg.max_retries {
                        return Err(Error::Registry {
                            registry: req.host.to_owned(),
                            reason: format!(
                                "HTTP {} after {} retries",
                                resp.status().as_u16(),
                                retries
                            ),
                        });
                    }
                    retry_after(resp.headers())
                        .map(|d| d.min(cfg.max_backoff))
                        .unwrap_or_else(|| self.backoff(retries))
                }
                Ok(resp) => return Ok(resp),
            };
            retries += 1;
            tokio::time::sleep(wait).await;
        }
    }

    fn backoff(&self, retries: u32) -> Duration {
        let cfg = &self.inner.config;
        cfg.initial_backoff
            .saturating_mul(2u32.saturating_pow(retries))
            .min(cfg.max_backoff)
    }

    /// Whether certificates are verified for a host, and its scheme; probing TLS once for
    /// `Insecure` hosts.
    async fn transport(&self, host: &str) -> (bool, &'static str) {
        let inner = &self.inner;
        match self.transport_for(host) {
            Transport::Https => (true, "https"),
            Transport::HttpsUnverified => (false, "https"),
            Transport::Http => (false, "http"),
            Transport::Insecure => {
                let known = inner.probed.lock().ok().and_then(|m| m.get(host).copied());
                if let Some(scheme) = known {
                    return (false, scheme);
                }
                (false, Box::pin(self.probe(host)).await)
            }
        }
    }

    /// The scheme an `Insecure` host speaks.
    async fn probe(&self, host: &str) -> &'static str {
        let inner = &self.inner;
        // HTTPS if the host speaks TLS at all; plain HTTP if it answers that
        // instead (a TLS server answers plain HTTP with 400). Only a scheme that
        // answered is remembered: a registry that is down now is probed again.
        let https = inner
            .unverified
            .get(format!("https://{host}/v2/"))
            .send()
            .await;
        let scheme = if https.is_ok() {
            Some("https")
        } else {
            match inner
                .unverified
                .get(format!("http://{host}/v2/"))
                .send()
                .await
            {
                Ok(resp) if resp.status() != StatusCode::BAD_REQUEST => Some("http"),
                _ => None,
            }
        };
        if let (Some(scheme), Ok(mut m)) = (scheme, inner.probed.lock()) {
            m.insert(host.to_owned(), scheme);
        }
        scheme.unwrap_or("https")
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = when.signed_duration_since(chrono::Utc::now());
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Whether a connect error is the TLS handshake failing rather than the host not
/// answering: rustls errors reach reqwest as an `io::ErrorKind::InvalidData` error,
/// which the HTTPS connector wraps in another `io::Error` (whose `source()` skips it, hence
/// `get_ref`).
fn is_tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    fn tls_io(io: &std::io::Error) -> bool {
        io.kind() == std::io::ErrorKind::InvalidData
            || io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<std::io::Error>())
                .is_some_and(tls_io)
    }
    let mut source = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>().is_some_and(tls_io) {
            return true;
        }
        source = s.source();
    }
    false
}
