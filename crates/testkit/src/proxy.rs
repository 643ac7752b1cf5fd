//! A TCP proxy a test can cut: the real server stays up while, for the code under test,
//! it becomes unreachable (open connections are closed, new ones are refused) and then
//! reachable again. This is how a test takes the real PostgreSQL away from a verifier.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// A proxy on a free loopback port forwarding to one target.
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: AbortHandle,
}

#[derive(Debug)]
struct Shared {
    up: AtomicBool,
    /// The tasks copying the connections that are open now.
    links: Mutex<Vec<AbortHandle>>,
}

impl Shared {
    fn links(&self) -> std::sync::MutexGuard<'_, Vec<AbortHandle>> {
        self.links
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl TcpProxy {
    /// Starts forwarding to `target` on the current tokio runtime.
    pub async fn start(target: SocketAddr) -> std::io::Result<TcpProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            up: AtomicBool::new(true),
            links: Mutex::new(Vec::new()),
        });
        let state = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !state.up.load(Ordering::SeqCst) {
                    // Refused: the client sees its connection closed at once.
                    drop(client);
                    continue;
                }
                let link = tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let mut client = client;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
                let mut links = state.links();
                links.retain(|l| !l.is_finished());
                links.push(link.abort_handle());
            }
        })
        .abort_handle();
        Ok(TcpProxy {
            addr,
            shared,
            accept,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Makes the target unreachable: closes every open connection and refuses new ones.
    pub fn cut(&self) {
        self.shared.up.store(false, Ordering::SeqCst);
        for link in self.shared.links().drain(..) {
            link.abort();
        }
    }

    /// Makes the target reachable again.
    pub fn restore(&self) {
        self.shared.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
