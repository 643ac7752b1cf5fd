//! A registry's answer, its body read frame by frame before the request's deadline.

use std::fmt;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Body as _;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use tokio::time::Instant;

use super::connection::{ConnectionEnded, Driver, Sender};
use super::pool::Lent;
use super::SendError;

/// A registry's answer: status and headers at once, the body read on demand before the
/// request's deadline.
#[derive(Debug)]
pub(crate) struct Response {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: ResponseBody,
    pub(super) deadline: Instant,
}

pub(super) enum ResponseBody {
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
