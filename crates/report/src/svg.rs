//! Static inline SVG charts: no script, no external reference (inline SVG in HTML needs no
//! namespace URL). Every data point is an element carrying its value in a `data-` attribute,
//! so a test reading the DOM can check the chart against the JSON.

use std::fmt::Write as _;

use crate::escape::{duration, esc, num};
use crate::model::{FidelityGap, Phase, ProblemGroup, Throughput};

/// The chart's drawing width; the page scales it to its column.
const WIDTH: f64 = 760.0;

/// At most this many bars in the problems chart; the table below it lists every group.
pub(crate) const MAX_BARS: usize = 30;

/// The colour of a phase in the charts. These exact colours (and the lost-fidelity red) are
/// drawn only by the charts (tables use them at reduced opacity, text uses other shades), so a
/// screenshot test can tell that the charts rendered.
pub(crate) fn colour(phase: Phase) -> &'static str {
    match phase {
        Phase::Extract => "#3b6ea5",
        Phase::Load => "#3c8d5a",
        Phase::Rollback => "#b7791f",
        Phase::Verify => "#6b5ca5",
    }
}

/// Up to 5 round gridline values from 0 to at least `max`.
fn ticks(max: u64) -> Vec<u64> {
    let max = max.max(1);
    let raw = max.div_ceil(4);
    let mag = 10u64.pow(raw.ilog10());
    let step = [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10 * mag);
    (0..=max.div_ceil(step)).map(|i| i * step).collect()
}

/// Records per bucket over time: an area and a line per phase, a dot per bucket.
pub(crate) fn throughput(t: &Throughput) -> String {
    let (left, right, top, bottom, height) = (56.0, 16.0, 16.0, 40.0, 240.0);
    let (pw, ph) = (WIDTH - left - right, height - top - bottom);
    let buckets = t.series.first().map_or(0, |s| s.points.len()).max(1);
    let max = t
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.records))
        .max()
        .unwrap_or(0);
    let ticks = ticks(max);
    let ymax = *ticks.last().unwrap_or(&1) as f64;
    let x = |i: usize| left + (i as f64 + 0.5) * pw / buckets as f64;
    let y = |v: u64| top + ph - (v as f64 / ymax) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="throughput" class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Records per {} over time">"#,
        esc(&duration(t.bucket_ms))
    );
    for v in &ticks {
        let _ = write!(
            s,
            r#"<line class="grid" x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            left + pw,
            left - 8.0,
            y(*v) + 4.0,
            num(*v),
            y = y(*v),
        );
    }
    let end = t.bucket_ms * buckets as u64;
    let _ = write!(
        s,
        r#"<text class="tick" x="{left}" y="{}">0</text><text class="tick" x="{}" y="{}" text-anchor="end">{}</text><text class="axis" x="{}" y="{}" text-anchor="middle">time since the first write (one bucket = {})</text>"#,
        height - bottom + 18.0,
        left + pw,
        height - bottom + 18.0,
        esc(&duration(end)),
        left + pw / 2.0,
        height - 6.0,
        esc(&duration(t.bucket_ms)),
    );
    for series in &t.series {
        let c = colour(series.phase);
        let pts: Vec<(f64, f64)> = series
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| (x(i), y(p.records)))
            .collect();
        let line: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
        if let (Some(first), Some(last)) = (pts.first(), pts.last()) {
            let _ = write!(
                s,
                r#"<path class="area" fill="{c}" fill-opacity="0.15" d="M{:.1},{:.1} L{} L{:.1},{:.1} Z"/><path class="line" fill="none" stroke="{c}" stroke-width="2" d="M{}"/>"#,
                first.0,
                y(0),
                line.join(" L"),
                last.0,
                y(0),
                line.join(" L"),
            );
        }
        for (p, (px, py)) in series.points.iter().zip(&pts) {
            // Empty buckets get a small dot, so the busy ones stand out.
            let r = if p.records == 0 { 1.5 } else { 3.5 };
            let _ = write!(
                s,
                r#"<circle class="point" data-phase="{}" data-records="{}" cx="{px:.1}" cy="{py:.1}" r="{r}" fill="{c}"><title>{}: {} records at +{}</title></circle>"#,
                series.phase.as_str(),
                p.records,
                series.phase.as_str(),
                num(p.records),
                esc(&duration(p.offset_ms)),
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// One horizontal bar per group, longest first.
fn bars(id: &str, rows: &[(String, u64, &str)]) -> String {
    let (label_w, row_h, count_w) = (300.0, 26.0, 70.0);
    let bar_w = WIDTH - label_w - count_w;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1) as f64;
    let height = row_h * rows.len() as f64 + 8.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="{id}" class="chart" viewBox="0 0 {WIDTH} {height}" role="img">"#
    );
    for (i, (label, count, fill)) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * row_h;
        let w = (*count as f64 / max * bar_w).max(2.0);
        let _ = write!(
            s,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="bar" data-count="{count}" x="{label_w}" y="{:.1}" width="{w:.1}" height="{:.1}" rx="3" fill="{fill}"><title>{}: {}</title></rect><text class="count" x="{:.1}" y="{:.1}">{}</text>"#,
            label_w - 10.0,
            y + row_h / 2.0 + 4.0,
            esc(label),
            y + 3.0,
            row_h - 6.0,
            esc(label),
            num(*count),
            label_w + w + 8.0,
            y + row_h / 2.0 + 4.0,
            num(*count),
        );
    }
    s.push_str("</svg>");
    s
}

/// Problems by phase, kind and code (the first [`MAX_BARS`] groups).
pub(crate) fn problems(groups: &[ProblemGroup]) -> String {
    let rows: Vec<(String, u64, &str)> = groups
        .iter()
        .take(MAX_BARS)
        .map(|g| {
            (
                format!("{} · {} ({})", g.kind, g.code, g.phase.as_str()),
                g.count,
                colour(g.phase),
            )
        })
        .collect();
    bars("problems", &rows)
}

/// Records each fidelity gap concerns: amber where the aspect moved, red where it is lost.
pub(crate) fn fidelity(gaps: &[FidelityGap]) -> String {
    let rows: Vec<(String, u64, &str)> = gaps
        .iter()
        .map(|g| {
            let fill = match g.keep {
                deskmove_core::connector::Keep::Lost => "#c0392b",
                _ => "#d69e2e",
            };
            (format!("{} · {}", g.kind, g.aspect), g.records, fill)
        })
        .collect();
    bars("fidelity", &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(ticks(0), [0, 1]);
        assert_eq!(ticks(7), [0, 2, 4, 6, 8]);
        assert_eq!(ticks(100), [0, 50, 100]);
        assert!(*ticks(12_345).last().unwrap() >= 12_345);
    }
}
