//! The HTTP layer under registry requests: hyper connections (HTTP/1.1, or HTTP/2 where
//! TLS negotiates it) over rustls, kept in a small pool, with the behaviour Signet relied
//! on from reqwest (redirects, one deadline per request that covers the body,
//! `User-Agent`, `Accept: */*` by default), without reqwest's per-request overhead (three
//! URL parses, tower layers, header-map copies) or hyper-util's (pool keys, a task spawned
//! per request to return the connection), which made up most of Signet's CPU per
//! verification. An HTTP/1 connection is driven by the request that holds it, not by a
//! task of its own (see [`Driver`]).
//!
//! When the environment configures a proxy (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, in
//! either case), requests go through reqwest, which honours it, exactly as before.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Body as _;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, COOKIE, HOST, LOCATION,
    PROXY_AUTHORIZATION, USER_AGENT, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The `User-Agent` of every registry request.
pub(crate) const USER_AGENT_VALUE: &str = concat!("signet/", env!("CARGO_PKG_VERSION"));

/// reqwest's `Policy::limited(5)`, which Signet used: the fifth redirect of one request is
/// an error (four are followed).
const MAX_REDIRECTS: usize = 5;

/// Idle connections kept per origin; more are closed when returned.
const MAX_IDLE_PER_ORIGIN: usize = 32;

/// An idle connection older than this is closed rather than reused (hyper-util's and
/// reqwest's default).
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

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

/// One connection's request side (and, for HTTP/1, its driver).
enum Sender {
    H1(H1),
    H2(http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    fn is_closed(&mut self) -> bool {
        match self {
            Sender::H1(c) => c.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }
}

/// An HTTP/1 connection: its request side and its driver.
struct H1 {
    sender: http1::SendRequest<Full<Bytes>>,
    driver: Driver,
}

impl H1 {
    /// Whether the connection has ended. Polls the driver once (it is polled by nobody
    /// while the connection is idle), so a close by the server meanwhile is seen here.
    fn is_closed(&mut self) -> bool {
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        self.driver.poll_ended(&mut cx) || self.sender.is_closed()
    }
}

/// hyper's HTTP/1 connection future, which reads and writes the socket. The request
/// holding the connection polls it beside its own future ([`Driver::drive`]), instead
/// of a task of its own doing so: a response then reaches the request without two
/// hand-offs between tasks per round trip, often across the runtime's threads.
struct Driver {
    connection: Pin<Box<dyn Future<Output = hyper::Result<()>> + Send + Sync>>,
    ended: bool,
}

/// The connection ended before the work driven over it finished.
#[derive(Debug)]
struct ConnectionEnded;

impl Driver {
    /// Polls the connection unless it has ended; true once it has.
    fn poll_ended(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.ended && self.connection.as_mut().poll(cx).is_ready() {
            self.ended = true;
        }
        self.ended
    }

    /// Runs `work` (a request's answer, a body's next frame) while driving the connection.
    async fn drive<F: Future>(&mut self, work: F) -> Result<F::Output, ConnectionEnded> {
        let mut work = std::pin::pin!(work);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(out) = work.as_mut().poll(cx) {
                return Poll::Ready(Ok(out));
            }
            if !self.poll_ended(cx) {
                return Poll::Pending;
            }
            // The connection's last step may have finished the work (with an error, or
            // the body's end); otherwise nothing will.
            match work.as_mut().poll(cx) {
                Poll::Ready(out) => Poll::Ready(Ok(out)),
                Poll::Pending => Poll::Ready(Err(ConnectionEnded)),
            }
        })
        .await
    }
}

struct Idle {
    sender: Sender,
    since: std::time::Instant,
}

/// Idle connections by origin (`https` or not, authority), and how to open new ones.
struct Pool {
    idle: Mutex<HashMap<(bool, String), Vec<Idle>>>,
    tls: tokio_rustls::TlsConnector,
    connect_timeout: Duration,
}

/// An HTTP/1 connection lent to one request, returned to the pool once its response has
/// been read to the end (a response dropped before that closes the connection).
struct Lent {
    pool: Arc<Pool>,
    origin: (bool, String),
    connection: H1,
}

impl Pool {
    /// An open connection to `origin` from the pool; HTTP/2 ones stay there, shared.
    fn checkout(&self, origin: &(bool, String)) -> Option<Sender> {
        let mut idle = self.idle.lock().ok()?;
        let list = idle.get_mut(origin)?;
        while let Some(mut entry) = list.pop() {
            if entry.sender.is_closed() || entry.since.elapsed() > IDLE_TIMEOUT {
                continue;
            }
            if let Sender::H2(h2) = &entry.sender {
                let shared = Sender::H2(h2.clone());
                list.push(entry);
                return Some(shared);
            }
            return Some(entry.sender);
        }
        None
    }

    fn checkin(&self, origin: (bool, String), mut sender: Sender) {
        if sender.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            let list = idle.entry(origin).or_default();
            if list.len() < MAX_IDLE_PER_ORIGIN {
                list.push(Idle {
                    sender,
                    since: std::time::Instant::now(),
                });
            }
        }
    }

    /// Opens a connection to `origin` (TCP, then TLS when `https`), HTTP/2 when TLS
    /// negotiates it. The connect timeout covers all of it.
    async fn connect(&self, origin: &(bool, String)) -> Result<Sender, SendError> {
        tokio::time::timeout(self.connect_timeout, self.open(origin))
            .await
            .map_err(|_| SendError::timeout())?
    }

    async fn open(&self, origin: &(bool, String)) -> Result<Sender, SendError> {
        let (https, authority) = origin;
        let (host, port) = split_authority(authority, *https);
        let tcp = connect_tcp(host, port).await.map_err(SendError::connect)?;
        let _ = tcp.set_nodelay(true);
        if !*https {
            return handshake(tcp, false).await;
        }
        let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
            .map_err(SendError::connect)?
            .to_owned();
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(SendError::connect)?;
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        handshake(tls, h2).await
    }

    /// Sends the request `build` makes (for HTTP/2 or not) on a pooled connection to
    /// `origin`, or a new one; a request a reused connection could not take (closed
    /// meanwhile) goes on a new connection, as hyper-util retries it.
    async fn round_trip(
        self: &Arc<Self>,
        origin: &(bool, String),
        build: impl Fn(bool) -> hyper::Request<Full<Bytes>>,
    ) -> Result<(hyper::Response<hyper::body::Incoming>, Option<Lent>), SendError> {
        let mut reuse = true;
        loop {
            let pooled = if reuse { self.checkout(origin) } else { None };
            let reused = pooled.is_some();
            let sender = match pooled {
                Some(sender) => sender,
                None => Box::pin(self.connect(origin)).await?,
            };
            // After one failure on a reused connection, the next try opens a new one.
            reuse = false;
            match sender {
                Sender::H1(mut connection) => {
                    let H1 { sender, driver } = &mut connection;
                    if !matches!(driver.drive(sender.ready()).await, Ok(Ok(()))) {
                        if reused {
                            continue;
                        }
                        return Err(SendError::other("the connection closed at once"));
                    }
                    match driver.drive(sender.try_send_request(build(false))).await {
                        Ok(Ok(response)) => {
                            let lent = Lent {
                                pool: self.clone(),
                                origin: origin.clone(),
                                connection,
                            };
                            return Ok((response, Some(lent)));
                        }
                        Ok(Err(e)) if reused && e.message().is_some() => continue,
                        Ok(Err(e)) => return Err(SendError::other(e.into_error())),
                        Err(ConnectionEnded) => {
                            return Err(SendError::other(
                                "the connection closed before the response",
                            ))
                        }
                    }
                }
                Sender::H2(mut sender) => {
                    if !reused {
                        self.checkin(origin.clone(), Sender::H2(sender.clone()));
                    }
                    if sender.ready().await.is_err() {
                        if reused {
                            continue;
                        }
                        return Err(SendError::other("the connection closed at once"));
                    }
                    match sender.try_send_request(build(true)).await {
                        Ok(response) => return Ok((response, None)),
                        Err(e) if reused && e.message().is_some() => continue,
                        Err(e) => return Err(SendError::other(e.into_error())),
                    }
                }
            }
        }
    }
}

/// `(https, authority)` of an absolute URL.
fn origin_of(uri: &hyper::Uri) -> Result<(bool, String), SendError> {
    let authority = uri
        .authority()
        .ok_or_else(|| SendError::other("a URL without a host"))?;
    Ok((
        uri.scheme_str() == Some("https"),
        authority.as_str().to_owned(),
    ))
}

/// The Host header of an origin: its authority without the scheme's default port.
fn host_header(origin: &(bool, String)) -> &str {
    let (https, authority) = origin;
    let default = if *https { ":443" } else { ":80" };
    authority.strip_suffix(default).unwrap_or(authority)
}

/// Connects to the first address of `host` that answers.
async fn connect_tcp(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut last = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address")
    }))
}

/// Host and port of an authority (`host`, `host:port`, `[v6]:port`).
fn split_authority(authority: &str, https: bool) -> (&str, u16) {
    let default = if https { 443 } else { 80 };
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse().unwrap_or(default)),
        _ => (authority, default),
    }
}

async fn handshake<T>(io: T, h2: bool) -> Result<Sender, SendError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static,
{
    let io = TokioIo::new(io);
    if h2 {
        let (sender, conn) = http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .handshake(io)
            .await
            .map_err(SendError::connect)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Sender::H2(sender))
    } else {
        let (sender, connection) = http1::handshake(io).await.map_err(SendError::connect)?;
        Ok(Sender::H1(H1 {
            sender,
            driver: Driver {
                connection: Box::pin(connection),
                ended: false,
            },
        }))
    }
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
        let mut tls = tls;
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(FastClient {
            inner: Arc::new(Pool {
                idle: Mutex::new(HashMap::new()),
                tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
                connect_timeout,
            }),
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

    /// Opening the connection failed (DNS, TCP, TLS, HTTP handshake).
    fn connect(e: impl Into<Box<dyn StdError + Send + Sync>>) -> SendError {
        SendError {
            kind: ErrorKind::Connect,
            source: e.into(),
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

enum ResponseBody {
    Hyper {
        incoming: hyper::body::Incoming,
        /// The HTTP/1 connection, returned to the pool when the body has been read.
        lent: Option<Lent>,
        finished: bool,
    },
    Reqwest(reqwest::Response),
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseBody::Hyper { incoming, .. } => f.debug_tuple("Hyper").field(incoming).finish(),
            ResponseBody::Reqwest(response) => f.debug_tuple("Reqwest").field(response).finish(),
        }
    }
}

impl Drop for Response {
    fn drop(&mut self) {
        if let ResponseBody::Hyper {
            incoming,
            lent,
            finished,
        } = &mut self.body
        {
            if let Some(lent) = lent.take() {
                if *finished || incoming.is_end_stream() {
                    lent.pool.checkin(lent.origin, Sender::H1(lent.connection));
                }
            }
        }
    }
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
            ResponseBody::Hyper { incoming, .. } => incoming.size_hint().exact(),
            ResponseBody::Reqwest(response) => response.content_length(),
        }
    }

    /// The next piece of the body; `None` at its end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, SendError> {
        match &mut self.body {
            ResponseBody::Hyper {
                incoming,
                lent,
                finished,
            } => loop {
                let driver = lent.as_mut().map(|l| &mut l.connection.driver);
                let next = next_frame(incoming, driver);
                match tokio::time::timeout_at(self.deadline, next).await {
                    Err(_) => return Err(SendError::timeout()),
                    Ok(Ok(None)) => {
                        *finished = true;
                        return Ok(None);
                    }
                    Ok(Err(e)) => return Err(e),
                    Ok(Ok(Some(frame))) => {
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

/// The body's next frame; `None` at its end. An HTTP/1 body arrives through its
/// connection's `driver`, which this polls; HTTP/2 bodies through their connection's task.
async fn next_frame(
    incoming: &mut hyper::body::Incoming,
    driver: Option<&mut Driver>,
) -> Result<Option<hyper::body::Frame<Bytes>>, SendError> {
    let frame = match driver {
        Some(driver) => driver
            .drive(incoming.frame())
            .await
            .map_err(|ConnectionEnded| SendError::other("the connection closed in the body"))?,
        None => incoming.frame().await,
    };
    frame.transpose().map_err(SendError::other)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_split_into_host_and_port() {
        assert_eq!(split_authority("ghcr.io", true), ("ghcr.io", 443));
        assert_eq!(split_authority("ghcr.io", false), ("ghcr.io", 80));
        assert_eq!(
            split_authority("127.0.0.1:5000", false),
            ("127.0.0.1", 5000)
        );
        assert_eq!(split_authority("[::1]:5000", true), ("[::1]", 5000));
        assert_eq!(split_authority("[::1]", true), ("[::1]", 443));
    }

    #[test]
    fn host_header_drops_the_default_port_only() {
        assert_eq!(host_header(&(true, "ghcr.io:443".into())), "ghcr.io");
        assert_eq!(host_header(&(false, "reg:80".into())), "reg");
        assert_eq!(host_header(&(true, "reg:80".into())), "reg:80");
        assert_eq!(
            host_header(&(false, "127.0.0.1:5000".into())),
            "127.0.0.1:5000"
        );
    }

    #[test]
    fn origins_of_urls() {
        let uri: hyper::Uri = "https://ghcr.io/v2/".parse().expect("uri");
        assert_eq!(origin_of(&uri).expect("origin"), (true, "ghcr.io".into()));
        let uri: hyper::Uri = "http://127.0.0.1:5000/v2/x".parse().expect("uri");
        assert_eq!(
            origin_of(&uri).expect("origin"),
            (false, "127.0.0.1:5000".into())
        );
    }
}
