//! The account's rate used to the full: the budget set at the plan's very limit, the client kept
//! within what Zendesk's rate headers say is left (research §1.4: `X-Rate-Limit-Remaining`,
//! `ratelimit-reset`), so the export fills every window the sandbox counts and draws no 429.
//! Windows of a few seconds stand for Zendesk's minute, so several pass in a short test.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deskmove_zendesk_sandbox::{RunningSandbox, Sandbox, SandboxArgs};
use tempfile::TempDir;

use crate::oracle;
use crate::support::{self, Pace, all_records, calls, export, problems};

/// The sandbox's window, and the calls it allows in each.
const WINDOW_SECS: u64 = 4;
const PER_WINDOW: u64 = 12;

/// Calls the account bucket counts: every `/api/v2` route.
fn account_calls(sandbox: &RunningSandbox) -> u64 {
    calls(&sandbox.stats(), " /api/v2/")
}

/// The account calls the sandbox counted in each of its windows (by its epoch-aligned clock,
/// read just after each boundary) until `done`.
async fn calls_per_window(sandbox: &RunningSandbox, done: &AtomicBool) -> Vec<u64> {
    let mut counts = Vec::new();
    let mut last = account_calls(sandbox);
    while !done.load(Ordering::SeqCst) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let boundary = Duration::from_secs((now.as_secs() / WINDOW_SECS + 1) * WINDOW_SECS);
        tokio::time::sleep(boundary - now + Duration::from_millis(5)).await;
        let total = account_calls(sandbox);
        counts.push(total - last);
        last = total;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_at_the_plans_limit_fills_every_window_without_a_429() {
    let sandbox = support::sandbox(SandboxArgs {
        tickets: 120,
        contacts: 40,
        rate_limit: PER_WINDOW,
        rate_window_secs: WINDOW_SECS,
        // The export bucket is Zendesk's own matter (tested elsewhere); this one is the account's.
        incremental_rate_limit: 0,
        ..SandboxArgs::default()
    })
    .await;
    let done = AtomicBool::new(false);
    let per_minute = (PER_WINDOW * 60 / WINDOW_SECS) as u32;
    let dir = TempDir::new().unwrap();
    let staging = support::sqlite(&dir);
    let source = support::source(
        &sandbox,
        100,
        Pace::Plan {
            per_minute,
            burst: 4,
        },
    );
    let export = async {
        let done_now = export(&staging, &source).await;
        done.store(true, Ordering::SeqCst);
        done_now.expect("the export completes");
    };
    let ((), counts) = tokio::join!(export, calls_per_window(&sandbox, &done));
    // Nothing lost for the pace: the staged export is the world.
    let staged = all_records(&staging.store).await;
    oracle::compare(&sandbox, &staged, &problems(&staging.store).await).await;

    let throttled: u64 = sandbox
        .stats()
        .values()
        .map(|s| s.statuses.get(&429).copied().unwrap_or(0))
        .sum();
    assert_eq!(throttled, 0, "never over the limit: {counts:?}");
    // The windows wholly inside the run (the first and last are partial).
    let inner = &counts[1..counts.len().saturating_sub(1)];
    assert!(
        inner.len() >= 4,
        "the export spans several windows: {counts:?}"
    );
    let share = inner.iter().sum::<u64>() as f64 / (PER_WINDOW * inner.len() as u64) as f64;
    eprintln!("calls per {WINDOW_SECS} s window: {counts:?}; share of the allowed rate {share:.3}");
    // The goal is 95% (the benchmark measures it at scale, in a release build); here, in a
    // debug build on a shared machine, the export's own work between comment batches (files,
    // commits) leaves some budget unused, so the floor is lower.
    assert!(
        share >= 0.80,
        "{:.1}% of the allowed rate: {counts:?}",
        share * 100.0
    );
    sandbox.shutdown().await;
}
