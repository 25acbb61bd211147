//! Fixed-window rate limits, the way vendors count: windows aligned to the epoch
//! (`epoch_seconds / window`), a counter per key (client IP, account, app) reset at each boundary.
//! The window length is the vendor's: each sandbox passes its own (some vendors split a
//! per-minute limit into 10-second windows, others count whole minutes).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The outcome of counting one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowDecision {
    /// Whether the call fits in the current window.
    pub allowed: bool,
    /// Calls allowed per window.
    pub limit: u64,
    /// Calls left in the current window after this one.
    pub remaining: u64,
    /// Unix second at which the current window ends.
    pub reset_at: u64,
}

impl WindowDecision {
    /// Seconds from now until the window resets (at least 1 when limited).
    pub fn retry_after_secs(&self) -> u64 {
        self.reset_at.saturating_sub(unix_now().as_secs()).max(1)
    }
}

/// Counts calls per key in epoch-aligned windows of fixed length.
#[derive(Debug)]
pub struct FixedWindow {
    limit: u64,
    window: Duration,
    counters: Mutex<HashMap<String, (u64, u64)>>,
}

impl FixedWindow {
    /// `limit` calls per `window` (whole seconds, at least one) for each key.
    pub fn new(limit: u64, window: Duration) -> Self {
        Self {
            limit,
            window: window.max(Duration::from_secs(1)),
            counters: Mutex::new(HashMap::new()),
        }
    }

    /// Calls allowed per window.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The window length.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Counts one call for `key` now.
    pub fn hit(&self, key: &str) -> WindowDecision {
        self.hit_at(key, unix_now())
    }

    /// Counts one call for `key` at `now` (since the Unix epoch).
    pub fn hit_at(&self, key: &str, now: Duration) -> WindowDecision {
        let secs = self.window.as_secs().max(1);
        let index = now.as_secs() / secs;
        let reset_at = (index + 1) * secs;
        let mut counters = match self.counters.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entry = counters.entry(key.to_owned()).or_insert((index, 0));
        if entry.0 != index {
            *entry = (index, 0);
        }
        entry.1 += 1;
        let used = entry.1;
        WindowDecision {
            allowed: used <= self.limit,
            limit: self.limit,
            remaining: self.limit.saturating_sub(used),
            reset_at,
        }
    }
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_resets_at_the_boundary() {
        let w = FixedWindow::new(3, Duration::from_secs(10));
        let t = Duration::from_secs(1_000);
        let got: Vec<_> = (0..4).map(|_| w.hit_at("a", t).allowed).collect();
        assert_eq!(got, [true, true, true, false]);
        assert!(w.hit_at("b", t).allowed, "keys are independent");
        let d = w.hit_at("a", Duration::from_secs(1_009));
        assert!(!d.allowed, "same window until 1010");
        assert_eq!(d.reset_at, 1_010);
        let d = w.hit_at("a", Duration::from_secs(1_010));
        assert!(d.allowed);
        assert_eq!(d.remaining, 2);
        assert_eq!(d.reset_at, 1_020);
    }
}
