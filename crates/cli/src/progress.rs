//! Progress of a long phase on stderr, per stream: a live line each (indicatif) when stderr is a
//! terminal, plain lines otherwise (start, every few seconds, finish) so logs of CI and tests stay
//! readable. stdout stays for the result.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use deskmove_engine::{Observer, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain line repeats a running stream's counts.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// One stream's counts so far in this run.
#[derive(Debug)]
struct Stream {
    started: Instant,
    last_line: Instant,
    records: u64,
    pages: u64,
    problems: u64,
    files: u64,
    bytes: u64,
    bar: Option<ProgressBar>,
}

impl Stream {
    fn counts(&self) -> String {
        let mut s = format!(
            "{}, {}",
            plural(self.records, "record"),
            plural(self.pages, "page")
        );
        if self.files > 0 {
            s.push_str(&format!(
                ", {} ({})",
                plural(self.files, "file"),
                size(self.bytes)
            ));
        }
        if self.problems > 0 {
            s.push_str(&format!(", {}", plural(self.problems, "problem")));
        }
        s
    }

    fn rate(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        if secs < 0.001 {
            return String::new();
        }
        format!(", {:.0} records/s", self.records as f64 / secs)
    }

    /// `, ETA 2m10s` from the records still expected at this stream's rate so far.
    fn eta(&self, expected: Option<u64>) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        match eta(self.records, expected, secs) {
            Some(left) => format!(", ETA {}", duration(left)),
            None => String::new(),
        }
    }
}

/// Seconds left to reach `expected` records after `done` in `secs`, at the same rate.
fn eta(done: u64, expected: Option<u64>, secs: f64) -> Option<f64> {
    let expected = expected?;
    if done == 0 || secs <= 0.0 {
        return None;
    }
    let left = expected.saturating_sub(done) as f64;
    Some(left * secs / done as f64)
}

/// `45s`, `2m10s`, `1h05m`.
fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3_600, (s % 3_600) / 60),
    }
}

/// Reads the source's call budget: calls left in the vendor's window and the window's size.
pub type BudgetReader = Box<dyn Fn() -> Option<(u64, u64)> + Send + Sync>;

/// Writes [`Progress`] events to stderr: per stream its records, pages, files, rate, and, when
/// told, the time left ([`with_expected`](Self::with_expected)) and the source's remaining call
/// budget ([`with_budget`](Self::with_budget)).
pub struct StderrProgress {
    bars: Option<MultiProgress>,
    streams: Mutex<HashMap<String, Stream>>,
    expected: BTreeMap<String, u64>,
    budget: Option<BudgetReader>,
}

impl std::fmt::Debug for StderrProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StderrProgress")
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

impl StderrProgress {
    /// Live bars when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Self {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self {
            bars,
            streams: Mutex::new(HashMap::new()),
            expected: BTreeMap::new(),
            budget: None,
        }
    }

    /// Whether lines are drawn live (stderr is a terminal): someone is watching them.
    pub fn is_live(&self) -> bool {
        self.bars.is_some()
    }

    /// Records each stream is expected to reach (e.g. from the source's scan, per stream), so
    /// lines show the time left at the stream's rate so far.
    pub fn with_expected(mut self, expected: BTreeMap<String, u64>) -> Self {
        self.expected = expected;
        self
    }

    /// Where to read the source's call budget (calls left, window size), e.g. from its
    /// client's metrics, so lines show how much of the vendor's allowance is left.
    pub fn with_budget(mut self, budget: BudgetReader) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Rate, time left and budget for a stream's line.
    fn pace(&self, name: &str, s: &Stream) -> String {
        let mut out = format!("{}{}", s.rate(), s.eta(self.expected.get(name).copied()));
        if let Some((left, limit)) = self.budget.as_ref().and_then(|b| b()) {
            out.push_str(&format!(", budget {left}/{limit} left"));
        }
        out
    }

    /// Stops every live line still drawn (after an error or Ctrl-C).
    pub fn finish(&self) {
        let streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        for stream in streams.values() {
            if let Some(bar) = &stream.bar
                && !bar.is_finished()
            {
                bar.abandon();
            }
        }
    }

    fn line(&self, text: &str) {
        match &self.bars {
            Some(bars) => {
                let _ = bars.println(text);
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
    }

    fn bar(&self, name: &str) -> Option<ProgressBar> {
        let bars = self.bars.as_ref()?;
        let style =
            ProgressStyle::with_template("{spinner} {prefix:<36} {elapsed:>4} {msg}").ok()?;
        let bar = bars.add(ProgressBar::new_spinner().with_style(style));
        bar.set_prefix(name.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    }
}

impl Observer for StderrProgress {
    fn event(&self, event: &Progress) {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Progress::StreamStarted { stream, resumed } => {
                let now = Instant::now();
                let bar = self.bar(stream);
                streams.insert(
                    stream.clone(),
                    Stream {
                        started: now,
                        last_line: now,
                        records: 0,
                        pages: 0,
                        problems: 0,
                        files: 0,
                        bytes: 0,
                        bar,
                    },
                );
                if self.bars.is_none() {
                    let how = if *resumed {
                        "resuming from its stored position"
                    } else {
                        "started"
                    };
                    self.line(&format!("{stream}: {how}"));
                }
            }
            Progress::PageCommitted {
                stream,
                records,
                problems,
                ..
            } => {
                let Some(s) = streams.get_mut(stream) else {
                    return;
                };
                s.records += *records as u64;
                s.pages += 1;
                s.problems += *problems as u64;
                let pace = self.pace(stream, s);
                if let Some(bar) = &s.bar {
                    bar.set_message(format!("{}{pace}", s.counts()));
                } else if s.last_line.elapsed() >= LINE_EVERY {
                    s.last_line = Instant::now();
                    self.line(&format!("{stream}: {}{pace} so far", s.counts()));
                }
            }
            Progress::BlobStored { stream, bytes } => {
                if let Some(s) = streams.get_mut(stream) {
                    s.files += 1;
                    s.bytes += bytes;
                    if let Some(bar) = &s.bar {
                        bar.set_message(format!("{}{}", s.counts(), s.rate()));
                    }
                }
            }
            Progress::StreamRetrying {
                stream,
                attempt,
                kind,
            } => self.line(&format!(
                "{stream}: failed ({kind}); attempt {attempt} resumes from its last committed page"
            )),
            Progress::StreamFinished { stream, .. } => {
                let Some(s) = streams.get_mut(stream) else {
                    return;
                };
                let text = format!(
                    "{stream}: done, {} in {:.1}s",
                    s.counts(),
                    s.started.elapsed().as_secs_f64()
                );
                match s.bar.take() {
                    Some(bar) => bar.finish_with_message(format!("done, {}", s.counts())),
                    None => self.line(&text),
                }
            }
            // Load and rollback events: no phase of `export` sends them.
            _ => {}
        }
    }
}

/// `1 problem`, `2 problems`.
pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Bytes for people: `12.3 MB`.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "kB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_left_follows_the_rate_so_far() {
        // 100 of 400 records in 10 s: 300 more take 30 s.
        assert_eq!(eta(100, Some(400), 10.0), Some(30.0));
        assert_eq!(eta(0, Some(400), 10.0), None, "no rate yet");
        assert_eq!(eta(100, None, 10.0), None, "nothing expected");
        assert_eq!(eta(500, Some(400), 10.0), Some(0.0));
        assert_eq!(duration(45.2), "45s");
        assert_eq!(duration(130.0), "2m10s");
        assert_eq!(duration(3_900.0), "1h05m");
    }

    #[test]
    fn lines_show_the_time_left_and_the_budget_when_known() {
        let progress = StderrProgress::new()
            .with_expected(BTreeMap::from([("s".to_owned(), 1_000)]))
            .with_budget(Box::new(|| Some((1_200, 1_667))));
        let stream = Stream {
            started: Instant::now() - Duration::from_secs(10),
            last_line: Instant::now(),
            records: 250,
            pages: 5,
            problems: 0,
            files: 0,
            bytes: 0,
            bar: None,
        };
        let pace = progress.pace("s", &stream);
        assert!(pace.contains("records/s"), "{pace}");
        assert!(pace.contains(", ETA 30s"), "{pace}");
        assert!(pace.ends_with(", budget 1200/1667 left"), "{pace}");
        assert!(!StderrProgress::new().pace("s", &stream).contains("ETA"));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(999), "999 B");
        assert_eq!(size(12_345), "12.3 kB");
        assert_eq!(size(4_200_000_000), "4.2 GB");
    }
}
