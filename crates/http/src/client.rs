//! The client every connector sends its vendor calls through: budget, pause gate, timeout,
//! classification and retry, in that order, for every try.
//!
//! A try either reads the whole answer ([`PoliteClient::send`]) or stops after the response head
//! and hands the body over as a stream ([`PoliteClient::send_streaming`]); both share the same
//! machinery up to the head, so a streamed download is paced and retried like any other call.

use std::error::Error as _;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use deskmove_core::{Classify, ErrorKind};
use governor::{DefaultDirectRateLimiter, Jitter};
use reqwest::header::{HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, Request, RequestBuilder, StatusCode};
use tokio::time::Instant;
use tracing::{Instrument, debug, info, warn};
use url::{Origin, Url};

use crate::builder::PoliteClientBuilder;
use crate::error::{Failure, HttpError};
use crate::gate::PauseGate;
use crate::hints::{Hints, ServerNow, until_next_window};
use crate::metrics::{Counter, Metrics, MetricsSnapshot, Wait};
use crate::policy::HostPolicy;
use crate::redact::{Scrubber, is_secret_header, redact_url};
use crate::response::{HttpResponse, vendor_excerpt};
use crate::streaming::StreamingResponse;
use crate::window::{InFlight, ServerWindow};

/// How much of an error body a streamed call reads (for the vendor's message); the rest of a
/// possibly large body is dropped with the connection.
const ERROR_BODY_MAX: usize = 64 * 1024;

/// How one try treats the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Read the whole body inside the try.
    Buffered,
    /// Stop after a successful head; the caller reads the body.
    Streaming,
    /// Like `Streaming`, and a redirect is handed back to the caller: the file client decides
    /// whether its target is a host it may call, and calls it through that host's own budget.
    FileHop,
}

/// What a successful try produced, by [`Mode`].
pub(crate) enum Answer {
    Full(HttpResponse),
    Streaming(StreamingResponse),
    Redirect(Url),
}

impl Answer {
    fn full(self) -> Result<HttpResponse, HttpError> {
        match self {
            Answer::Full(r) => Ok(r),
            _ => Err(unexpected()),
        }
    }

    fn streaming(self) -> Result<StreamingResponse, HttpError> {
        match self {
            Answer::Streaming(r) => Ok(r),
            _ => Err(unexpected()),
        }
    }
}

/// Where one step of a file download ended.
pub(crate) enum Hop {
    /// The file itself.
    Body(StreamingResponse),
    /// A redirect to this URL, not yet followed.
    Redirect(Url),
}

/// A try that answered in a way its mode never produces (a bug, reported instead of a panic).
fn unexpected() -> HttpError {
    HttpError::new(Failure::InvalidRequest).detail("internal: unexpected kind of answer")
}

/// What came back within the per-try timeout.
enum Received {
    /// Only the head; the body is still on the wire.
    Head(reqwest::Response),
    /// The whole answer (or, for an error answer to a streamed call, its first bytes).
    Whole(StatusCode, reqwest::header::HeaderMap, Url, bytes::Bytes),
}

/// A rate-limited, retrying HTTP client bound to one vendor host.
///
/// Clone it freely: clones share the budget, the pause gate, the metrics and the connection pool,
/// so all workers calling one host must use clones of the same client.
#[derive(Clone)]
pub struct PoliteClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) origin: Origin,
    pub(crate) policy: HostPolicy,
    pub(crate) limiter: DefaultDirectRateLimiter,
    pub(crate) gate: PauseGate,
    pub(crate) window: ServerWindow,
    pub(crate) metrics: Metrics,
    pub(crate) credentials: Vec<(HeaderName, HeaderValue)>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) scrubber: Arc<Scrubber>,
}

impl fmt::Debug for PoliteClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoliteClient")
            .field("base", &redact_url(&self.inner.base))
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

impl PoliteClient {
    /// Starts building a client for the host of `base_url` (paths given to [`Self::request`] are
    /// resolved against it) with the given policy.
    pub fn builder(base_url: &str, policy: HostPolicy) -> PoliteClientBuilder {
        PoliteClientBuilder::new(base_url, policy)
    }

    /// The base URL this client is bound to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The policy in force.
    pub fn policy(&self) -> &HostPolicy {
        &self.inner.policy
    }

    /// A copy of the call counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.snapshot()
    }

    /// How long the host stays paused at the server's request, if it is (for progress displays).
    pub fn paused_for(&self) -> Option<Duration> {
        self.inner
            .gate
            .closed_until()
            .map(|t| t.saturating_duration_since(Instant::now()))
    }

    /// A request builder for `path` (relative to the base URL, or absolute on the same host).
    /// Pass it to [`Self::send`].
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        match self.inner.base.join(path) {
            Ok(url) => self.inner.http.request(method, url),
            // Let reqwest carry the parse error to `send`, which reports it as a config error.
            Err(_) => self.inner.http.request(method, path),
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    /// `POST path`.
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    /// `PUT path`.
    pub fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    /// `PATCH path`.
    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.request(Method::PATCH, path)
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }

    /// Sends a request politely and returns the complete answer, retrying what passes with time.
    ///
    /// A request whose body cannot be cloned (a streamed body) is tried once; use
    /// [`Self::send_with`] to rebuild it for each try instead.
    pub async fn send(&self, request: RequestBuilder) -> Result<HttpResponse, HttpError> {
        self.execute(self.build(request)?).await
    }

    /// Like [`Self::send`], for an already built request.
    pub async fn execute(&self, request: Request) -> Result<HttpResponse, HttpError> {
        self.run_request(request, Mode::Buffered).await?.full()
    }

    /// Sends a request politely and returns as soon as a successful response head arrives; the
    /// body is read by the caller from [`StreamingResponse::into_stream`], chunk by chunk, so a
    /// large file never sits in memory.
    ///
    /// Budget, pause gate, per-try timeout (`request_timeout`, here up to the head only),
    /// classification and retries apply up to the head, exactly as for [`Self::send`]. Once the
    /// body has started, a broken or silent body (longer than `read_timeout` between chunks)
    /// ends the stream with an error of kind `transient` or `timeout`, and is **not** retried
    /// here: whether to start the download again is the caller's decision (a blob put is
    /// idempotent, so starting over is safe).
    pub async fn send_streaming(
        &self,
        request: RequestBuilder,
    ) -> Result<StreamingResponse, HttpError> {
        self.run_request(self.build(request)?, Mode::Streaming)
            .await?
            .streaming()
    }

    /// One `GET url` for the file client: no body, and a redirect comes back as an answer.
    pub(crate) async fn file_hop(&self, url: Url) -> Result<Hop, HttpError> {
        match self
            .run_request(Request::new(Method::GET, url), Mode::FileHop)
            .await?
        {
            Answer::Streaming(r) => Ok(Hop::Body(r)),
            Answer::Redirect(to) => Ok(Hop::Redirect(to)),
            Answer::Full(_) => Err(unexpected()),
        }
    }

    async fn run_request(&self, request: Request, mode: Mode) -> Result<Answer, HttpError> {
        let retryable = request.try_clone().is_some();
        let mut original = Some(request);
        let make = move || match original.as_ref().and_then(Request::try_clone) {
            Some(r) => Ok(r),
            // Not clonable: the one and only try takes the original.
            None => original
                .take()
                .ok_or_else(|| HttpError::new(Failure::InvalidRequest).detail("body already sent")),
        };
        self.run(make, retryable, mode).await
    }

    /// Sends the request `make` builds, building it anew for each try (for multipart uploads and
    /// other bodies that cannot be cloned).
    pub async fn send_with<F>(&self, make: F) -> Result<HttpResponse, HttpError>
    where
        F: Fn() -> RequestBuilder,
    {
        self.run(|| self.build(make()), true, Mode::Buffered)
            .await?
            .full()
    }

    fn build(&self, request: RequestBuilder) -> Result<Request, HttpError> {
        request.build().map_err(|e| {
            HttpError::new(Failure::InvalidRequest)
                .detail(self.inner.scrubber.scrub(&e.without_url().to_string()))
        })
    }

    async fn run<F>(&self, mut make: F, retryable: bool, mode: Mode) -> Result<Answer, HttpError>
    where
        F: FnMut() -> Result<Request, HttpError>,
    {
        let policy = &self.inner.policy;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(policy.backoff_base)
            .with_max_delay(policy.backoff_max)
            .with_jitter()
            .with_max_times(policy.max_attempts.saturating_sub(1) as usize);
        let tries = AtomicU32::new(0);
        let span = tracing::debug_span!(
            "http_call",
            method = tracing::field::Empty,
            url = tracing::field::Empty
        );
        let attempt = || {
            let n = tries.fetch_add(1, Ordering::Relaxed) + 1;
            let request = make();
            let span = span.clone();
            async move {
                let request = request?;
                if n == 1 {
                    span.record("method", tracing::field::display(request.method()));
                    span.record("url", tracing::field::display(redact_url(request.url())));
                }
                self.attempt(request, n, mode).await
            }
        };
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &HttpError| retryable && e.retryable())
            .adjust(|e: &HttpError, delay: Option<Duration>| {
                let delay = delay?;
                // The server named its pause: the attempt already closed the gate for everyone,
                // so the next try only has to wait for it.
                if e.retry_after().is_some() {
                    return Some(Duration::ZERO);
                }
                // A bare 429 still means the whole host is over its limit: pause everyone.
                if e.status() == Some(StatusCode::TOO_MANY_REQUESTS) {
                    self.inner.gate.close_for(delay);
                }
                Some(delay)
            })
            .notify(|e: &HttpError, delay: Duration| {
                self.inner.metrics.bump(Counter::Retries);
                self.inner.metrics.add_wait(Wait::Backoff, delay);
                let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
                // Rate limits are routine under a full budget; anything else deserves a warning.
                if e.kind() == ErrorKind::RateLimited {
                    info!(kind = %e.kind(), delay_ms, "retrying: {e}");
                } else {
                    warn!(kind = %e.kind(), delay_ms, "retrying: {e}");
                }
            })
            .instrument(span.clone())
            .await
            .map_err(|e| {
                if !retryable && e.retryable() {
                    e.detail("not retried: the streamed body cannot be sent again; use send_with")
                } else {
                    e
                }
            })
    }

    /// One try: wait for the gate and the budget, send, read the body (all of it, or only an
    /// error body when streaming), classify.
    async fn attempt(&self, mut request: Request, n: u32, mode: Mode) -> Result<Answer, HttpError> {
        let inner = &*self.inner;
        let method = request.method().clone();
        let url = redact_url(request.url());
        let fail = |f: Failure| HttpError::new(f).call(&method, &url).attempts(n);

        // Credentials go only to their own host (DESIGN §5).
        if request.url().origin() != inner.origin {
            return Err(fail(Failure::ForeignHost).detail(format!(
                "this client is bound to {}",
                redact_url(&inner.base)
            )));
        }
        let headers = request.headers_mut();
        for (name, value) in inner.headers.iter().chain(&inner.credentials) {
            headers.insert(name.clone(), value.clone());
        }
        for (name, value) in headers.iter_mut() {
            if is_secret_header(name.as_str()) {
                value.set_sensitive(true);
            }
        }

        let turn = self.wait_turn().await;
        inner.metrics.bump(Counter::Calls);
        debug!(attempt = n, "sending");
        let exchange = async {
            let response = inner.http.execute(request).await?;
            let status = response.status();
            let streams = mode != Mode::Buffered && status.is_success();
            let hop = mode == Mode::FileHop
                && status.is_redirection()
                && response.headers().contains_key(LOCATION);
            if streams || hop {
                return Ok(Received::Head(response));
            }
            let headers = response.headers().clone();
            let final_url = response.url().clone();
            // Read the body here, inside the try, so a truncated body is retried too.
            let body = match mode {
                Mode::Buffered => response.bytes().await?,
                Mode::Streaming | Mode::FileHop => read_capped(response, ERROR_BODY_MAX).await?,
            };
            Ok::<_, reqwest::Error>(Received::Whole(status, headers, final_url, body))
        };
        let received = match tokio::time::timeout(inner.policy.request_timeout, exchange).await {
            Err(_) => {
                inner.metrics.bump(Counter::TransportErrors);
                let secs = inner.policy.request_timeout.as_secs_f64();
                return Err(fail(Failure::Timeout).detail(format!("waited {secs:.1}s")));
            }
            Ok(Err(e)) => {
                inner.metrics.bump(Counter::TransportErrors);
                return Err(fail(transport_failure(&e)).detail(describe(&e, &inner.scrubber)));
            }
            Ok(Ok(received)) => received,
        };
        let (status, headers, final_url, body) = match received {
            Received::Head(response) => return self.head_answer(response, method, url, n, &turn),
            Received::Whole(status, headers, final_url, body) => (status, headers, final_url, body),
        };
        inner.metrics.add_bytes(body.len());

        let now = ServerNow::from_headers(&headers);
        let hints = Hints::read(&headers, &now, &inner.policy.rate_headers);
        self.note_window(&hints, &now, &turn);
        debug!(
            attempt = n,
            status = status.as_u16(),
            bytes = body.len(),
            "answered"
        );
        if status.is_success() {
            self.note_budget(&hints);
            return Ok(Answer::Full(HttpResponse::new(
                status,
                headers,
                body,
                method,
                url,
                inner.scrubber.clone(),
            )));
        }

        let vendor = vendor_excerpt(&body, &inner.scrubber);
        if status.is_redirection() {
            let foreign = headers
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| final_url.join(l).ok())
                .filter(|to| to.origin() != inner.origin);
            if let Some(to) = foreign {
                return Err(fail(Failure::ForeignRedirect).detail(format!(
                    "to {}; credentials go only to their own host",
                    redact_url(&to)
                )));
            }
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            inner.metrics.bump(Counter::RateLimited);
        } else if status.is_server_error() {
            inner.metrics.bump(Counter::ServerErrors);
        }
        let mut err = fail(Failure::Status(status)).vendor_message(vendor);
        let wait = match status {
            StatusCode::TOO_MANY_REQUESTS => hints
                .retry_after
                .or(hints.reset)
                // A bare 429 from a fixed-window limiter (the vendor's HostPolicy says so) names
                // no wait; its windows are `epoch / period`, so come back at the next boundary.
                .or_else(|| {
                    inner
                        .policy
                        .fixed_window_secs
                        .map(|p| until_next_window(&now, p))
                }),
            StatusCode::SERVICE_UNAVAILABLE => hints.retry_after,
            _ => hints.budget_reset,
        };
        if let Some(wait) = wait {
            err = err.with_retry_after(Some(wait));
            if wait > inner.policy.max_server_wait {
                // Longer than the operator allows: give up now rather than sleep for hours.
                err = err.no_retry();
            } else if err.retryable() || hints.budget_reset.is_some() {
                self.pause(wait, "server asked to wait");
            }
        }
        Err(err)
    }

    /// A successful head of a streamed call, or a redirect handed back to the file client.
    fn head_answer(
        &self,
        response: reqwest::Response,
        method: Method,
        url: String,
        n: u32,
        turn: &InFlight<'_>,
    ) -> Result<Answer, HttpError> {
        let status = response.status();
        let now = ServerNow::from_headers(response.headers());
        let hints = Hints::read(response.headers(), &now, &self.inner.policy.rate_headers);
        self.note_window(&hints, &now, turn);
        self.note_budget(&hints);
        debug!(
            attempt = n,
            status = status.as_u16(),
            "answered; streaming the body"
        );
        if !status.is_redirection() {
            return Ok(Answer::Streaming(StreamingResponse::new(
                response,
                method,
                url,
                self.clone(),
                n,
            )));
        }
        // Only in file mode, and only with a Location header (checked before).
        let to = response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| response.url().join(l).ok());
        match to {
            Some(to) => Ok(Answer::Redirect(to)),
            None => Err(HttpError::new(Failure::Status(status))
                .call(&method, &url)
                .attempts(n)
                .detail("the redirect's Location is not a valid URL")),
        }
    }

    /// After a successful answer: a used-up window means the next call would be refused, so the
    /// host is paused until it resets.
    fn note_budget(&self, hints: &Hints) {
        if let Some(reset) = hints.budget_reset {
            self.pause(
                reset.min(self.inner.policy.max_server_wait),
                "X-RateLimit-Remaining: 0",
            );
        }
    }

    /// What an answer said about the vendor's window: kept for the metrics, and for the calls
    /// that follow (see `window`). The window's end is the reset header's, else the next
    /// boundary of the policy's fixed window.
    fn note_window(&self, hints: &Hints, now: &ServerNow, turn: &InFlight<'_>) {
        let inner = &*self.inner;
        inner
            .metrics
            .note_vendor_budget(hints.remaining, hints.limit);
        let resets_in = hints.reset.or_else(|| {
            inner
                .policy
                .fixed_window_secs
                .map(|p| until_next_window(now, p))
        });
        if let (Some(remaining), Some(resets_in)) = (hints.remaining, resets_in) {
            turn.observe(remaining, resets_in.min(inner.policy.max_server_wait));
        }
    }

    /// Waits for the pause gate, then the budget, then the gate again (it may have closed while
    /// this worker queued for budget), then takes one of the calls the server's window has left;
    /// when none are, the gate closes until the window resets and the turn starts over.
    async fn wait_turn(&self) -> InFlight<'_> {
        let inner = &*self.inner;
        let (mut gate, mut budget) = (Duration::ZERO, Duration::ZERO);
        let turn = loop {
            gate += inner.gate.wait().await;
            let start = Instant::now();
            inner
                .limiter
                .until_ready_with_jitter(Jitter::up_to(inner.policy.jitter))
                .await;
            budget += start.elapsed();
            gate += inner.gate.wait().await;
            match inner.window.take() {
                Ok(turn) => break turn,
                Err(resets) => {
                    let wait = resets.saturating_duration_since(Instant::now());
                    self.pause(wait, "the server's window has no calls left");
                }
            }
        };
        inner.metrics.add_wait(Wait::Gate, gate);
        inner.metrics.add_wait(Wait::Budget, budget);
        turn
    }

    fn pause(&self, wait: Duration, why: &str) {
        self.inner.gate.close_for(wait);
        debug!(
            pause_ms = wait.as_millis() as u64,
            why, "pausing every call to this host"
        );
    }
}

/// A transport error as one line: the chain of causes, without the URL, scrubbed.
pub(crate) fn describe(e: &reqwest::Error, scrubber: &Scrubber) -> String {
    let mut text = String::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(c) = cause {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&c.to_string());
        cause = c.source();
    }
    if text.is_empty() {
        text = "transport error".into();
    }
    scrubber.scrub(&text)
}

/// The first `cap` bytes of a body (an error answer's, for the vendor's message).
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<bytes::Bytes, reqwest::Error> {
    let mut out = Vec::new();
    while out.len() < cap {
        match response.chunk().await? {
            Some(chunk) => {
                let take = chunk.len().min(cap - out.len());
                out.extend_from_slice(&chunk[..take]);
            }
            None => break,
        }
    }
    Ok(out.into())
}

/// Which transport failure a reqwest error is.
pub(crate) fn transport_failure(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        Failure::Timeout
    } else if e.is_builder() {
        Failure::InvalidRequest
    } else if e.is_redirect() {
        Failure::RedirectLoop
    } else if e.is_connect() {
        Failure::Connect
    } else {
        // Reset, closed early, truncated body, bad chunking.
        Failure::Interrupted
    }
}
