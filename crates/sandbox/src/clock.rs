//! The sandbox's wall clock. Real by default; tests may freeze it (for byte-identical runs) or jump
//! it forward (to expire signed URLs, scrolls and rate windows without waiting). Every sandbox reads
//! "now" through this clock and nowhere else, so a frozen clock freezes the whole simulator.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the UNIX epoch, optionally frozen, plus an offset tests can move forward.
#[derive(Debug)]
pub struct SandboxClock {
    frozen_ms: Option<i64>,
    offset_ms: AtomicI64,
}

impl SandboxClock {
    /// A clock; `frozen_secs` pins "now" to that UNIX second, `None` follows the real time.
    pub fn new(frozen_secs: Option<u64>) -> Self {
        Self {
            frozen_ms: frozen_secs.map(|s| s as i64 * 1_000),
            offset_ms: AtomicI64::new(0),
        }
    }

    /// A clock that follows the real time.
    pub fn real() -> Self {
        Self::new(None)
    }

    /// Now, in milliseconds since the epoch.
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

    /// Now, as a duration since the epoch (for fixed-window limiters).
    pub fn since_epoch(&self) -> Duration {
        Duration::from_millis(self.now_ms().max(0) as u64)
    }

    /// Now, as a timestamp (for vendor JSON that carries ISO times).
    pub fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.now_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// Jumps forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_clock_stands_still_until_advanced() {
        let clock = SandboxClock::new(Some(1_700_000_000));
        assert_eq!(clock.now_secs(), 1_700_000_000);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now_ms(), 1_700_000_000_000);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now_secs(), 1_700_000_090);
        assert_eq!(clock.now().as_second(), 1_700_000_090);
    }

    #[test]
    fn a_real_clock_follows_the_system_time() {
        let clock = SandboxClock::real();
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((clock.now_secs() - system).abs() <= 1);
    }
}
