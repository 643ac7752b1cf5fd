//! One connection to a registry: opened over TCP (and TLS), handshaken for HTTP/1.1 or
//! HTTP/2, and, for HTTP/1, driven by the request that holds it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::SendError;

/// One connection's request side (and, for HTTP/1, its driver).
pub(super) enum Sender {
    H1(H1),
    H2(http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    pub(super) fn is_closed(&mut self) -> bool {
        match self {
            Sender::H1(c) => c.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }
}

/// An HTTP/1 connection: its request side and its driver.
pub(super) struct H1 {
    pub(super) sender: http1::SendRequest<Full<Bytes>>,
    pub(super) driver: Driver,
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
pub(super) struct Driver {
    connection: Pin<Box<dyn Future<Output = hyper::Result<()>> + Send + Sync>>,
    ended: bool,
}

/// The connection ended before the work driven over it finished.
#[derive(Debug)]
pub(super) struct ConnectionEnded;

impl Driver {
    /// Polls the connection unless it has ended; true once it has.
    pub(super) fn poll_ended(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.ended && self.connection.as_mut().poll(cx).is_ready() {
            self.ended = true;
        }
        self.ended
    }

    /// Runs `work` (a request's answer, a body's next frame) while driving the connection.
    pub(super) async fn drive<F: Future>(&mut self, work: F) -> Result<F::Output, ConnectionEnded> {
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

/// Connects to the first address of `host` that answers.
pub(super) async fn connect_tcp(host: &str, port: u16) -> std::io::Result<TcpStream> {
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
pub(super) fn split_authority(authority: &str, https: bool) -> (&str, u16) {
    let default = if https { 443 } else { 80 };
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse().unwrap_or(default)),
        _ => (authority, default),
    }
}

pub(super) async fn handshake<T>(io: T, h2: bool) -> Result<Sender, SendError>
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
}
