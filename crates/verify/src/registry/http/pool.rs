//! Idle connections by origin, and one request's round trip on a pooled or new one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use rustls_pki_types::ServerName;

use super::connection::{connect_tcp, handshake, split_authority, ConnectionEnded, Sender, H1};
use super::SendError;

/// Idle connections kept per origin; more are closed when returned.
const MAX_IDLE_PER_ORIGIN: usize = 32;

/// An idle connection older than this is closed rather than reused (hyper-util's and
/// reqwest's default).
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// A connection waiting in the pool, and since when.
struct Idle {
    sender: Sender,
    since: std::time::Instant,
}

/// Idle connections by origin (`https` or not, authority), and how to open new ones.
pub(super) struct Pool {
    idle: Mutex<HashMap<(bool, String), Vec<Idle>>>,
    tls: tokio_rustls::TlsConnector,
    connect_timeout: Duration,
}

/// An HTTP/1 connection lent to one request, returned to the pool once its response has
/// been read to the end (a response dropped before that closes the connection).
pub(super) struct Lent {
    pub(super) pool: Arc<Pool>,
    pub(super) origin: (bool, String),
    pub(super) connection: H1,
}

impl Pool {
    /// An empty pool whose new connections use `tls` and take at most `connect_timeout`
    /// to open.
    pub(super) fn new(tls: rustls::ClientConfig, connect_timeout: Duration) -> Pool {
        Pool {
            idle: Mutex::new(HashMap::new()),
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
            connect_timeout,
        }
    }

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

    pub(super) fn checkin(&self, origin: (bool, String), mut sender: Sender) {
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
    pub(super) async fn round_trip(
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
pub(super) fn origin_of(uri: &hyper::Uri) -> Result<(bool, String), SendError> {
    let authority = uri
        .authority()
        .ok_or_else(|| SendError::other("a URL without a host"))?;
    Ok((
        uri.scheme_str() == Some("https"),
        authority.as_str().to_owned(),
    ))
}

/// The Host header of an origin: its authority without the scheme's default port.
pub(super) fn host_header(origin: &(bool, String)) -> &str {
    let (https, authority) = origin;
    let default = if *https { ":443" } else { ":80" };
    authority.strip_suffix(default).unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

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
