//! Call metrics per client, so progress bars and reports can show how hard a host was pushed and
//! how much time went to waiting rather than working.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Counters shared by all clones of one client.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    calls: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    server_errors: AtomicU64,
    transport_errors: AtomicU64,
    bytes_received: AtomicU64,
    budget_wait_us: AtomicU64,
    gate_wait_us: AtomicU64,
    backoff_wait_us: AtomicU64,
    /// The vendor's last `X-RateLimit-Remaining` / `X-RateLimit-Limit`, once `budget_seen`.
    budget_left: AtomicU64,
    budget_limit: AtomicU64,
    budget_seen: AtomicBool,
}

/// Which counter to bump.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter {
    Calls,
    Retries,
    RateLimited,
    ServerErrors,
    TransportErrors,
}

/// Which kind of waiting to account.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wait {
    Budget,
    Gate,
    Backoff,
}

impl Metrics {
    pub(crate) fn bump(&self, counter: Counter) {
        let c = match counter {
            Counter::Calls => &self.calls,
            Counter::Retries => &self.retries,
            Counter::RateLimited => &self.rate_limited,
            Counter::ServerErrors => &self.server_errors,
            Counter::TransportErrors => &self.transport_errors,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Keeps what the vendor last said about its window: calls left and the window's size.
    pub(crate) fn note_vendor_budget(&self, left: Option<u64>, limit: Option<u64>) {
        let store = |c: &AtomicU64, v: Option<u64>| {
            if let Some(v) = v {
                c.store(v, Ordering::Relaxed);
            }
        };
        store(&self.budget_left, left);
        store(&self.budget_limit, limit);
        if left.is_some() {
            self.budget_seen.store(true, Ordering::Relaxed);
        }
    }

    pub(crate) fn add_bytes(&self, n: usize) {
        self.bytes_received
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub(crate) fn add_wait(&self, wait: Wait, d: Duration) {
        let c = match wait {
            Wait::Budget => &self.budget_wait_us,
            Wait::Gate => &self.gate_wait_us,
            Wait::Backoff => &self.backoff_wait_us,
        };
        c.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let dur = |c: &AtomicU64| Duration::from_micros(c.load(Ordering::Relaxed));
        let seen = self.budget_seen.load(Ordering::Relaxed);
        let budget = |c: &AtomicU64| seen.then(|| c.load(Ordering::Relaxed));
        MetricsSnapshot {
            calls: get(&self.calls),
            retries: get(&self.retries),
            rate_limited: get(&self.rate_limited),
            server_errors: get(&self.server_errors),
            transport_errors: get(&self.transport_errors),
            bytes_received: get(&self.bytes_received),
            budget_wait: dur(&self.budget_wait_us),
            gate_wait: dur(&self.gate_wait_us),
            backoff_wait: dur(&self.backoff_wait_us),
            vendor_budget_left: budget(&self.budget_left),
            vendor_budget_limit: budget(&self.budget_limit),
        }
    }
}

/// A point-in-time copy of a client's counters. Waiting times add up over all workers, so they
/// can exceed the wall-clock time of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MetricsSnapshot {
    /// Tries sent to the host (a call retried twice counts three).
    pub calls: u64,
    /// Tries that were repeats of a failed try.
    pub retries: u64,
    /// Answers with status 429.
    pub rate_limited: u64,
    /// Answers with a 5xx status.
    pub server_errors: u64,
    /// Tries that got no complete answer: refused or reset connections, truncated bodies, timeouts.
    pub transport_errors: u64,
    /// Body bytes received (after decompression).
    pub bytes_received: u64,
    /// Time spent waiting for the call budget.
    pub budget_wait: Duration,
    /// Time spent waiting for the host's pause gate (server-requested pauses).
    pub gate_wait: Duration,
    /// Time spent in backoff between retries.
    pub backoff_wait: Duration,
    /// Calls left in the vendor's current window, as its last `X-RateLimit-Remaining` said.
    pub vendor_budget_left: Option<u64>,
    /// The vendor's window size, as its last `X-RateLimit-Limit` said.
    pub vendor_budget_limit: Option<u64>,
}

impl MetricsSnapshot {
    /// Adds another client's counters to these (the file client sums its hosts).
    pub(crate) fn merge(&mut self, other: &MetricsSnapshot) {
        self.calls += other.calls;
        self.retries += other.retries;
        self.rate_limited += other.rate_limited;
        self.server_errors += other.server_errors;
        self.transport_errors += other.transport_errors;
        self.bytes_received += other.bytes_received;
        self.budget_wait += other.budget_wait;
        self.gate_wait += other.gate_wait;
        self.backoff_wait += other.backoff_wait;
        self.vendor_budget_left = self.vendor_budget_left.or(other.vendor_budget_left);
        self.vendor_budget_limit = self.vendor_budget_limit.or(other.vendor_budget_limit);
    }

    /// All time spent waiting instead of calling.
    pub fn total_wait(&self) -> Duration {
        self.budget_wait + self.gate_wait + self.backoff_wait
    }
}
