//! Switchable faults for sandboxes, shaped like the vendors' own failures: server errors,
//! connections closed without an answer, 429 storms that last for a span of time, bodies cut off
//! short of their `Content-Length`, slow bodies, and fixed latency. Which request misbehaves comes
//! from a seed and the request number, so a failing run can be replayed; only a storm's end
//! depends on the clock.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::{StreamExt, stream};
use tokio::time::Instant;

use crate::rng::unit;

/// How long a 429 storm lasts once it starts, unless [`FaultInjector::with_storm_span`] says
/// otherwise. After a storm ends, no new one starts for one more span.
pub const STORM_SPAN: Duration = Duration::from_secs(2);

/// How long a truncated body stays open after its part went out, so the part reaches the client
/// before the connection is cut (hyper drops whatever it still holds when a body fails).
const CUT_PAUSE: Duration = Duration::from_millis(20);

/// Fault probabilities, each per request, from `--faults`.
///
/// Written as comma-separated `name=probability` pairs, e.g.
/// `5xx=0.05,reset=0.01,storm=0.02,truncate=0.01,slow=0.02`; `none` or an empty string turns all
/// faults off. The sandbox's own `/__sandbox/` endpoints are never faulted.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// `5xx`: probability of a 500, 502 or 503 answer, its body shaped like the vendor's.
    pub server_error: f64,
    /// `reset`: probability that the connection closes before any of the answer is sent.
    pub reset: f64,
    /// `storm`: probability that a 429 storm starts. For [`STORM_SPAN`] every request then gets
    /// 429, each telling when the storm ends in the vendor's own headers; once the span is over
    /// the storm is over for everyone, and no new storm starts for another span, so a client that
    /// waits out the advertised reset gets through.
    pub storm: f64,
    /// `truncate`: probability that the status, the headers (with the full `Content-Length`) and
    /// half the body go out, then the connection is cut.
    pub truncate: f64,
    /// `slow`: probability that the body trickles out over [`Faults::SLOW_BODY`].
    pub slow: f64,
}

impl Faults {
    /// How long a slow body takes to arrive.
    pub const SLOW_BODY: Duration = Duration::from_millis(1500);

    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// True when no fault can happen.
    pub fn is_none(&self) -> bool {
        *self == Self::default()
    }
}

/// A `--faults` value that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultsParseError {
    /// A pair was not `name=probability`.
    #[error("`{0}` is not name=probability (e.g. 5xx=0.05)")]
    Malformed(String),
    /// The name is not a known fault.
    #[error("unknown fault `{0}`; known faults: 5xx, reset, storm, truncate, slow")]
    UnknownFault(String),
    /// The probability is not a number in 0..=1.
    #[error("probability `{0}` must be a number between 0 and 1")]
    BadProbability(String),
}

impl FromStr for Faults {
    type Err = FaultsParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut faults = Faults::none();
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("none") {
            return Ok(faults);
        }
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| FaultsParseError::Malformed(pair.to_owned()))?;
            let p: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|p: &f64| (0.0..=1.0).contains(p))
                .ok_or_else(|| FaultsParseError::BadProbability(value.trim().to_owned()))?;
            match name.trim() {
                "5xx" => faults.server_error = p,
                "reset" => faults.reset = p,
                "storm" => faults.storm = p,
                "truncate" => faults.truncate = p,
                "slow" => faults.slow = p,
                other => return Err(FaultsParseError::UnknownFault(other.to_owned())),
            }
        }
        Ok(faults)
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("none");
        }
        write!(
            f,
            "5xx={},reset={},storm={},truncate={},slow={}",
            self.server_error, self.reset, self.storm, self.truncate, self.slow
        )
    }
}

/// A fault whose answer the vendor shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFault {
    /// A server error with this status (500, 502 or 503).
    ServerError(StatusCode),
    /// A 429 during a storm that ends `retry_after` from now. The vendor renders the end the way
    /// it does for its own limits (`Retry-After`, `X-RateLimit-Reset`, …) or not at all.
    TooManyRequests {
        /// Time left until the storm ends; a request sent after it gets through.
        retry_after: Duration,
    },
}

/// Builds the vendor-shaped response for an injected fault.
pub type FaultResponder = Arc<dyn Fn(InjectedFault) -> Response + Send + Sync>;

/// Decides, per request, whether and how to misbehave; shared by all requests of one sandbox.
pub struct FaultInjector {
    faults: Faults,
    latency: Duration,
    seed: u64,
    storm_span: Duration,
    requests: AtomicU64,
    /// When the latest storm ends (or ended); `None` before the first.
    storm_end: Mutex<Option<Instant>>,
    injected: AtomicU64,
    respond: FaultResponder,
}

impl fmt::Debug for FaultInjector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultInjector")
            .field("faults", &self.faults)
            .field("latency", &self.latency)
            .field("seed", &self.seed)
            .field("storm_span", &self.storm_span)
            .field("injected", &self.injected.load(Ordering::Relaxed))
            .finish()
    }
}

impl FaultInjector {
    /// An injector for `faults` with a fixed `latency` before every answer; `respond` shapes 5xx
    /// and 429 answers the way the vendor does. Storms last [`STORM_SPAN`].
    pub fn new(
        faults: Faults,
        latency: Duration,
        seed: u64,
        respond: impl Fn(InjectedFault) -> Response + Send + Sync + 'static,
    ) -> Self {
        Self {
            faults,
            latency,
            seed,
            storm_span: STORM_SPAN,
            requests: AtomicU64::new(0),
            storm_end: Mutex::new(None),
            injected: AtomicU64::new(0),
            respond: Arc::new(respond),
        }
    }

    /// The same injector with storms lasting `span` instead of [`STORM_SPAN`].
    pub fn with_storm_span(mut self, span: Duration) -> Self {
        self.storm_span = span;
        self
    }

    /// How many faults have been injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// The fault for the next request, arriving `now`.
    fn decide(&self, now: Instant) -> Decision {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        if self.faults.is_none() {
            return Decision::Pass;
        }
        let mut storm_end = self
            .storm_end
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(end) = *storm_end
            && now < end
        {
            return Decision::Storm {
                retry_after: end - now,
            };
        }
        let calm = storm_end.is_some_and(|end| now < end + self.storm_span);
        let f = &self.faults;
        let mut u = unit(self.seed, n);
        let mut take = |p: f64| {
            if u < p {
                true
            } else {
                u -= p;
                false
            }
        };
        if take(f.storm) {
            if calm {
                return Decision::Pass;
            }
            *storm_end = Some(now + self.storm_span);
            Decision::Storm {
                retry_after: self.storm_span,
            }
        } else if take(f.server_error) {
            let status = match n % 3 {
                0 => StatusCode::INTERNAL_SERVER_ERROR,
                1 => StatusCode::BAD_GATEWAY,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            Decision::ServerError(status)
        } else if take(f.reset) {
            Decision::Reset
        } else if take(f.truncate) {
            Decision::Truncate
        } else if take(f.slow) {
            Decision::Slow
        } else {
            Decision::Pass
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Pass,
    Storm { retry_after: Duration },
    ServerError(StatusCode),
    Reset,
    Truncate,
    Slow,
}

/// Wraps every route of `router` with latency and faults. Paths under `/__sandbox/` (the
/// sandbox's own inspection endpoints) are never faulted.
pub fn with_faults(router: Router, injector: Arc<FaultInjector>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(injector, inject))
}

async fn inject(
    State(injector): State<Arc<FaultInjector>>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/__sandbox/") {
        return next.run(request).await;
    }
    if !injector.latency.is_zero() {
        tokio::time::sleep(injector.latency).await;
    }
    let decision = injector.decide(Instant::now());
    if decision != Decision::Pass {
        injector.injected.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(message = "Injecting a sandbox fault.", ?decision, path = %request.uri().path());
    }
    match decision {
        Decision::Pass => next.run(request).await,
        Decision::Storm { retry_after } => {
            (injector.respond)(InjectedFault::TooManyRequests { retry_after })
        }
        Decision::ServerError(status) => (injector.respond)(InjectedFault::ServerError(status)),
        Decision::Reset => reset(),
        Decision::Truncate => truncate(next.run(request).await).await,
        Decision::Slow => slow(next.run(request).await).await,
    }
}

/// The connection closes before any of the answer is sent: a body that fails at once makes hyper
/// drop the status and headers it still holds.
fn reset() -> Response {
    let body = Body::from_stream(stream::iter([Err::<Bytes, _>(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "injected connection reset",
    ))]));
    Response::new(body)
}

/// The real answer with its full `Content-Length`, cut off after half the body.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) if !bytes.is_empty() => bytes,
        // An empty body cannot be cut short.
        _ => return reset(),
    };
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let part = bytes.slice(..bytes.len() / 2);
    let body = stream::once(async move { Ok(part) }).chain(stream::once(async {
        // While the body is pending hyper sends what it holds; failing straight away would lose
        // the headers too and look like a reset.
        tokio::time::sleep(CUT_PAUSE).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "injected truncated body",
        ))
    }));
    Response::from_parts(parts, Body::from_stream(body))
}

/// The real answer with its full `Content-Length`, trickled out in eight pieces over
/// [`Faults::SLOW_BODY`].
async fn slow(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return reset();
    };
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let pieces = 8usize;
    let step = bytes.len().div_ceil(pieces).max(1);
    let delay = Faults::SLOW_BODY / pieces as u32;
    let chunks: Vec<Bytes> = (0..bytes.len())
        .step_by(step)
        .map(|start| bytes.slice(start..(start + step).min(bytes.len())))
        .collect();
    let body = stream::unfold(chunks.into_iter(), move |mut rest| async move {
        let next = rest.next()?;
        tokio::time::sleep(delay).await;
        Some((Ok::<_, std::io::Error>(next), rest))
    });
    Response::from_parts(parts, Body::from_stream(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_fault_lists() {
        let f: Faults = "5xx=0.05, reset=0.01,storm=0.02,truncate=0.01,slow=0.02"
            .parse()
            .unwrap();
        assert_eq!(f.server_error, 0.05);
        assert_eq!(f.slow, 0.02);
        assert_eq!(f.to_string().parse::<Faults>().unwrap(), f);
        assert!("none".parse::<Faults>().unwrap().is_none());
        assert!("".parse::<Faults>().unwrap().is_none());
        assert_eq!(
            "5xx".parse::<Faults>(),
            Err(FaultsParseError::Malformed("5xx".into()))
        );
        assert_eq!(
            "boom=0.1".parse::<Faults>(),
            Err(FaultsParseError::UnknownFault("boom".into()))
        );
        assert_eq!(
            "5xx=1.5".parse::<Faults>(),
            Err(FaultsParseError::BadProbability("1.5".into()))
        );
    }

    fn quiet(_: InjectedFault) -> Response {
        Response::new(Body::empty())
    }

    #[test]
    fn storms_last_their_span_then_calm_for_another() {
        let span = Duration::from_secs(2);
        let storm = FaultInjector::new(
            Faults {
                storm: 1.0,
                ..Faults::none()
            },
            Duration::ZERO,
            1,
            quiet,
        )
        .with_storm_span(span);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(storm.decide(t0), Decision::Storm { retry_after: span });
        // However many requests arrive, the storm ends at the same moment.
        for _ in 0..100 {
            assert_eq!(
                storm.decide(t0 + ms(1_500)),
                Decision::Storm {
                    retry_after: ms(500)
                }
            );
        }
        assert_eq!(storm.decide(t0 + span), Decision::Pass);
        assert_eq!(storm.decide(t0 + span + ms(1_999)), Decision::Pass);
        assert_eq!(
            storm.decide(t0 + span * 2),
            Decision::Storm { retry_after: span }
        );
    }

    #[test]
    fn decisions_repeat_per_seed_and_rates_match() {
        let faults = Faults {
            server_error: 0.1,
            reset: 0.05,
            truncate: 0.05,
            ..Faults::none()
        };
        let t0 = Instant::now();
        let run = |seed| {
            let injector = FaultInjector::new(faults, Duration::ZERO, seed, quiet);
            (0..20_000).map(|_| injector.decide(t0)).collect::<Vec<_>>()
        };
        let decisions = run(9);
        assert_eq!(decisions, run(9));
        assert_ne!(decisions, run(10));
        let errors = decisions
            .iter()
            .filter(|d| matches!(d, Decision::ServerError(_)))
            .count();
        assert!(
            (1_700..2_300).contains(&errors),
            "{errors} server errors in 20000"
        );
    }
}
