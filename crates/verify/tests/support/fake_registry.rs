//! A registry that misbehaves on purpose: a minimal, hand-rolled HTTP/1.1 server on
//! `127.0.0.1:0` that answers each request with whatever the test's handler says, including
//! answers no real registry gives (lying digests, endless bodies, silence).
//!
//! Only for `registry_faults.rs` and `layer_fetches.rs`: everything a well-behaved
//! registry does is tested against the real CNCF Distribution registry in
//! `registry_real.rs`.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// Path and query as sent, e.g. `/v2/app/blobs/uploads/u1?_state=x&digest=sha256%3A…`.
    pub target: String,
    /// Header names in lower case, values as sent.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
    /// `127.0.0.1:PORT` of the fake itself (for realms and `Location`s).
    pub server: String,
}

impl Seen {
    /// The path without its query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The raw query, if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// A query parameter, percent-decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
    }

    /// A header value (first occurrence), by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(s.get(i + 1..i + 3).unwrap_or(""), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the body of an answer does.
#[derive(Debug, Clone)]
pub enum Body {
    /// These bytes, with their `Content-Length`.
    Full(Vec<u8>),
    /// `Transfer-Encoding: chunked`, 16 KiB chunks, `total` bytes unless the client hangs up.
    Chunked { total: u64 },
    /// `Content-Length: total`, then the bytes in 16 KiB writes unless the client hangs up.
    Declared { total: u64 },
    /// `Content-Length: total`, then `sent` and nothing more, ever.
    Stall { total: u64, sent: Vec<u8> },
    /// No answer at all: the connection stays open and silent.
    Hang,
    /// No answer at all: the connection is closed at once.
    Close,
}

/// The fake's answer to one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// Close the connection once the answer is written, without saying so in a header:
    /// a keep-alive connection that the registry drops while the client holds it idle.
    pub close_after: bool,
}

impl Reply {
    /// An empty answer with this status.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Full(Vec::new()),
            close_after: false,
        }
    }

    /// 200 with these bytes.
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::status(200).body(body)
    }

    /// This answer, then the connection closed.
    pub fn then_close(mut self) -> Reply {
        self.close_after = true;
        self
    }

    /// Closes the connection without answering.
    pub fn close() -> Reply {
        Reply {
            body: Body::Close,
            ..Reply::status(200)
        }
    }

    /// Never answers.
    pub fn hang() -> Reply {
        Reply {
            body: Body::Hang,
            ..Reply::status(200)
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = Body::Full(body.into());
        self
    }

    pub fn with_body(mut self, body: Body) -> Reply {
        self.body = body;
        self
    }
}

/// How a streamed body (`Chunked`, `Declared`) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEnd {
    /// Body bytes the fake managed to write.
    pub written: u64,
    /// Whether it wrote all of them (false: the client hung up).
    pub completed: bool,
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// The running fake; stops accepting when dropped.
pub struct FakeRegistry {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    stream_ends: tokio::sync::Mutex<mpsc::UnboundedReceiver<StreamEnd>>,
    accept: JoinHandle<()>,
}

impl FakeRegistry {
    /// Listens on `127.0.0.1:0`; every request is answered by `handler`.
    pub async fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::unbounded_channel();
        let handler: Handler = Arc::new(handler);
        let accept = {
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(
                        stream,
                        addr,
                        handler.clone(),
                        seen.clone(),
                        tx.clone(),
                    ));
                }
            })
        };
        FakeRegistry {
            addr,
            seen,
            stream_ends: tokio::sync::Mutex::new(rx),
            accept,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("request log").clone()
    }

    /// How many requests had this path (query ignored).
    pub fn count(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path() == path).count()
    }

    /// Waits for the next streamed body to end (written fully or cut off by the client).
    pub async fn stream_end(&self, timeout: Duration) -> StreamEnd {
        let mut rx = self.stream_ends.lock().await;
        tokio::time::timeout(timeout, rx.recv())
            .await
            .expect("a streamed body ended in time")
            .expect("fake registry still running")
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn serve(
    stream: TcpStream,
    addr: SocketAddr,
    handler: Handler,
    seen: Arc<Mutex<Vec<Seen>>>,
    ends: mpsc::UnboundedSender<StreamEnd>,
) {
    let mut conn = BufReader::new(stream);
    // Keep-alive: one request after another until the client closes or a body is cut off.
    while let Some(request) = read_request(&mut conn, addr).await {
        if let Ok(mut log) = seen.lock() {
            log.push(request.clone());
        }
        let reply = handler(&request);
        let head_only = request.method == "HEAD";
        let close_after = reply.close_after;
        if !write_reply(conn.get_mut(), reply, head_only, &ends).await || close_after {
            return;
        }
    }
}

async fn read_request(conn: &mut BufReader<TcpStream>, addr: SocketAddr) -> Option<Seen> {
    let mut line = String::new();
    if conn.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if conn.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    conn.read_exact(&mut body).await.ok()?;
    Some(Seen {
        method,
        target,
        headers,
        body,
        server: addr.to_string(),
    })
}

/// Writes one answer; false when the connection is done (client gone, or no answer).
async fn write_reply(
    stream: &mut TcpStream,
    reply: Reply,
    head_only: bool,
    ends: &mpsc::UnboundedSender<StreamEnd>,
) -> bool {
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match &reply.body {
        Body::Full(bytes) => head.push_str(&format!("content-length: {}\r\n", bytes.len())),
        Body::Chunked { .. } => head.push_str("transfer-encoding: chunked\r\n"),
        Body::Declared { total } | Body::Stall { total, .. } => {
            head.push_str(&format!("content-length: {total}\r\n"))
        }
        Body::Hang => {
            // Read nothing more and say nothing, until the client gives up.
            std::future::pending::<()>().await;
        }
        Body::Close => {
            let _ = stream.shutdown().await;
            return false;
        }
    }
    head.push_str("\r\n");
    if stream.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    if head_only {
        return stream.flush().await.is_ok();
    }
    const BLOCK: usize = 16 * 1024;
    match reply.body {
        Body::Full(bytes) => stream.write_all(&bytes).await.is_ok(),
        Body::Chunked { total } => {
            let block = vec![b'{'; BLOCK];
            let mut written = 0u64;
            while written < total {
                let n = (total - written).min(BLOCK as u64) as usize;
                let chunk = [format!("{n:x}\r\n").as_bytes(), &block[..n], b"\r\n"].concat();
                if stream.write_all(&chunk).await.is_err() {
                    let _ = ends.send(StreamEnd {
                        written,
                        completed: false,
                    });
                    return false;
                }
                written += n as u64;
            }
            let ok = stream.write_all(b"0\r\n\r\n").await.is_ok();
            let _ = ends.send(StreamEnd {
                written,
                completed: ok,
            });
            ok
        }
        Body::Declared { total } => {
            let block = vec![b'{'; BLOCK];
            let mut written = 0u64;
            while written < total {
                let n = (total - written).min(BLOCK as u64) as usize;
                if stream.write_all(&block[..n]).await.is_err() {
                    let _ = ends.send(StreamEnd {
                        written,
                        completed: false,
                    });
                    return false;
                }
                written += n as u64;
            }
            let _ = ends.send(StreamEnd {
                written,
                completed: true,
            });
            true
        }
        Body::Stall { sent, .. } => {
            let _ = stream.write_all(&sent).await;
            std::future::pending::<()>().await;
            false
        }
        Body::Hang | Body::Close => false,
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Whatever",
    }
}
