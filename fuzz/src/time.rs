//! Invariants of `normalize::time` (epoch seconds/millis/micros/nanos, RFC 3339 / ISO 8601,
//! Ruby's `... UTC`).
//!
//! Input: a first byte `j` means the rest is JSON given to `from_json` (so numbers, integer or
//! fractional, take the epoch path); anything else is the whole input as text given to `parse`.
//!
//! When a timestamp comes back:
//! - its RFC 3339 form (jiff's `Display`, always `Z`) parses back to the same instant, both with
//!   `parse` and with jiff itself, and through `from_json` as a JSON string;
//! - an integer epoch value reads back exactly in the unit the magnitude heuristic chose
//!   (`|n| < 10^11` seconds, `< 10^14` millis, `< 10^17` micros, else nanos);
//! - `parse` and `from_json` agree on the same text, and integer text agrees with `from_epoch`.

use deskmove_core::normalize::time::{TimeError, from_epoch, from_json, parse};
use jiff::Timestamp;
use serde_json::Value;

use crate::{Violation, ensure};

/// The check run by the `timestamps` target.
pub fn check(data: &[u8]) -> Result<(), Violation> {
    if let Some(json) = data.strip_prefix(b"j") {
        let Ok(value) = serde_json::from_slice::<Value>(json) else {
            return Ok(());
        };
        let result = from_json(&value);
        if let Some(n) = value.as_i64() {
            ensure!(
                result == from_epoch(n),
                "from_json({n}) and from_epoch({n}) disagree"
            );
            if let Ok(ts) = &result {
                epoch_reads_back(n, ts)?;
            }
        }
        return round_trips(&result);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    let result = parse(text);
    ensure!(
        from_json(&Value::String(text.to_owned())) == result,
        "parse and from_json disagree on {text:?}"
    );
    // Only the normaliser's integer grammar (`-?[0-9]+`): "+5" is not an epoch value to it.
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix('-').unwrap_or(trimmed);
    let integer = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if let Some(n) = integer.then(|| trimmed.parse::<i64>().ok()).flatten() {
        ensure!(
            result == from_epoch(n),
            "parse({text:?}) and from_epoch({n}) disagree"
        );
    }
    round_trips(&result)
}

fn round_trips(result: &Result<Timestamp, TimeError>) -> Result<(), Violation> {
    let Ok(ts) = result else {
        return Ok(());
    };
    let rfc = ts.to_string();
    ensure!(rfc.ends_with('Z'), "{rfc:?} is not in UTC");
    ensure!(
        parse(&rfc).as_ref() == Ok(ts),
        "{rfc:?} parses back as {:?}, not {ts:?}",
        parse(&rfc)
    );
    ensure!(
        rfc.parse::<Timestamp>().as_ref().ok() == Some(ts),
        "jiff reads {rfc:?} differently"
    );
    ensure!(
        from_json(&Value::String(rfc.clone())).as_ref() == Ok(ts),
        "{rfc:?} as a JSON string reads differently"
    );
    Ok(())
}

fn epoch_reads_back(n: i64, ts: &Timestamp) -> Result<(), Violation> {
    let magnitude = n.unsigned_abs();
    let back = if magnitude < 100_000_000_000 {
        i128::from(ts.as_second())
    } else if magnitude < 100_000_000_000_000 {
        i128::from(ts.as_millisecond())
    } else if magnitude < 100_000_000_000_000_000 {
        i128::from(ts.as_microsecond())
    } else {
        ts.as_nanosecond()
    };
    ensure!(
        back == i128::from(n),
        "epoch {n} reads back as {back} in its unit"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typical_values_pass() {
        for input in [
            "2024-01-02T03:04:05Z",
            "2024-01-02 03:04:05 UTC",
            "1700000000",
            "-1",
            "j1700000000123",
            "j1700000000.25",
            "j\"2009-07-20T22:55:29+02:00\"",
            "jnull",
            "9999-12-31T23:59:59.999999999-05:00",
        ] {
            check(input.as_bytes()).unwrap();
        }
    }

    #[test]
    fn epoch_units_are_checked() {
        let ts = from_epoch(1_700_000_000_123).unwrap();
        assert!(epoch_reads_back(1_700_000_000_123, &ts).is_ok());
        assert!(epoch_reads_back(1_700_000_000_124, &ts).is_err());
    }
}
