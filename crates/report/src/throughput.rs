//! Records per time bucket, from the store's activity log.

use std::collections::BTreeMap;

use deskmove_store::{Activity, ActivityPhase};

use crate::model::{Phase, Point, Series, Throughput};

/// At most this many buckets, so a chart stays readable for a minute-long run and a day-long one.
const MAX_BUCKETS: u64 = 60;

/// Bucket widths a person reads easily, in milliseconds; beyond the last, whole hours.
const NICE_MS: [u64; 22] = [
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000,
    120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000,
];

/// The smallest nice width that covers `span_ms` in at most [`MAX_BUCKETS`] buckets.
fn bucket_width(span_ms: u64) -> u64 {
    // Strictly more than span / MAX_BUCKETS, so span / width < MAX_BUCKETS.
    let needed = (span_ms + 1).div_ceil(MAX_BUCKETS);
    NICE_MS
        .into_iter()
        .find(|w| *w >= needed)
        .unwrap_or_else(|| needed.div_ceil(3_600_000) * 3_600_000)
}

/// Buckets `activity` (one run's log) into one series per phase, every bucket present.
/// `phase_of` names the report phase of each logged write.
pub(crate) fn buckets(
    activity: &[Activity],
    phase_of: impl Fn(ActivityPhase) -> Phase,
) -> Throughput {
    let (Some(first), Some(last)) = (
        activity.iter().map(|a| a.at).min(),
        activity.iter().map(|a| a.at).max(),
    ) else {
        return Throughput {
            start: None,
            bucket_ms: NICE_MS[0],
            series: Vec::new(),
        };
    };
    let offset = |a: &Activity| (a.at.as_millisecond() - first.as_millisecond()).max(0) as u64;
    let span = (last.as_millisecond() - first.as_millisecond()).max(0) as u64;
    let width = bucket_width(span);
    let count = span / width + 1;
    let mut by_phase: BTreeMap<Phase, Vec<Point>> = BTreeMap::new();
    for a in activity {
        let points = by_phase.entry(phase_of(a.phase)).or_insert_with(|| {
            (0..count)
                .map(|i| Point {
                    offset_ms: i * width,
                    records: 0,
                    problems: 0,
                })
                .collect()
        });
        // `offset / width < count` since offset <= span.
        let point = &mut points[(offset(a) / width) as usize];
        point.records += a.records;
        point.problems += a.problems;
    }
    Throughput {
        start: Some(first),
        bucket_ms: width,
        series: by_phase
            .into_iter()
            .map(|(phase, points)| Series { phase, points })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_nice_and_bounded() {
        assert_eq!(bucket_width(0), 1);
        assert_eq!(bucket_width(45), 1);
        assert_eq!(bucket_width(5_999), 100);
        assert_eq!(bucket_width(6_001), 200);
        assert_eq!(bucket_width(59 * 60_000), 60_000);
        assert_eq!(bucket_width(3 * 3_600_000 * 59), 3 * 3_600_000);
        for span in [
            0,
            1,
            99,
            6_000,
            12_345,
            7_654_321,
            987_654_321,
            3_600_000 * 60,
        ] {
            assert!(span / bucket_width(span) < MAX_BUCKETS, "{span}");
        }
    }
}
