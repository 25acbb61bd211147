//! The one error type of the client, and the one place that decides what is worth retrying.
//!
//! Every failure is first described as a [`Failure`]; [`classify`] maps it to an [`ErrorKind`],
//! and [`should_retry`] turns the kind into the retry decision. Nothing else in the crate (and no
//! connector) decides retryability.

use std::fmt;
use std::time::Duration;

use deskmove_core::{Classify, ErrorKind};
use reqwest::{Method, StatusCode};

/// What went wrong with a call, before it is reduced to an [`ErrorKind`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The server answered with a status other than success.
    Status(StatusCode),
    /// No complete answer within the per-request timeout, or a streamed body that went silent
    /// for longer than the read timeout.
    Timeout,
    /// No connection could be made.
    Connect,
    /// The connection broke (reset, closed early) or the body was cut short.
    Interrupted,
    /// The request was for another host than the one the client is bound to (for a
    /// [`crate::FileClient`]: a host the connector did not name). Nothing was sent.
    ForeignHost,
    /// The server redirected to a host the client may not call; the redirect was not followed.
    ForeignRedirect,
    /// The server kept redirecting (10 requests on the same host without an answer).
    RedirectLoop,
    /// The request could not be built (bad URL or header).
    InvalidRequest,
    /// The body is not the JSON the caller expected.
    Decode,
    /// The client itself could not be set up (invalid policy or base URL, TLS).
    Setup,
}

/// The retry policy, part one: what kind of problem each failure is.
pub fn classify(failure: Failure) -> ErrorKind {
    match failure {
        Failure::Status(status) => match status.as_u16() {
            408 => ErrorKind::Timeout,
            429 => ErrorKind::RateLimited,
            401 => ErrorKind::Auth,
            403 => ErrorKind::Forbidden,
            404 | 410 => ErrorKind::NotFound,
            409 | 412 => ErrorKind::Conflict,
            // Vendors refuse invalid records with 422 and bad parameters with 400.
            400 | 413 | 414 | 422 => ErrorKind::Validation,
            501 | 505 => ErrorKind::Protocol,
            // 500/502/503/504 and the proxies' 52x family pass with time.
            500..=599 => ErrorKind::Transient,
            _ => ErrorKind::Protocol,
        },
        Failure::Timeout => ErrorKind::Timeout,
        Failure::Connect | Failure::Interrupted => ErrorKind::Transient,
        Failure::ForeignHost | Failure::ForeignRedirect | Failure::InvalidRequest => {
            ErrorKind::Config
        }
        Failure::Decode | Failure::RedirectLoop => ErrorKind::Protocol,
        Failure::Setup => ErrorKind::Config,
    }
}

/// The retry policy, part two: whether a try that failed this way is tried again (while attempts
/// remain). Only problems that pass with time are: rate limits, 5xx, broken connections, timeouts.
pub fn should_retry(kind: ErrorKind) -> bool {
    kind.is_transient()
}

/// A failed call: what was called, what happened, how often it was tried, and what the vendor said.
///
/// Its text never contains credentials: the URL is redacted and vendor text is scrubbed of the
/// client's secrets. [`HttpError::solution`] says what the operator should do.
#[derive(Debug, Clone)]
pub struct HttpError(Box<Repr>);

#[derive(Debug, Clone)]
struct Repr {
    failure: Failure,
    method: Option<Method>,
    url: Option<String>,
    attempts: u32,
    vendor_message: Option<String>,
    detail: Option<String>,
    retry_after: Option<Duration>,
    retry: bool,
}

impl HttpError {
    /// A new error; `retry` starts as the policy says for its kind.
    pub(crate) fn new(failure: Failure) -> Self {
        Self(Box::new(Repr {
            failure,
            method: None,
            url: None,
            attempts: 0,
            vendor_message: None,
            detail: None,
            retry_after: None,
            retry: should_retry(classify(failure)),
        }))
    }

    pub(crate) fn call(mut self, method: &Method, redacted_url: &str) -> Self {
        self.0.method = Some(method.clone());
        self.0.url = Some(redacted_url.to_owned());
        self
    }

    pub(crate) fn attempts(mut self, n: u32) -> Self {
        self.0.attempts = n;
        self
    }

    /// Free text about the failure; must already be redacted. Adds to what is already said.
    pub(crate) fn detail(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        self.0.detail = Some(match self.0.detail.take() {
            Some(before) => format!("{before}; {text}"),
            None => text,
        });
        self
    }

    /// A short excerpt of what the vendor said; must already be scrubbed.
    pub(crate) fn vendor_message(mut self, text: Option<String>) -> Self {
        self.0.vendor_message = text;
        self
    }

    pub(crate) fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        self.0.retry_after = wait;
        self
    }

    /// Whether the retry loop may try again.
    pub(crate) fn retryable(&self) -> bool {
        self.0.retry
    }

    /// Stops the retry loop at this error.
    pub(crate) fn no_retry(mut self) -> Self {
        self.0.retry = false;
        self
    }

    /// What happened, before classification.
    pub fn failure(&self) -> Failure {
        self.0.failure
    }

    /// The last HTTP status received, if the server answered at all.
    pub fn status(&self) -> Option<StatusCode> {
        match self.0.failure {
            Failure::Status(s) => Some(s),
            _ => None,
        }
    }

    /// The method of the failed call.
    pub fn method(&self) -> Option<&Method> {
        self.0.method.as_ref()
    }

    /// The called URL, with secrets redacted.
    pub fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }

    /// How many tries were made (0 when the call never left).
    pub fn attempt_count(&self) -> u32 {
        self.0.attempts
    }

    /// A short excerpt of the vendor's error message, scrubbed of secrets.
    pub fn vendor_text(&self) -> Option<&str> {
        self.0.vendor_message.as_deref()
    }

    /// What the operator should do about it.
    pub fn solution(&self) -> &'static str {
        self.kind().solution()
    }

    fn what(&self) -> String {
        match self.0.failure {
            Failure::Status(s) => format!("the server answered HTTP {s}"),
            Failure::Timeout => "no complete answer within the request timeout".into(),
            Failure::Connect => "could not connect".into(),
            Failure::Interrupted => "the connection broke before the answer was complete".into(),
            Failure::ForeignHost => "refused to send to a host other than the client's".into(),
            Failure::ForeignRedirect => {
                "the server redirected to a host this client may not call; not followed".into()
            }
            Failure::RedirectLoop => "the server kept redirecting".into(),
            Failure::InvalidRequest => "the request could not be built".into(),
            Failure::Decode => "the answer is not the expected JSON".into(),
            Failure::Setup => "the HTTP client could not be set up".into(),
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(m), Some(u)) = (&self.0.method, &self.0.url) {
            write!(f, "{m} {u}: ")?;
        }
        f.write_str(&self.what())?;
        if let Some(d) = &self.0.detail {
            write!(f, " ({d})")?;
        }
        if self.0.attempts > 0 {
            let s = if self.0.attempts == 1 { "" } else { "s" };
            write!(f, " after {} attempt{s}", self.0.attempts)?;
        }
        if let Some(v) = &self.0.vendor_message {
            write!(f, "; the vendor said: \"{v}\"")?;
        }
        if let Some(w) = self.0.retry_after {
            write!(f, "; it asked to wait {}s", w.as_secs())?;
        }
        Ok(())
    }
}

impl std::error::Error for HttpError {}

impl Classify for HttpError {
    fn kind(&self) -> ErrorKind {
        classify(self.0.failure)
    }

    fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passing_problems_are_retried() {
        let retried = |code: u16| {
            should_retry(classify(Failure::Status(
                StatusCode::from_u16(code).unwrap(),
            )))
        };
        for code in [408, 429, 500, 502, 503, 504, 522] {
            assert!(retried(code), "{code} must be retried");
        }
        for code in [400, 401, 403, 404, 409, 410, 422, 501, 302] {
            assert!(!retried(code), "{code} must not be retried");
        }
        assert!(should_retry(classify(Failure::Timeout)));
        assert!(should_retry(classify(Failure::Interrupted)));
        assert!(!should_retry(classify(Failure::ForeignHost)));
        assert!(!should_retry(classify(Failure::RedirectLoop)));
        assert_eq!(classify(Failure::Decode), ErrorKind::Protocol);
    }

    #[test]
    fn display_says_what_happened() {
        let e = HttpError::new(Failure::Status(StatusCode::NOT_FOUND))
            .call(&Method::GET, "https://h/x?token=REDACTED")
            .attempts(1)
            .vendor_message(Some("Resource could not be found".into()));
        assert_eq!(
            e.to_string(),
            "GET https://h/x?token=REDACTED: the server answered HTTP 404 Not Found after 1 attempt; the vendor said: \"Resource could not be found\""
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.solution(), ErrorKind::NotFound.solution());
    }
}
