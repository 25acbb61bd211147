//! The sandbox's wall clock. Real by default; tests may freeze it (for
//! byte-identical runs) or jump it forward (to expire URLs and scrolls without
//! waiting).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the UNIX epoch, optionally frozen, plus a test offset.
#[derive(Debug)]
pub struct SandboxClock {
    frozen_ms: Option<i64>,
    offset_ms: AtomicI64,
}

impl SandboxClock {
    /// A clock; `frozen_secs` pins "now" to that UNIX second.
    pub fn new(frozen_secs: Option<u64>) -> Self {
        Self {
            frozen_ms: frozen_secs.map(|s| s as i64 * 1_000),
            offset_ms: AtomicI64::new(0),
        }
    }

    /// Now, in milliseconds.
    pub fn now_ms(&self) -> i64 {
        let base = self.frozen_ms.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        });
        base + self.offset_ms.load(Ordering::SeqCst)
    }

    /// Now, in whole seconds.
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1_000)
    }

    /// Now, as a duration since the epoch (for the fixed-window limiter).
    pub fn since_epoch(&self) -> Duration {
        Duration::from_millis(self.now_ms().max(0) as u64)
    }

    /// Jump forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}
