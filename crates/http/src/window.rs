//! The vendor's own rate window, as its answers state it: calls left and when the window resets
//! (the headers the host policy names). Every call takes one of the calls left before it leaves;
//! when none are, every worker waits for the reset. So a budget set at the vendor's full limit
//! still draws no 429, and calls the account's other integrations make are accounted for.
//!
//! Answers arrive out of order and calls are in flight while they do, so the count kept is never
//! more than the server could still allow: the server's remaining count minus every other call in
//! flight (some of those may already be in that count), and never more than the count kept
//! before within the same window. A window's end is known to a whole second (the reset is
//! whole seconds, truncated by the server), so the earliest end any answer implies is kept; that
//! end is never before the real one, so a call sent after it is counted in a later window, and
//! its answer starts the count of that window.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Ends implied by answers of one window lie within this of each other (whole-second resets,
/// plus the time answers take to arrive); an end further out is the next window's.
const SAME_WINDOW: Duration = Duration::from_secs(2);

/// What is known of the server's current window.
#[derive(Debug, Clone, Copy)]
struct Known {
    ends: Instant,
    left: u64,
}

#[derive(Debug, Default)]
struct State {
    known: Option<Known>,
    in_flight: u64,
}

/// The server's window for one host, shared by every worker.
#[derive(Debug, Default)]
pub(crate) struct ServerWindow {
    state: Mutex<State>,
}

/// One call counted in flight until it is dropped (answered or failed).
#[derive(Debug)]
pub(crate) struct InFlight<'a> {
    window: &'a ServerWindow,
    sent: Instant,
}

impl InFlight<'_> {
    /// Its answer said `remaining` calls are left in a window that resets in `resets_in`.
    pub(crate) fn observe(&self, remaining: u64, resets_in: Duration) {
        self.window.observe(self.sent, remaining, resets_in);
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut s = self.window.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
    }
}

impl ServerWindow {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one of the calls the server has left, or says when its window resets if none are.
    pub(crate) fn take(&self) -> Result<InFlight<'_>, Instant> {
        let now = Instant::now();
        let mut s = self.lock();
        if let Some(k) = s.known.as_mut().filter(|k| now < k.ends) {
            if k.left == 0 {
                return Err(k.ends);
            }
            k.left -= 1;
        }
        s.in_flight += 1;
        Ok(InFlight {
            window: self,
            sent: now,
        })
    }

    /// The answer to a call sent at `sent` (still counted in flight) said `remaining` calls are
    /// left in a window that resets in `resets_in`.
    fn observe(&self, sent: Instant, remaining: u64, resets_in: Duration) {
        let now = Instant::now();
        let ends = now + resets_in;
        let mut s = self.lock();
        let others = s.in_flight.saturating_sub(1);
        let left = remaining.saturating_sub(others);
        let next = Some(Known { ends, left });
        s.known = match s.known {
            None => next,
            // Sent after the known window ended: counted in a later one.
            Some(k) if sent >= k.ends => next,
            // Sent before the known window ended, answered after: it may have been counted in
            // either window, so it says nothing sure about the current one.
            Some(k) if now >= k.ends => Some(k),
            // The window turned before the end the answers so far implied.
            Some(k) if ends > k.ends + SAME_WINDOW => next,
            Some(k) => Some(Known {
                ends: k.ends.min(ends),
                left: k.left.min(left),
            }),
        };
    }

    /// A call counted in flight whatever the window says (one that left earlier).
    #[cfg(test)]
    fn take_unchecked(&self) -> InFlight<'_> {
        self.lock().in_flight += 1;
        InFlight {
            window: self,
            sent: Instant::now(),
        }
    }

    /// Calls the server has left in the current window, when known.
    #[cfg(test)]
    fn left(&self) -> Option<u64> {
        let now = Instant::now();
        self.lock().known.filter(|k| now < k.ends).map(|k| k.left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn calls_stop_at_what_the_server_has_left_until_its_window_resets() {
        let w = ServerWindow::default();
        assert!(w.left().is_none(), "nothing known before the first answer");
        {
            let first = w.take().unwrap();
            first.observe(3, Duration::from_secs(10));
            drop(first);
        }
        let calls: Vec<_> = (0..3).map(|_| w.take().unwrap()).collect();
        let ends = w
            .take()
            .expect_err("the fourth call would be over the limit");
        assert_eq!(ends, Instant::now() + Duration::from_secs(10));
        drop(calls);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(w.take().is_ok(), "a new window is open");
    }

    #[tokio::test(start_paused = true)]
    async fn calls_in_flight_are_counted_against_what_an_answer_says_is_left() {
        let w = ServerWindow::default();
        let calls: Vec<_> = (0..5).map(|_| w.take().unwrap()).collect();
        // One answer says 10 left; four other calls may not be in that count yet.
        calls[0].observe(10, Duration::from_secs(30));
        assert_eq!(w.left(), Some(6));
        drop(calls);
        // An older answer arriving late says more is left than is: the lower count stays.
        let late = w.take().unwrap();
        late.observe(9, Duration::from_secs(30));
        assert_eq!(w.left(), Some(5));
        drop(late);
    }

    #[tokio::test(start_paused = true)]
    async fn the_earliest_end_of_a_window_is_kept_and_a_later_window_replaces_it() {
        let w = ServerWindow::default();
        let a = w.take().unwrap();
        a.observe(50, Duration::from_millis(20_900));
        drop(a);
        // The same window, its reset truncated to whole seconds by another answer.
        let b = w.take().unwrap();
        b.observe(40, Duration::from_secs(20));
        drop(b);
        // Forty calls that stay in flight.
        for _ in 0..40 {
            std::mem::forget(w.take().unwrap());
        }
        let ends = w.take().unwrap_err();
        assert_eq!(ends, Instant::now() + Duration::from_secs(20));
        // The window turns; an answer of the new one starts the count afresh.
        tokio::time::advance(Duration::from_secs(20)).await;
        let c = w.take().unwrap();
        c.observe(99, Duration::from_secs(60));
        drop(c);
        assert_eq!(w.left(), Some(99 - 40), "the forty in flight are counted");
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_that_turns_before_the_end_answers_implied_starts_afresh() {
        let w = ServerWindow::default();
        let a = w.take().unwrap();
        a.observe(0, Duration::from_secs(10));
        drop(a);
        assert!(w.take().is_err());
        // A call already in flight is answered from the next window (the first end was late).
        let b = w.take_unchecked();
        b.observe(59, Duration::from_secs(60));
        drop(b);
        assert_eq!(w.left(), Some(59));
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_answer_of_a_window_that_is_over_changes_nothing() {
        let w = ServerWindow::default();
        let a = w.take().unwrap();
        a.observe(100, Duration::from_secs(5));
        let late = w.take().unwrap();
        drop(a);
        tokio::time::advance(Duration::from_millis(5_100)).await;
        // Sent in the old window, answered after it ended: "1 left", a reset well after the end.
        late.observe(1, Duration::from_secs(3));
        drop(late);
        assert!(w.left().is_none(), "the old window is over");
        let calls: Vec<_> = (0..20).map(|_| w.take()).collect();
        assert!(
            calls.iter().all(Result::is_ok),
            "the new window is not held to the old one's count"
        );
    }
}
