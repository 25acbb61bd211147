//! Reading the server's hints about when to come back: `Retry-After`, the vendor's rate headers
//! (`X-RateLimit-*` unless its policy names others), and the
//! boundary of a fixed rate window when a 429 says nothing at all.
//!
//! Times are computed on the server's clock when it sent a `Date` header (the vendor's windows run
//! on its clock, not ours). `Date` has whole-second precision and is truncated, so a wait computed
//! from it is never shorter than the real one, at most about a second longer.

use std::time::Duration;

use http::HeaderMap;
use jiff::{SignedDuration, Timestamp, fmt::rfc2822::DateTimeParser};

use crate::policy::RateHeaders;

static HTTP_DATE: DateTimeParser = DateTimeParser::new();

/// Safety margin added when the server gave no `Date` and we must trust our own clock.
const LOCAL_CLOCK_MARGIN: Duration = Duration::from_millis(100);

/// Values of `X-RateLimit-Reset` below this are seconds from now rather than a Unix time
/// (some vendors send a delta); 10^9 seconds is September 2001.
const UNIX_TIME_FLOOR: u64 = 1_000_000_000;

/// The server's notion of "now": its `Date` header if any, else our clock (flagged).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServerNow {
    now: Timestamp,
    from_server: bool,
}

impl ServerNow {
    /// Reads `Date` from a response's headers.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let date = headers
            .get(http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| HTTP_DATE.parse_timestamp(v.trim()).ok());
        match date {
            Some(now) => Self {
                now,
                from_server: true,
            },
            None => Self::local(),
        }
    }

    /// Our own clock.
    pub(crate) fn local() -> Self {
        Self {
            now: Timestamp::now(),
            from_server: false,
        }
    }

    #[cfg(test)]
    pub(crate) fn at(now: Timestamp, from_server: bool) -> Self {
        Self { now, from_server }
    }

    /// Time from now until `then`, never negative; padded when measured on our own clock.
    fn until(self, then: Timestamp) -> Duration {
        let wait = unsigned(then.duration_since(self.now));
        if self.from_server {
            wait
        } else {
            wait + LOCAL_CLOCK_MARGIN
        }
    }
}

fn unsigned(d: SignedDuration) -> Duration {
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: &ServerNow) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = HTTP_DATE.parse_timestamp(value).ok()?;
    Some(now.until(at))
}

/// What a response says about pausing the host and about the vendor's rate window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Hints {
    /// From `Retry-After`.
    pub(crate) retry_after: Option<Duration>,
    /// From the reset header, present only when the remaining count is 0.
    pub(crate) budget_reset: Option<Duration>,
    /// From the reset header regardless of the remaining count (used on a 429).
    pub(crate) reset: Option<Duration>,
    /// Calls left in the vendor's window, from the remaining header.
    pub(crate) remaining: Option<u64>,
    /// The window's size, from the limit header.
    pub(crate) limit: Option<u64>,
}

impl Hints {
    /// Reads the hints from response headers named by the vendor's policy, against the
    /// server's clock.
    pub(crate) fn read(headers: &HeaderMap, now: &ServerNow, names: &RateHeaders) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let number = |name: &str| {
            text(name)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|n| n.is_finite())
                .map(|n| n.max(0.0) as u64)
        };
        let retry_after = text("retry-after").and_then(|v| parse_retry_after(v, now));
        // The reset: Unix seconds at which the window resets, or seconds from now; the
        // remaining count: calls left in that window (vendor crates cite their own).
        let reset = text(&names.reset).and_then(|v| parse_reset(v, now));
        let remaining = number(&names.remaining);
        Self {
            retry_after,
            budget_reset: if remaining == Some(0) { reset } else { None },
            reset,
            remaining,
            limit: number(&names.limit),
        }
    }
}

fn parse_reset(value: &str, now: &ServerNow) -> Option<Duration> {
    let secs: u64 = value.trim().parse().ok()?;
    if secs < UNIX_TIME_FLOOR {
        return Some(Duration::from_secs(secs));
    }
    let at = Timestamp::from_second(i64::try_from(secs).ok()?).ok()?;
    Some(now.until(at))
}

/// Time until the next boundary of a fixed window of `period_secs` (windows are `epoch / period`,
/// as fixed-window limiters such as Rails' rack-attack count them).
pub(crate) fn until_next_window(now: &ServerNow, period_secs: u64) -> Duration {
    let period = i64::try_from(period_secs.max(1)).unwrap_or(i64::MAX);
    let current = now.now.as_second().div_euclid(period);
    let boundary = current.saturating_add(1).saturating_mul(period);
    match Timestamp::from_second(boundary) {
        Ok(at) => now.until(at),
        Err(_) => Duration::from_secs(period_secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn retry_after_delta_seconds() {
        let now = ServerNow::local();
        assert_eq!(
            parse_retry_after("120", &now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", &now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-5", &now), None);
        assert_eq!(parse_retry_after("1.5", &now), None);
        assert_eq!(parse_retry_after("soon", &now), None);
    }

    #[test]
    fn retry_after_http_date_against_server_clock() {
        let now = ServerNow::at(ts("2015-10-21T07:27:30Z"), true);
        let wait = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", &now);
        assert_eq!(wait, Some(Duration::from_secs(30)));
        // A date in the past means "now".
        let past = parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", &now);
        assert_eq!(past, Some(Duration::ZERO));
        // On our own clock, a margin is added.
        let local = ServerNow::at(ts("2015-10-21T07:27:30Z"), false);
        let padded = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", &local);
        assert_eq!(padded, Some(Duration::from_secs(30) + LOCAL_CLOCK_MARGIN));
    }

    #[test]
    fn date_header_sets_server_clock() {
        let mut h = HeaderMap::new();
        h.insert("date", "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        h.insert("x-ratelimit-reset", "1445412490".parse().unwrap()); // 07:28:10
        let now = ServerNow::from_headers(&h);
        assert!(now.from_server);
        let hints = Hints::read(&h, &now, &RateHeaders::default());
        assert_eq!(hints.budget_reset, Some(Duration::from_secs(10)));
        assert_eq!(hints.retry_after, None);
    }

    #[test]
    fn reset_without_exhaustion_is_not_a_budget_pause() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", "12".parse().unwrap());
        h.insert("x-ratelimit-reset", "7".parse().unwrap());
        let hints = Hints::read(&h, &ServerNow::local(), &RateHeaders::default());
        assert_eq!(hints.budget_reset, None);
        assert_eq!(hints.reset, Some(Duration::from_secs(7)));
    }

    #[test]
    fn next_fixed_window_boundary() {
        let now = ServerNow::at(ts("2024-01-01T00:00:42Z"), true);
        assert_eq!(until_next_window(&now, 60), Duration::from_secs(18));
        assert_eq!(until_next_window(&now, 10), Duration::from_secs(8));
        let edge = ServerNow::at(ts("2024-01-01T00:01:00Z"), true);
        assert_eq!(until_next_window(&edge, 60), Duration::from_secs(60));
    }
}
