//! Progress of a load or a rollback on stderr, per record kind: items so far, the rate and the
//! problems. A live line each (indicatif) when stderr is a terminal, plain lines otherwise
//! (start, every few seconds, finish) so logs of CI and tests stay readable. stdout stays for
//! the result.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use deskmove_core::RecordKind;
use deskmove_engine::{LoadCounts, Observer, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::plural;

/// How often a plain line repeats a running kind's counts.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// Which phase the events come from: it decides the words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `Engine::load`: `loaded` means created in the target.
    Load,
    /// `Engine::rollback`: `loaded` means removed from the target.
    Rollback,
}

/// One kind's counts so far.
#[derive(Debug)]
struct Kind {
    started: Instant,
    last_line: Instant,
    counts: LoadCounts,
    bar: Option<ProgressBar>,
}

impl Kind {
    fn items(&self) -> u64 {
        let c = &self.counts;
        c.loaded + c.updated + c.skipped + c.failed + c.unchanged
    }
}

/// Writes load and rollback [`Progress`] events to stderr.
#[derive(Debug)]
pub struct LoadProgress {
    phase: Phase,
    bars: Option<MultiProgress>,
    kinds: Mutex<HashMap<RecordKind, Kind>>,
}

impl LoadProgress {
    /// Live bars when stderr is a terminal, plain lines otherwise.
    pub fn new(phase: Phase) -> Self {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self {
            phase,
            bars,
            kinds: Mutex::new(HashMap::new()),
        }
    }

    /// Stops every live line still drawn (after an error or Ctrl-C).
    pub fn finish(&self) {
        let kinds = self.kinds.lock().unwrap_or_else(|e| e.into_inner());
        for kind in kinds.values() {
            if let Some(bar) = &kind.bar
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
            ProgressStyle::with_template("{spinner} {prefix:<22} {elapsed:>4} {msg}").ok()?;
        let bar = bars.add(ProgressBar::new_spinner().with_style(style));
        bar.set_prefix(name.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    }

    /// `12 loaded, 3 unchanged, 1 failed, 1 problem` (zeros left out, except the first word).
    fn counts(&self, c: &LoadCounts) -> String {
        let done = match self.phase {
            Phase::Load => "loaded",
            Phase::Rollback => "removed",
        };
        let mut parts = vec![format!("{} {done}", c.loaded)];
        for (n, word) in [
            (c.updated, "updated"),
            (c.skipped, "skipped"),
            (c.unchanged, "unchanged"),
            (c.failed, "failed"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        if c.problems > 0 {
            parts.push(plural(c.problems, "problem"));
        }
        parts.join(", ")
    }

    fn rate(kind: &Kind) -> String {
        let secs = kind.started.elapsed().as_secs_f64();
        if secs < 0.001 {
            return String::new();
        }
        format!(", {:.0} items/s", kind.items() as f64 / secs)
    }
}

impl Observer for LoadProgress {
    fn event(&self, event: &Progress) {
        let mut kinds = self.kinds.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Progress::KindStarted { kind } => {
                let now = Instant::now();
                let bar = self.bar(kind.as_str());
                kinds.insert(
                    *kind,
                    Kind {
                        started: now,
                        last_line: now,
                        counts: LoadCounts::default(),
                        bar,
                    },
                );
            }
            Progress::BatchCommitted { kind, counts } => {
                let Some(k) = kinds.get_mut(kind) else {
                    return;
                };
                k.counts.add(counts);
                let text = format!("{}{}", self.counts(&k.counts), Self::rate(k));
                if let Some(bar) = &k.bar {
                    bar.set_message(text);
                } else if k.last_line.elapsed() >= LINE_EVERY {
                    k.last_line = Instant::now();
                    self.line(&format!("{kind}: {text} so far"));
                }
            }
            Progress::BatchRetrying {
                kind,
                attempt,
                error,
            } => self.line(&format!(
                "{kind}: a batch failed ({error}); attempt {attempt} sends it again"
            )),
            Progress::KindFinished { kind, counts } => {
                let Some(k) = kinds.get_mut(kind) else {
                    return;
                };
                // A kind with nothing to do says nothing.
                if k.items() == 0 && counts.problems == 0 {
                    if let Some(bar) = k.bar.take() {
                        bar.finish_and_clear();
                    }
                    return;
                }
                let text = format!(
                    "done, {} in {:.1}s{}",
                    self.counts(counts),
                    k.started.elapsed().as_secs_f64(),
                    Self::rate(k)
                );
                match k.bar.take() {
                    Some(bar) => bar.finish_with_message(text),
                    None => self.line(&format!("{kind}: {text}")),
                }
            }
            // Extract events: no load or rollback phase sends them.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_name_what_happened_and_leave_zeros_out() {
        let load = LoadProgress::new(Phase::Load);
        let c = LoadCounts {
            loaded: 12,
            unchanged: 3,
            failed: 1,
            problems: 1,
            ..LoadCounts::default()
        };
        assert_eq!(
            load.counts(&c),
            "12 loaded, 3 unchanged, 1 failed, 1 problem"
        );
        let rollback = LoadProgress::new(Phase::Rollback);
        assert_eq!(rollback.counts(&LoadCounts::default()), "0 removed");
    }
}
