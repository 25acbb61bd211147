//! Progress of a long phase on stderr, per stream: a live line each (indicatif) when stderr is a
//! terminal, plain lines otherwise (start, every few seconds, finish) so logs of CI and tests stay
//! readable. stdout stays for the result.

use std::collections::HashMap;
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
}

/// Writes [`Progress`] events to stderr.
#[derive(Debug)]
pub struct StderrProgress {
    bars: Option<MultiProgress>,
    streams: Mutex<HashMap<String, Stream>>,
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
        }
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
                if let Some(bar) = &s.bar {
                    bar.set_message(format!("{}{}", s.counts(), s.rate()));
                } else if s.last_line.elapsed() >= LINE_EVERY {
                    s.last_line = Instant::now();
                    self.line(&format!("{stream}: {}{} so far", s.counts(), s.rate()));
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
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(999), "999 B");
        assert_eq!(size(12_345), "12.3 kB");
        assert_eq!(size(4_200_000_000), "4.2 GB");
    }
}
