//! The HTTP layer under registry requests: hyper's pooled client with rustls, with the
//! behaviour Signet relied on from reqwest (redirects, one deadline per request that
//! covers the body, `User-Agent`, `Accept: */*` by default), without reqwest's per-request
//! overhead (three URL parses, tower layers, header-map copies), which made up most of
//! Signet's CPU per verification.
//!
//! When the environment configures a proxy (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, in
//! either case), requests go through reqwest, which honours it, exactly as before.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Body as _;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, COOKIE, LOCATION,
    PROXY_AUTHORIZATION, USER_AGENT, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::time::Instant;

/// The `User-Agent` of every registry request.
pub(crate) const USER_AGENT_VALUE: &str = concat!("signet/", env!("CARGO_PKG_VERSION"));

/// reqwest's `Policy::limited(5)`, which Signet used: the fifth redirect of one request is
/// an error (four are followed).
const MAX_REDIRECTS: usize = 5;

type Pooled = hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

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
    inner: Pooled,
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
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let tls = if verify {
            let verifier = if extra_roots.is_empty() {
                rustls_platform_verifier::Verifier::new(provider)
            } else {
                rustls_platform_verifier::Verifier::new_with_extra_roots(
                    extra_roots.iter().cloned(),
                    provider,
                )
            }
            .map_err(|e| e.to_string())?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerifier))
                .with_no_client_auth()
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(http);
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Ok(FastClient { inner })
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
        let origin = (uri.scheme().cloned(), uri.authority().cloned());
        let mut method = method.clone();
        let mut body = body.cloned();
        for hop in 0..MAX_REDIRECTS {
            let same_origin = (uri.scheme().cloned(), uri.authority().cloned()) == origin;
            let mut request = hyper::Request::new(Full::new(body.clone().unwrap_or_default()));
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri.clone();
            let out = request.headers_mut();
            out.reserve(headers.len() + 3);
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
            let response =
                match tokio::time::timeout_at(deadline, self.inner.request(request)).await {
                    Err(_) => return Err(SendError::timeout()),
                    Ok(Err(e)) => return Err(SendError::from_hyper(e)),
                    Ok(Ok(response)) => response,
                };
            let status = response.status();
            let redirect = matches!(
                status,
                StatusCode::MOVED_PERMANENTLY
                    | StatusCode::FOUND
                    | StatusCode::SEE_OTHER
                    | StatusCode::TEMPORARY_REDIRECT
                    | StatusCode::PERMANENT_REDIRECT
            );
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok());
            let (true, Some(location)) = (redirect, location) else {
                let (parts, incoming) = response.into_parts();
                return Ok(Response {
                    status: parts.status,
                    headers: parts.headers,
                    body: ResponseBody::Hyper(incoming),
                    deadline,
                });
            };
            if hop + 1 >= MAX_REDIRECTS {
                return Err(SendError::other("too many redirects"));
            }
            let next = reqwest::Url::parse(&uri.to_string())
                .and_then(|base| base.join(location))
                .map_err(SendError::other)?;
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

/// What became of a request: too slow, no connection, or another failure; with its causes.
#[derive(Debug)]
pub(crate) struct SendError {
    pub(crate) kind: ErrorKind,
    source: Box<dyn StdError + Send + Sync>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    Timeout,
    Connect,
    Other,
}

#[derive(Debug)]
struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation timed out")
    }
}

impl StdError for TimedOut {}

impl SendError {
    fn timeout() -> SendError {
        SendError {
            kind: ErrorKind::Timeout,
            source: Box::new(TimedOut),
        }
    }

    fn other(e: impl Into<Box<dyn StdError + Send + Sync>>) -> SendError {
        SendError {
            kind: ErrorKind::Other,
            source: e.into(),
        }
    }

    fn from_hyper(e: hyper_util::client::legacy::Error) -> SendError {
        let kind = if e.is_connect() {
            ErrorKind::Connect
        } else {
            ErrorKind::Other
        };
        SendError {
            kind,
            source: Box::new(e),
        }
    }

    /// From reqwest, when the environment's proxy settings route requests through it.
    pub(crate) fn from_reqwest(e: reqwest::Error) -> SendError {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else if e.is_connect() {
            ErrorKind::Connect
        } else {
            ErrorKind::Other
        };
        SendError {
            kind,
            source: Box::new(e),
        }
    }

    pub(crate) fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }

    pub(crate) fn is_connect(&self) -> bool {
        self.kind == ErrorKind::Connect
    }

    /// The error and its causes.
    pub(crate) fn cause(&self) -> &(dyn StdError + 'static) {
        &*self.source
    }
}

/// A registry's answer: status and headers at once, the body read on demand before the
/// request's deadline.
#[derive(Debug)]
pub(crate) struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: ResponseBody,
    deadline: Instant,
}

#[derive(Debug)]
enum ResponseBody {
    Hyper(hyper::body::Incoming),
    Reqwest(reqwest::Response),
}

impl Response {
    /// From reqwest (proxied requests); its own timeout bounds the body.
    pub(crate) fn from_reqwest(mut response: reqwest::Response, deadline: Instant) -> Response {
        Response {
            status: response.status(),
            headers: std::mem::take(response.headers_mut()),
            body: ResponseBody::Reqwest(response),
            deadline,
        }
    }

    /// The status code.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body's length when known in advance.
    pub(crate) fn content_length(&self) -> Option<u64> {
        match &self.body {
            ResponseBody::Hyper(incoming) => incoming.size_hint().exact(),
            ResponseBody::Reqwest(response) => response.content_length(),
        }
    }

    /// The next piece of the body; `None` at its end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, SendError> {
        match &mut self.body {
            ResponseBody::Hyper(incoming) => loop {
                match tokio::time::timeout_at(self.deadline, incoming.frame()).await {
                    Err(_) => return Err(SendError::timeout()),
                    Ok(None) => return Ok(None),
                    Ok(Some(Err(e))) => return Err(SendError::other(e)),
                    Ok(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            return Ok(Some(data));
                        }
                    }
                }
            },
            ResponseBody::Reqwest(response) => {
                response.chunk().await.map_err(SendError::from_reqwest)
            }
        }
    }
}

/// Accepts any certificate: for hosts whose transport says not to verify.
#[derive(Debug)]
struct NoVerifier;

impl ServerCertVerifier for NoVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![
            SignatureScheme::RSA_PKCS1_SHA1,
            SignatureScheme::ECDSA_SHA1_Legacy,
            SignatureScheme::RSA_PKCS1_SHA256,
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::RSA_PKCS1_SHA384,
            SignatureScheme::ECDSA_NISTP384_SHA384,
            SignatureScheme::RSA_PKCS1_SHA512,
            SignatureScheme::ECDSA_NISTP521_SHA512,
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PSS_SHA384,
            SignatureScheme::RSA_PSS_SHA512,
            SignatureScheme::ED25519,
            SignatureScheme::ED448,
        ]
    }
}
