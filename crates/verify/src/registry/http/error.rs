//! What became of a request that failed: too slow, no connection, or something else.

use std::error::Error as StdError;
use std::fmt;

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
    pub(super) fn timeout() -> SendError {
        SendError {
            kind: ErrorKind::Timeout,
            source: Box::new(TimedOut),
        }
    }

    pub(super) fn other(e: impl Into<Box<dyn StdError + Send + Sync>>) -> SendError {
        SendError {
            kind: ErrorKind::Other,
            source: e.into(),
        }
    }

    /// Opening the connection failed (DNS, TCP, TLS, HTTP handshake).
    pub(super) fn connect(e: impl Into<Box<dyn StdError + Send + Sync>>) -> SendError {
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
