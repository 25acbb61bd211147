//! How politely to call one vendor host: the per-host section of `deskmove.toml`.
//!
//! Every number here has a documented vendor limit behind it: each connector crate's
//! `host_policy()` builds its vendor's policy and cites the limits, and a user can override any
//! field per host.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Failure, HttpError};

/// How deskmove paces, times out and retries the calls it makes to one vendor host.
///
/// Durations are written like `"30s"`, `"250ms"` or `"1m 30s"`. Every field may be left out; the
/// missing ones take the generic defaults below (or the vendor's, when deskmove knows the vendor).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostPolicy {
    /// Calls per minute that all deskmove workers together may send to this host. Set it a little
    /// under the vendor's limit so other integrations of the same account keep some room.
    pub calls_per_minute: u32,
    /// How many calls may leave back to back before the per-minute pace applies (at least 1).
    /// Keep `burst + calls_per_minute × window / 60 s` under the vendor's per-window limit.
    pub burst: u32,
    /// Up to this much random delay is added whenever a worker has to wait for the budget, so
    /// workers do not all fire at the same instant.
    #[serde(with = "duration")]
    pub jitter: Duration,
    /// How many times one call is tried in total (first try included) before it fails.
    pub max_attempts: u32,
    /// Longest time one try may take, from sending the request to the last byte of the answer.
    /// For a streamed download (attachments) it bounds only the wait for the response head:
    /// the body then may take as long as it keeps flowing (see `read_timeout`).
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// Longest silence while a streamed body is received: each chunk must arrive within this
    /// of the previous one, or the download fails (kind `timeout`). A large file that keeps
    /// flowing is never cut off, however long it takes.
    #[serde(with = "duration")]
    pub read_timeout: Duration,
    /// Pause before the first retry of a failed try; it doubles on each retry. A random jitter of
    /// up to the same length again is added.
    #[serde(with = "duration")]
    pub backoff_base: Duration,
    /// The pause between retries never grows past this (before jitter).
    #[serde(with = "duration")]
    pub backoff_max: Duration,
    /// Length in seconds of the vendor's fixed rate-limit window, when it has one (windows start
    /// at multiples of this since the Unix epoch). A "429 Too Many Requests" that says nothing
    /// about when to come back then pauses every worker until the next window starts. Leave it
    /// out to use the exponential backoff instead.
    pub fixed_window_secs: Option<u64>,
    /// If the vendor asks us to wait longer than this, the call fails (kind `rate_limited`)
    /// instead of sleeping; re-running later resumes where it stopped.
    #[serde(with = "duration")]
    pub max_server_wait: Duration,
    /// The response headers in which the vendor states its rate window: calls left and when the
    /// window resets. The client keeps within what the server says is left, pausing every
    /// worker until the reset when nothing is, so a budget at the vendor's full limit still
    /// draws no 429. Each connector names its vendor's headers.
    pub rate_headers: RateHeaders,
}

/// Names of the headers a vendor states its rate window in (compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateHeaders {
    /// The window's size in calls, e.g. `X-RateLimit-Limit` (shown in progress and reports).
    pub limit: String,
    /// Calls left in the current window, e.g. `X-RateLimit-Remaining`.
    pub remaining: String,
    /// When the window resets: seconds from now, or a Unix time (values of 10^9 and more),
    /// e.g. `X-RateLimit-Reset`. Without it, `fixed_window_secs` says where the window ends.
    pub reset: String,
}

impl Default for RateHeaders {
    /// The common `X-RateLimit-*` trio.
    fn default() -> Self {
        Self {
            limit: "x-ratelimit-limit".into(),
            remaining: "x-ratelimit-remaining".into(),
            reset: "x-ratelimit-reset".into(),
        }
    }
}

impl Default for HostPolicy {
    /// Conservative defaults for a vendor deskmove knows nothing about.
    fn default() -> Self {
        Self {
            calls_per_minute: 300,
            burst: 5,
            jitter: Duration::from_millis(50),
            max_attempts: 6,
            request_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(30),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            fixed_window_secs: None,
            max_server_wait: Duration::from_secs(15 * 60),
            rate_headers: RateHeaders::default(),
        }
    }
}

impl HostPolicy {
    /// Checks the numbers make sense; the error (kind `config`) says which field to fix.
    pub fn validate(&self) -> Result<(), HttpError> {
        self.check()
            .map_err(|msg| HttpError::new(Failure::Setup).detail(format!("host policy: {msg}")))
    }

    fn check(&self) -> Result<(), &'static str> {
        if self.calls_per_minute == 0 {
            return Err("calls_per_minute must be at least 1");
        }
        if self.burst == 0 {
            return Err("burst must be at least 1");
        }
        if self.max_attempts == 0 {
            return Err("max_attempts must be at least 1");
        }
        if self.request_timeout.is_zero() {
            return Err("request_timeout must be longer than zero");
        }
        if self.read_timeout.is_zero() {
            return Err("read_timeout must be longer than zero");
        }
        if self.backoff_max < self.backoff_base {
            return Err("backoff_max must not be shorter than backoff_base");
        }
        if self.fixed_window_secs == Some(0) {
            return Err("fixed_window_secs must be at least 1 (or left out)");
        }
        let h = &self.rate_headers;
        if [&h.limit, &h.remaining, &h.reset]
            .into_iter()
            .any(|name| http::HeaderName::from_bytes(name.as_bytes()).is_err())
        {
            return Err("rate_headers must name valid HTTP headers");
        }
        Ok(())
    }

    /// The interval after which the budget regains one call.
    pub(crate) fn replenish_interval(&self) -> Duration {
        Duration::from_secs(60) / self.calls_per_minute.max(1)
    }
}

/// Durations in config are human strings ("30s", "250ms", "1m 30s"), parsed by jiff.
mod duration {
    use std::time::Duration;

    use jiff::fmt::friendly::SpanParser;
    use serde::{Deserialize, Deserializer, Serializer};

    static PARSER: SpanParser = SpanParser::new();

    /// Written back in whole milliseconds (`"1500ms"`), which the parser reads again.
    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}ms", d.as_millis()))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        PARSER.parse_unsigned_duration(text.trim()).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration like \"30s\" or \"250ms\": {e}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_to_what_it_parses() {
        let policy = HostPolicy {
            calls_per_minute: 9_000,
            burst: 100,
            fixed_window_secs: Some(10),
            request_timeout: Duration::from_millis(1_500),
            ..HostPolicy::default()
        };
        let text = toml::to_string(&policy).unwrap();
        assert_eq!(toml::from_str::<HostPolicy>(&text).unwrap(), policy);
    }

    #[test]
    fn parses_partial_toml_with_human_durations() {
        let p: HostPolicy = toml::from_str(
            "calls_per_minute = 120\nrequest_timeout = \"2s 500ms\"\nfixed_window_secs = 60\n",
        )
        .unwrap();
        assert_eq!(p.calls_per_minute, 120);
        assert_eq!(p.request_timeout, Duration::from_millis(2_500));
        assert_eq!(p.fixed_window_secs, Some(60));
        assert_eq!(p.max_attempts, HostPolicy::default().max_attempts);
        assert_eq!(p.replenish_interval(), Duration::from_millis(500));
    }

    #[test]
    fn rejects_unknown_fields_and_bad_values() {
        let unknown = toml::from_str::<HostPolicy>("calls_per_min = 5\n").unwrap_err();
        assert!(unknown.to_string().contains("calls_per_min"), "{unknown}");
        let bad = toml::from_str::<HostPolicy>("jitter = \"soon\"\n").unwrap_err();
        assert!(bad.to_string().contains("soon"), "{bad}");
        let zero = HostPolicy {
            max_attempts: 0,
            ..HostPolicy::default()
        };
        let err = zero.validate().unwrap_err();
        assert!(err.to_string().contains("max_attempts"), "{err}");
        assert_eq!(
            deskmove_core::Classify::kind(&err),
            deskmove_core::ErrorKind::Config
        );
    }
}
