//! A streamed answer: the head as soon as it arrives, the body chunk by chunk, so an attachment of
//! any size passes through with only one chunk in memory at a time.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};

use crate::client::{PoliteClient, describe, transport_failure};
use crate::error::{Failure, HttpError};
use crate::metrics::Counter;

/// A successful answer whose body has not been read yet.
///
/// Dropping it (or the stream it turns into) closes the connection. The body's errors are
/// [`HttpError`]s like the call's own: a body cut short is [`Failure::Interrupted`] (kind
/// `transient`), a body that goes silent for longer than the policy's `read_timeout` is
/// [`Failure::Timeout`]. Neither is retried by the client: the caller decides whether to start
/// the download again.
pub struct StreamingResponse {
    response: reqwest::Response,
    method: Method,
    url: String,
    client: PoliteClient,
    attempts: u32,
}

impl fmt::Debug for StreamingResponse {
    // Header values may hold cookies; show names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingResponse")
            .field("status", &self.status())
            .field("url", &self.url)
            .field("headers", &self.headers().keys().collect::<Vec<_>>())
            .field("content_length", &self.content_length())
            .finish()
    }
}

impl StreamingResponse {
    pub(crate) fn new(
        response: reqwest::Response,
        method: Method,
        url: String,
        client: PoliteClient,
        attempts: u32,
    ) -> Self {
        Self {
            response,
            method,
            url,
            client,
            attempts,
        }
    }

    /// The HTTP status (always a success).
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }

    /// The body's length as announced by the server, if it announced one.
    pub fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// The `Content-Type` header, if present and readable.
    pub fn content_type(&self) -> Option<&str> {
        self.headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// The URL that answered (after redirects), with secrets redacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The body as a stream of chunks. It ends after the last byte, or with one error (then
    /// nothing more): a cut-short body, including one shorter than its `Content-Length`, is
    /// never mistaken for a complete one.
    pub fn into_stream(self) -> BodyStream {
        let read_timeout = self.client.policy().read_timeout;
        let state = Reading {
            expected: self.response.content_length(),
            response: self.response,
            method: self.method,
            url: self.url,
            client: self.client,
            attempts: self.attempts,
            received: 0,
            read_timeout,
            done: false,
        };
        BodyStream {
            inner: Box::pin(futures::stream::unfold(state, Reading::next)),
        }
    }

    /// The body as a stream of `std::io::Error` results, the shape the blob store takes
    /// (`BlobStore::put_stream`). The [`HttpError`] stays inside the `io::Error`
    /// (`err.get_ref()` then `downcast_ref::<HttpError>()`), so its kind is not lost.
    pub fn into_io_stream(
        self,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + Unpin + 'static {
        self.into_stream().map_err(std::io::Error::other)
    }
}

/// The body of a [`StreamingResponse`], chunk by chunk.
pub struct BodyStream {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, HttpError>> + Send>>,
}

impl fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BodyStream")
    }
}

impl Stream for BodyStream {
    type Item = Result<Bytes, HttpError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// The state of a body being read.
struct Reading {
    response: reqwest::Response,
    method: Method,
    url: String,
    client: PoliteClient,
    attempts: u32,
    expected: Option<u64>,
    received: u64,
    read_timeout: Duration,
    done: bool,
}

impl Reading {
    async fn next(mut self) -> Option<(Result<Bytes, HttpError>, Self)> {
        if self.done {
            return None;
        }
        let outcome = tokio::time::timeout(self.read_timeout, self.response.chunk()).await;
        let failure = match outcome {
            Ok(Ok(Some(chunk))) => {
                self.received += chunk.len() as u64;
                self.client.inner.metrics.add_bytes(chunk.len());
                return Some((Ok(chunk), self));
            }
            Ok(Ok(None)) => match self.expected {
                Some(expected) if self.received < expected => (
                    Failure::Interrupted,
                    format!("the body ended after {} of {expected} bytes", self.received),
                ),
                _ => return None,
            },
            Ok(Err(e)) => (
                transport_failure(&e),
                format!(
                    "after {} body bytes: {}",
                    self.received,
                    describe(&e, &self.client.inner.scrubber)
                ),
            ),
            Err(_) => (
                Failure::Timeout,
                format!(
                    "no body bytes for {:.1}s after {} bytes",
                    self.read_timeout.as_secs_f64(),
                    self.received
                ),
            ),
        };
        self.done = true;
        self.client.inner.metrics.bump(Counter::TransportErrors);
        let (failure, detail) = failure;
        let err = HttpError::new(failure)
            .call(&self.method, &self.url)
            .attempts(self.attempts)
            .detail(detail);
        tracing::debug!(kind = %deskmove_core::Classify::kind(&err), "body cut short: {err}");
        Some((Err(err), self))
    }
}
