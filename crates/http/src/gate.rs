//! The pause gate shared by every worker calling one host.
//!
//! When the server says "come back later" to one worker, every worker on that host must wait, or
//! the others keep hitting the limit and prolong it. The gate only ever moves later, so a waiter
//! that wakes up re-checks it and sleeps again if someone pushed it further meanwhile.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A point in time before which no call may leave for this host.
#[derive(Debug, Default)]
pub(crate) struct PauseGate {
    until: Mutex<Option<Instant>>,
}

impl PauseGate {
    /// Keeps the gate closed for at least `pause` from now; never shortens an existing pause.
    /// Returns the moment the gate opens.
    pub(crate) fn close_for(&self, pause: Duration) -> Instant {
        let wanted = Instant::now() + pause;
        let mut until = self.until.lock().unwrap_or_else(|p| p.into_inner());
        let opens = match *until {
            Some(current) if current >= wanted => current,
            _ => wanted,
        };
        *until = Some(opens);
        opens
    }

    /// When the gate opens, if it is closed now.
    pub(crate) fn closed_until(&self) -> Option<Instant> {
        let until = *self.until.lock().unwrap_or_else(|p| p.into_inner());
        until.filter(|t| *t > Instant::now())
    }

    /// Waits until the gate is open; returns how long that took.
    pub(crate) async fn wait(&self) -> Duration {
        let start = Instant::now();
        while let Some(opens) = self.closed_until() {
            tokio::time::sleep_until(opens).await;
        }
        start.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn gate_only_moves_later_and_waiters_respect_it() {
        let gate = PauseGate::default();
        assert!(gate.closed_until().is_none());
        assert_eq!(gate.wait().await, Duration::ZERO);
        let long = gate.close_for(Duration::from_secs(10));
        let short = gate.close_for(Duration::from_secs(2));
        assert_eq!(
            long, short,
            "a shorter pause must not reopen the gate early"
        );
        let waited = gate.wait().await;
        assert!(waited >= Duration::from_secs(10), "{waited:?}");
        assert!(gate.closed_until().is_none());
    }
}
