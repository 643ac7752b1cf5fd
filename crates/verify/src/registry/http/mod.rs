//! The HTTP layer under registry requests: hyper connections (HTTP/1.1, or HTTP/2 where
//! TLS negotiates it) over rustls, kept in a small pool, with the behaviour Signet relied
//! on from reqwest (redirects, one deadline per request that covers the body,
//! `User-Agent`, `Accept: */*` by default), without reqwest's per-request overhead (three
//! URL parses, tower layers, header-map copies) or hyper-util's (pool keys, a task spawned
//! per request to return the connection), which made up most of Signet's CPU per
//! verification. An HTTP/1 connection is driven by the request that holds it, not by a
//! task of its own (see [`connection::Driver`]).
//!
//! When the environment configures a proxy (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, in
//! either case), requests go through reqwest, which honours it, exactly as before.
//!
//! - this module: the client, its redirects and the headers each hop carries;
//! - [`pool`]: idle connections by origin, and a request's round trip on one;
//! - [`connection`]: opening a connection, and driving an HTTP/1 one from its request;
//! - [`response`]: the answer, its body read before the deadline;
//! - [`error`]: what became of a request that failed;
//! - [`tls`]: the TLS configuration, verified or not.

mod connection;
mod error;
mod pool;
mod response;
mod tls;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, COOKIE, HOST, LOCATION,
    PROXY_AUTHORIZATION, USER_AGENT, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode};
use rustls_pki_types::CertificateDer;
use tokio::time::Instant;

pub(crate) use error::SendError;
use pool::{host_header, origin_of, Pool};
pub(crate) use response::Response;
use response::ResponseBody;

/// The `User-Agent` of every registry request.
pub(crate) const USER_AGENT_VALUE: &str = concat!("signet/", env!("CARGO_PKG_VERSION"));

/// reqwest's `Policy::limited(5)`, which Signet used: the fifth redirect of one request is
/// an error (four are followed).
const MAX_REDIRECTS: usize = 5;

/// Whether the environment asks for a proxy (reqwest reads these variables).
pub(crate) fn proxy_in_environment() -> bool {
    [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ]
    .iter()
    .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// A pooled HTTP/1.1 and HTTP/2 (by ALPN) client; TLS verified against the platform's
/// roots plus `extra_roots`, or not verified at all.
#[derive(Clone)]
pub(crate) struct FastClient {
    inner: Arc<Pool>,
}

impl fmt::Debug for FastClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastClient").finish_non_exhaustive()
    }
}

impl FastClient {
    /// `verify: false` accepts any certificate (`--allow-insecure-registry`, plain HTTP
    /// hosts, which reqwest also served from its unverified client).
    pub(crate) fn new(
        verify: bool,
        extra_roots: &[CertificateDer<'static>],
        connect_timeout: Duration,
    ) -> Result<FastClient, String> {
        let tls = tls::config(verify, extra_roots)?;
        Ok(FastClient {
            inner: Arc::new(Pool::new(tls, connect_timeout)),
        })
    }

    /// Sends one request and follows redirects (301, 302, 303, 307, 308; at most four),
    /// all before `deadline`, which also bounds reading the body. Credentials (the
    /// `authorization` value and sensitive headers) only go to the origin they were meant
    /// for.
    pub(crate) async fn send(
        &self,
        method: &Method,
        url: String,
        headers: &HeaderMap,
        authorization: Option<&str>,
        body: Option<&Bytes>,
        deadline: Instant,
    ) -> Result<Response, SendError> {
        let mut uri: hyper::Uri = url.parse().map_err(SendError::other)?;
        let first = origin_of(&uri)?;
        let mut method = method.clone();
        let mut body = body.cloned();
        for hop in 0..MAX_REDIRECTS {
            let origin = origin_of(&uri)?;
            let same_origin = origin == first;
            let build = |h2: bool| {
                let mut request = hyper::Request::new(Full::new(body.clone().unwrap_or_default()));
                *request.method_mut() = method.clone();
                request.headers_mut().reserve(headers.len() + 4);
                if h2 {
                    *request.uri_mut() = uri.clone();
                } else {
                    // HTTP/1: origin-form target and a Host header, as hyper-util sends.
                    if let Some(target) = uri.path_and_query() {
                        *request.uri_mut() = hyper::Uri::from(target.clone());
                    }
                    if let Ok(host) = HeaderValue::from_str(host_header(&origin)) {
                        request.headers_mut().insert(HOST, host);
                    }
                }
                let out = request.headers_mut();
                for (name, value) in headers {
                    if same_origin || !is_sensitive(name) {
                        out.append(name, value.clone());
                    }
                }
                if !out.contains_key(USER_AGENT) {
                    out.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
                }
                if !out.contains_key(ACCEPT) {
                    out.insert(ACCEPT, HeaderValue::from_static("*/*"));
                }
                if let (true, Some(value)) = (same_origin, authorization) {
                    if let Ok(value) = HeaderValue::from_str(value) {
                        out.insert(AUTHORIZATION, value);
                    }
                }
                request
            };
            let (response, lent) = match tokio::time::timeout_at(
                deadline,
                self.inner.round_trip(&origin, build),
            )
            .await
            {
                Err(_) => return Err(SendError::timeout()),
                Ok(Err(e)) => return Err(e),
                Ok(Ok(answer)) => answer,
            };
            let (parts, incoming) = response.into_parts();
            let response = Response {
                status: parts.status,
                headers: parts.headers,
                body: ResponseBody::Hyper {
                    incoming,
                    lent,
                    finished: false,
                },
                deadline,
            };
            let status = response.status;
            let redirect = matches!(
                status,
                StatusCode::MOVED_PERMANENTLY
                    | StatusCode::FOUND
                    | StatusCode::SEE_OTHER
                    | StatusCode::TEMPORARY_REDIRECT
                    | StatusCode::PERMANENT_REDIRECT
            );
            let location = response.headers.get(LOCATION).and_then(|v| v.to_str().ok());
            let (true, Some(location)) = (redirect, location) else {
                return Ok(response);
            };
            if hop + 1 >= MAX_REDIRECTS {
                return Err(SendError::other("too many redirects"));
            }
            let next = reqwest::Url::parse(&uri.to_string())
                .and_then(|base| base.join(location))
                .map_err(SendError::other)?;
            drop(response);
            if next.scheme() != "http" && next.scheme() != "https" {
                return Err(SendError::other(format!(
                    "redirect to an unsupported scheme: {}",
                    next.scheme()
                )));
            }
            uri = next.as_str().parse().map_err(SendError::other)?;
            // As browsers and reqwest do: 303 turns anything but HEAD into GET, and
            // 301/302 turn POST into GET; 307 and 308 repeat the request as it was.
            let to_get = match status {
                StatusCode::SEE_OTHER => method != Method::HEAD,
                StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => method == Method::POST,
                _ => false,
            };
            if to_get {
                method = Method::GET;
                body = None;
            }
        }
        Err(SendError::other("too many redirects"))
    }
}

/// Headers that never follow a redirect to another origin.
fn is_sensitive(name: &HeaderName) -> bool {
    name == AUTHORIZATION
        || name == PROXY_AUTHORIZATION
        || name == COOKIE
        || name == WWW_AUTHENTICATE
        || name.as_str() == "cookie2"
}
