//! Timestamp normalisation: golden cases and properties.

use deskmove_core::normalize::time::{self, TimeError};
use jiff::Timestamp;
use proptest::prelude::*;
use serde_json::json;

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

#[test]
fn golden_cases() {
    let cases: &[(&str, &str)] = &[
        ("1700000000", "2023-11-14T22:13:20Z"),
        ("1700000000123", "2023-11-14T22:13:20.123Z"),
        ("1700000000123456", "2023-11-14T22:13:20.123456Z"),
        ("1700000000.25", "2023-11-14T22:13:20.25Z"),
        ("0", "1970-01-01T00:00:00Z"),
        ("2009-07-20T22:55:29Z", "2009-07-20T22:55:29Z"),
        (
            "2024-03-05T10:12:00.123456+02:00",
            "2024-03-05T08:12:00.123456Z",
        ),
        ("2024-03-05T10:12+02:00", "2024-03-05T08:12:00Z"),
        ("2024-03-05T10:12:00-0500", "2024-03-05T15:12:00Z"),
        ("2024-03-05 10:12:00Z", "2024-03-05T10:12:00Z"),
        ("2024-03-05 10:12:00 UTC", "2024-03-05T10:12:00Z"),
        ("  2024-03-05T10:12:00z  ", "2024-03-05T10:12:00Z"),
    ];
    for (input, expected) in cases {
        assert_eq!(time::parse(input).unwrap(), ts(expected), "input {input:?}");
    }
}

#[test]
fn errors_say_what_is_wrong() {
    assert_eq!(time::parse("  "), Err(TimeError::Empty));
    assert!(matches!(
        time::parse("2024-03-05T10:12:00"),
        Err(TimeError::MissingOffset(_))
    ));
    assert!(matches!(
        time::parse("yesterday"),
        Err(TimeError::Unparseable { .. })
    ));
    assert!(matches!(
        time::parse("99999999999999999999"),
        Err(TimeError::OutOfRange(_))
    ));
    assert!(matches!(
        time::from_json(&json!(null)),
        Err(TimeError::WrongType("null"))
    ));
    assert!(matches!(
        time::from_json(&json!([1])),
        Err(TimeError::WrongType("an array"))
    ));
    let message = time::parse("2024-03-05T10:12:00").unwrap_err().to_string();
    assert!(message.contains("no UTC offset"), "{message}");
    let long = "x".repeat(500);
    assert!(
        time::parse(&long).unwrap_err().to_string().len() < 400,
        "the input is shortened"
    );
}

#[test]
fn json_numbers_and_strings() {
    assert_eq!(
        time::from_json(&json!(1700000000)).unwrap(),
        ts("2023-11-14T22:13:20Z")
    );
    assert_eq!(
        time::from_json(&json!(1700000000123_i64)).unwrap(),
        ts("2023-11-14T22:13:20.123Z")
    );
    assert_eq!(
        time::from_json(&json!(1700000000.5)).unwrap(),
        ts("2023-11-14T22:13:20.5Z")
    );
    assert_eq!(
        time::from_json(&json!("2009-07-20T22:55:29Z")).unwrap(),
        ts("2009-07-20T22:55:29Z")
    );
    assert_eq!(
        time::from_json(&json!("1700000000")).unwrap(),
        ts("2023-11-14T22:13:20Z")
    );
}

/// Seconds from 1973-03-04 (after the ambiguity window, see the module docs), and the last
/// second of 9999.
const FIRST: i64 = 100_000_000;
const LAST: i64 = 253_402_300_799;

proptest! {
    #[test]
    fn epoch_seconds_round_trip(seconds in FIRST..99_999_999_999) {
        let parsed = time::from_epoch(seconds).unwrap();
        prop_assert_eq!(parsed.as_second(), seconds);
        prop_assert_eq!(time::parse(&seconds.to_string()).unwrap(), parsed);
        prop_assert_eq!(time::from_json(&json!(seconds)).unwrap(), parsed);
    }

    #[test]
    fn epoch_millis_round_trip(millis in 100_000_000_000i64..100_000_000_000_000) {
        let parsed = time::from_epoch(millis).unwrap();
        prop_assert_eq!(parsed.as_millisecond(), millis);
        prop_assert_eq!(time::parse(&millis.to_string()).unwrap(), parsed);
    }

    #[test]
    fn rfc3339_round_trip(seconds in -62_135_596_800i64..LAST, nanos in 0i32..1_000_000_000) {
        let original = Timestamp::new(seconds, nanos).unwrap();
        prop_assert_eq!(time::parse(&original.to_string()).unwrap(), original);
        let offset = original.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(-7)));
        prop_assert_eq!(time::parse(&offset.timestamp().display_with_offset(offset.offset()).to_string()).unwrap(), original);
    }

    #[test]
    fn never_panics(input in "\\PC{0,40}") {
        let _ = time::parse(&input);
    }
}
