//! Timestamps to UTC instants. Vendors send time as epoch seconds, epoch milliseconds
//! (some exports and webhooks), RFC 3339 / ISO 8601 with an offset (e.g. "2009-07-20T22:55:29Z")
//! or Ruby's "2024-01-02 03:04:05 UTC"; every canonical record holds a [`jiff::Timestamp`].
//!
//! Epoch unit heuristic, by magnitude of the number `n`:
//! `|n| < 10^11` is seconds (10^11 s is the year 5138, so no real seconds value is larger);
//! `|n| < 10^14` is milliseconds; `|n| < 10^17` is microseconds; anything larger is nanoseconds.
//! The cost: a millisecond value before 1973-03-03 (`n < 10^11`) would be read as seconds; no
//! helpdesk data predates that.

use jiff::Timestamp;

use crate::error::{Classify, ErrorKind};

/// Longest input echoed back in an error message.
const ECHO_LIMIT: usize = 64;

/// Why a value is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// An empty string.
    #[error("the timestamp is empty")]
    Empty,
    /// A number outside the range jiff supports (years -9999 to 9999).
    #[error("the epoch value {0} is out of range (years -9999 to 9999)")]
    OutOfRange(String),
    /// A date and time without an offset or `Z`: the instant it names is unknown.
    #[error(
        "the timestamp {0:?} has no UTC offset, so the instant is ambiguous; expected e.g. 2024-01-02T03:04:05Z"
    )]
    MissingOffset(String),
    /// Text that is neither an epoch number nor an ISO 8601 / RFC 3339 timestamp.
    #[error(
        "the timestamp {input:?} is not an epoch number or an ISO 8601 date-time with an offset: {reason}"
    )]
    Unparseable {
        /// The input, shortened to a few dozen characters.
        input: String,
        /// What the parser said.
        reason: String,
    },
    /// A JSON value that is neither a number nor a string.
    #[error("expected a timestamp as a number or a string, found {0}")]
    WrongType(&'static str),
}

impl Classify for TimeError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Validation
    }
}

/// Reads an integer epoch value, choosing its unit by magnitude (see the module docs).
pub fn from_epoch(n: i64) -> Result<Timestamp, TimeError> {
    let magnitude = n.unsigned_abs();
    let result = if magnitude < 100_000_000_000 {
        Timestamp::from_second(n)
    } else if magnitude < 100_000_000_000_000 {
        Timestamp::from_millisecond(n)
    } else if magnitude < 100_000_000_000_000_000 {
        Timestamp::from_microsecond(n)
    } else {
        Timestamp::from_nanosecond(i128::from(n))
    };
    result.map_err(|_| TimeError::OutOfRange(n.to_string()))
}

/// Reads a fractional epoch value such as `1700000000.25` (seconds with a fraction, as some
/// exports write), choosing the unit by magnitude like [`from_epoch`].
pub fn from_epoch_f64(x: f64) -> Result<Timestamp, TimeError> {
    if !x.is_finite() {
        return Err(TimeError::OutOfRange(x.to_string()));
    }
    let magnitude = x.abs();
    let nanos_per_unit = if magnitude < 1e11 {
        1e9
    } else if magnitude < 1e14 {
        1e6
    } else if magnitude < 1e17 {
        1e3
    } else {
        1.0
    };
    // Rounded to whole microseconds: an f64 near 1.7e9 holds about 7 fraction digits, so finer
    // digits would be noise.
    let micros = (x * nanos_per_unit / 1e3).round();
    if micros.abs() > 1e18 {
        return Err(TimeError::OutOfRange(x.to_string()));
    }
    // Whole and within ±10^18 by the checks above, so the cast is exact.
    let micros = micros as i64;
    Timestamp::from_microsecond(micros).map_err(|_| TimeError::OutOfRange(x.to_string()))
}

/// Parses a timestamp written as text: an epoch number (integer or decimal), an RFC 3339 /
/// ISO 8601 date-time with `Z` or an offset (`+02:00`, `+0200`; seconds and fraction optional;
/// `T` or a space between date and time), or Ruby's `YYYY-MM-DD HH:MM:SS UTC`.
pub fn parse(text: &str) -> Result<Timestamp, TimeError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(TimeError::Empty);
    }
    if is_integer(text) {
        return match text.parse::<i64>() {
            Ok(n) => from_epoch(n),
            Err(_) => Err(TimeError::OutOfRange(shorten(text))),
        };
    }
    if is_decimal(text) {
        return match text.parse::<f64>() {
            Ok(x) => from_epoch_f64(x),
            Err(error) => Err(unparseable(text, &error)),
        };
    }
    // Ruby's `Time#to_s` (CSV exports of Rails-based helpdesks) writes "2024-01-02 03:04:05 UTC".
    let iso = match text
        .strip_suffix(" UTC")
        .or_else(|| text.strip_suffix(" GMT"))
    {
        Some(head) => std::borrow::Cow::Owned(format!("{}Z", head.trim_end())),
        None => std::borrow::Cow::Borrowed(text),
    };
    match iso.parse::<Timestamp>() {
        Ok(timestamp) => Ok(timestamp),
        Err(error) => {
            // Distinguish "valid civil date-time, no offset" so the message says what to fix.
            if iso.parse::<jiff::civil::DateTime>().is_ok() {
                Err(TimeError::MissingOffset(shorten(text)))
            } else {
                Err(unparseable(text, &error))
            }
        }
    }
}

/// Reads a timestamp from a JSON value: a number is an epoch value, a string is parsed with
/// [`parse`].
pub fn from_json(value: &serde_json::Value) -> Result<Timestamp, TimeError> {
    use serde_json::Value;
    match value {
        Value::Number(number) => {
            if let Some(n) = number.as_i64() {
                from_epoch(n)
            } else if let Some(x) = number.as_f64() {
                from_epoch_f64(x)
            } else {
                Err(TimeError::OutOfRange(number.to_string()))
            }
        }
        Value::String(text) => parse(text),
        Value::Null => Err(TimeError::WrongType("null")),
        Value::Bool(_) => Err(TimeError::WrongType("a boolean")),
        Value::Array(_) => Err(TimeError::WrongType("an array")),
        Value::Object(_) => Err(TimeError::WrongType("an object")),
    }
}

fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn is_decimal(text: &str) -> bool {
    let body = text.strip_prefix('-').unwrap_or(text);
    match body.split_once('.') {
        Some((whole, fraction)) => {
            !whole.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(ECHO_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn unparseable(text: &str, error: &dyn std::fmt::Display) -> TimeError {
    TimeError::Unparseable {
        input: shorten(text),
        reason: error.to_string(),
    }
}
