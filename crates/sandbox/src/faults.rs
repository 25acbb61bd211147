//! Switchable faults for sandboxes: server errors, connection resets, 429 storms, truncated and
//! slow bodies, and fixed latency. Decisions come from a seed and the request number, so a failing
//! run can be replayed exactly.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::stream;

use crate::rng::unit;

/// How many consecutive requests a 429 storm lasts once it starts.
pub const STORM_LENGTH: u64 = 20;

/// Fault probabilities, each per request, from `--faults`.
///
/// Written as comma-separated `name=probability` pairs, e.g.
/// `5xx=0.05,reset=0.01,storm=0.02,truncate=0.01,slow=0.02`; `none` or an empty string turns all
/// faults off.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Probability of a 500/502/503 answer (vendor-shaped body).
    pub server_error: f64,
    /// Probability of a connection reset after the headers.
    pub reset: f64,
    /// Probability that a storm of [`STORM_LENGTH`] consecutive 429 answers starts.
    pub storm: f64,
    /// Probability that the body is cut short of its `Content-Length`.
    pub truncate: f64,
    /// Probability that the body trickles out over [`Faults::SLOW_BODY`].
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

/// A fault whose response body the vendor shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFault {
    /// A server error with this status (500, 502 or 503).
    ServerError(StatusCode),
    /// A 429 from a storm.
    TooManyRequests,
}

/// Builds the vendor-shaped response for an injected fault.
pub type FaultResponder = Arc<dyn Fn(InjectedFault) -> Response + Send + Sync>;

/// Decides, per request, whether and how to misbehave; shared by all requests of one sandbox.
pub struct FaultInjector {
    faults: Faults,
    latency: Duration,
    seed: u64,
    requests: AtomicU64,
    storm_left: AtomicU64,
    injected: AtomicU64,
    respond: FaultResponder,
}

impl fmt::Debug for FaultInjector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultInjector")
            .field("faults", &self.faults)
            .field("latency", &self.latency)
            .field("seed", &self.seed)
            .field("injected", &self.injected.load(Ordering::Relaxed))
            .finish()
    }
}

impl FaultInjector {
    /// An injector for `faults` with a fixed `latency` before every answer; `respond` shapes 5xx
    /// and 429 bodies the way the vendor does.
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
            requests: AtomicU64::new(0),
            storm_left: AtomicU64::new(0),
            injected: AtomicU64::new(0),
            respond: Arc::new(respond),
        }
    }

    /// How many faults have been injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    fn decide(&self) -> Decision {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        if self.faults.is_none() {
            return Decision::Pass;
        }
        let in_storm = self
            .storm_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if in_storm {
            return Decision::Storm;
        }
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
            self.storm_left.store(STORM_LENGTH - 1, Ordering::Relaxed);
            Decision::Storm
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

#[derive(Debug, Clone, Copy)]
enum Decision {
    Pass,
    Storm,
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
    let decision = injector.decide();
    if !matches!(decision, Decision::Pass) {
        injector.injected.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(message = "Injecting a sandbox fault.", ?decision, path = %request.uri().path());
    }
    match decision {
        Decision::Pass => next.run(request).await,
        Decision::Storm => (injector.respond)(InjectedFault::TooManyRequests),
        Decision::ServerError(status) => (injector.respond)(InjectedFault::ServerError(status)),
        Decision::Reset => reset_after_headers(),
        Decision::Truncate => truncate(next.run(request).await).await,
        Decision::Slow => slow(next.run(request).await).await,
    }
}

/// Headers go out, then the connection dies: the client sees a reset mid-response.
fn reset_after_headers() -> Response {
    let body = Body::from_stream(stream::iter([Err::<Bytes, _>(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "injected connection reset",
    ))]));
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The real answer, announced in full by `Content-Length` but cut off halfway.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return reset_after_headers();
    };
    let half = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let chunks = [
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "injected truncated body",
        )),
    ];
    Response::from_parts(parts, Body::from_stream(stream::iter(chunks)))
}

/// The real answer, trickled out in eight pieces over [`Faults::SLOW_BODY`].
async fn slow(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return reset_after_headers();
    };
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

    #[test]
    fn storms_last_their_length_and_rates_match() {
        let storm = FaultInjector::new(
            Faults {
                storm: 1.0,
                ..Faults::none()
            },
            Duration::ZERO,
            1,
            |_| Response::new(Body::empty()),
        );
        for _ in 0..(STORM_LENGTH * 3) {
            assert!(matches!(storm.decide(), Decision::Storm));
        }
        let errors = FaultInjector::new(
            Faults {
                server_error: 0.1,
                ..Faults::none()
            },
            Duration::ZERO,
            9,
            |_| Response::new(Body::empty()),
        );
        let hits = (0..20_000)
            .filter(|_| matches!(errors.decide(), Decision::ServerError(_)))
            .count();
        assert!(
            (1_700..2_300).contains(&hits),
            "{hits} server errors in 20000"
        );
    }
}
