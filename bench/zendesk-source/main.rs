//! The Zendesk source against its sandbox at the sandbox's default limits (700 calls/min for the
//! account, 10/min for the incremental exports) with 25 ms of latency on every answer: wall time
//! and the share of the allowed rate the export used; in the same minutes, against a second
//! sandbox of the same world and limits, zenpy's own incremental export and per-ticket comments
//! loop, the way a hand-written script does it, and the ratio of the two. See README.md.
//!
//! ```text
//! cargo run --release -p deskmove-zendesk --example zendesk-source -- --tickets 10000
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use deskmove_engine::{Engine, EngineOptions};
use deskmove_store::{BlobStore, NewRun, SqliteStore, Store};
use deskmove_zendesk::{SourceOptions, ZendeskSource};
use deskmove_zendesk_sandbox::{RunningSandbox, Sandbox, SandboxArgs};
use secrecy::SecretString;
use serde_json::json;

/// The sandbox's default account limit, per minute.
const ALLOWED_PER_MINUTE: f64 = 700.0;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Account calls (every `/api/v2` route; the attachment first hop and the sandbox's own
/// endpoints are outside the account bucket).
fn account_calls(sandbox: &RunningSandbox) -> u64 {
    sandbox
        .stats()
        .iter()
        .filter(|(route, _)| route.contains(" /api/v2/"))
        .map(|(_, s)| s.calls)
        .sum()
}

fn throttled(sandbox: &RunningSandbox) -> u64 {
    sandbox
        .stats()
        .values()
        .map(|s| s.statuses.get(&429).copied().unwrap_or(0))
        .sum()
}

/// The account calls the sandbox counted in each minute window (read just after each boundary)
/// until `done`: where the export left the budget unused.
async fn calls_per_minute(
    sandbox: &RunningSandbox,
    done: &std::sync::atomic::AtomicBool,
) -> Vec<u64> {
    let mut counts = Vec::new();
    let mut last = account_calls(sandbox);
    while !done.load(std::sync::atomic::Ordering::SeqCst) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let boundary = Duration::from_secs((now.as_secs() / 60 + 1) * 60);
        let wait = boundary.saturating_sub(now) + Duration::from_millis(5);
        // Wake at the boundary, or soon after the export ends.
        let step = Duration::from_millis(500);
        let mut slept = Duration::ZERO;
        while slept < wait && !done.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(step.min(wait - slept)).await;
            slept += step;
        }
        let total = account_calls(sandbox);
        counts.push(total - last);
        last = total;
    }
    counts
}

/// Waits for the start of the next rate window, so each run starts with a fresh minute.
async fn next_minute() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let left = 60 - now.as_secs() % 60;
    tokio::time::sleep(Duration::from_secs(left)).await;
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let tickets: u64 = arg("--tickets").map_or(10_000, |v| v.parse().unwrap());
    let contacts: u64 = arg("--contacts").map_or(tickets / 4, |v| v.parse().unwrap());
    let latency_ms: u64 = arg("--latency-ms").map_or(25, |v| v.parse().unwrap());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = arg("--out").map_or_else(
        || root.join("bench/results/zendesk-source.json"),
        PathBuf::from,
    );
    let args = SandboxArgs {
        tickets,
        contacts,
        latency_ms,
        ..SandboxArgs::default()
    };
    let sandbox = RunningSandbox::start(args.clone())
        .await
        .expect("the sandbox starts");
    // zenpy runs at the same time against a sandbox of its own (same world, same limits: each
    // account has its own windows), so the two figures come from the same minutes.
    let zenpy_sandbox = RunningSandbox::start(args)
        .await
        .expect("the sandbox starts");
    let totals = sandbox.inspect();
    eprintln!(
        "world: {} tickets ({} archived), {} comments, {} files",
        totals["tickets"], totals["tickets_archived"], totals["comments"], totals["attachments"]
    );

    // deskmove, budgeted at this account's plan (700/min, a small burst): the client keeps within
    // what Zendesk's rate headers say is left, so the full limit draws no 429 (the default
    // budget is the smallest plan's, 180/min).
    let mut options = SourceOptions::new(sandbox.base_url());
    options.email = Some(sandbox.email().to_owned());
    let files = sandbox.files_url();
    options.file_hosts = vec![format!(
        "{}:{}",
        files.host_str().unwrap_or("127.0.0.1"),
        files.port().unwrap_or(80)
    )];
    options.policy.calls_per_minute = ALLOWED_PER_MINUTE as u32;
    options.policy.burst = 10;
    options.concurrency = 16;
    let source =
        ZendeskSource::with_options(options, &SecretString::from(sandbox.token().to_owned()))
            .expect("the source builds");
    let dir = tempfile::TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path().join("store.sqlite")).unwrap();
    let blobs = BlobStore::local(dir.path().join("blobs")).unwrap();
    let run = store
        .start_run(NewRun {
            command: "export".into(),
            source_system: Some("zendesk".into()),
            target_system: None,
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap();
    // zenpy's loop against its own sandbox (same world, same limits), in the same minutes.
    let venv = std::env::var("DESKMOVE_SDK_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/deskmove")
        })
        .join("venv-zenpy/bin/python");
    let zenpy_run = async {
        if !venv.exists() || arg("--skip-zenpy").is_some() {
            eprintln!(
                "zenpy: skipped (no venv at {}; run conformance/zenpy/run.sh once)",
                venv.display()
            );
            return None;
        }
        let sandbox = &zenpy_sandbox;
        let started = Instant::now();
        let output = tokio::process::Command::new(&venv)
            .arg(root.join("conformance/zenpy/export.py"))
            .arg(sandbox.base_url().as_str())
            .arg(sandbox.email())
            .arg(sandbox.token())
            .arg("--loop-only")
            .output()
            .await
            .expect("zenpy runs");
        let secs = started.elapsed().as_secs_f64();
        let got: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|_| json!({"error": String::from_utf8_lossy(&output.stderr).chars().take(500).collect::<String>()}));
        let calls = account_calls(sandbox);
        eprintln!("zenpy: {got} in {secs:.1} s, {calls} account calls");
        Some(json!({
            "seconds": secs,
            "account_calls": calls,
            "answers_429": throttled(sandbox),
            "share_of_allowed_rate": calls as f64 / (ALLOWED_PER_MINUTE * secs / 60.0),
            "read": got,
            "what": "tickets.incremental(start_time=0), then tickets.comments(ticket=id) for each live ticket, one call at a time; no users, organizations, files or Help Center",
        }))
    };
    next_minute().await;
    let deskmove_run = async {
        let started = Instant::now();
        let done = std::sync::atomic::AtomicBool::new(false);
        let export = async {
            let report = Engine::new(&store, &blobs)
                .with_options(EngineOptions {
                    concurrency: 4,
                    attempts: 8,
                    batch_size: 500,
                })
                .extract(run, &source)
                .await;
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            report.expect("the export completes")
        };
        let (report, per_window) = tokio::join!(export, calls_per_minute(&sandbox, &done));
        let deskmove_secs = started.elapsed().as_secs_f64();
        let deskmove_calls = account_calls(&sandbox);
        let deskmove_429 = throttled(&sandbox);
        let share = deskmove_calls as f64 / (ALLOWED_PER_MINUTE * deskmove_secs / 60.0);
        eprintln!(
            "deskmove: {} records in {deskmove_secs:.1} s, {deskmove_calls} account calls, {:.1}% of the allowed rate, {deskmove_429} answers 429",
            report.records(),
            share * 100.0
        );
        (
            report,
            per_window,
            deskmove_secs,
            deskmove_calls,
            deskmove_429,
            share,
        )
    };
    let ((report, per_window, deskmove_secs, deskmove_calls, deskmove_429, share), zenpy) =
        tokio::join!(deskmove_run, zenpy_run);
    let ratio = zenpy
        .as_ref()
        .and_then(|z| z["seconds"].as_f64())
        .map(|z| z / deskmove_secs);
    let result = json!({
        "benchmark": "zendesk-source",
        "machine": {"cpus": std::thread::available_parallelism().map_or(0, |n| n.get())},
        "world": {
            "tickets": totals["tickets"],
            "tickets_archived": totals["tickets_archived"],
            "comments": totals["comments"],
            "attachments": totals["attachments"],
            "users": totals["users"],
        },
        "sandbox": {"latency_ms": latency_ms, "rate_limit_per_minute": ALLOWED_PER_MINUTE, "incremental_per_minute": 10},
        "deskmove": {
            "seconds": deskmove_secs,
            "records": report.records(),
            "account_calls": deskmove_calls,
            "answers_429": deskmove_429,
            "share_of_allowed_rate": share,
            "account_calls_per_minute_window": per_window,
            "budget": "calls_per_minute = 700, burst = 10 (the plan's limit; kept within X-Rate-Limit-Remaining)",
            "what": "the whole export: users, organizations, groups, fields, tickets with comments and every file, macros, ratings, Help Center",
        },
        "zenpy": zenpy,
        "zenpy_seconds_over_deskmove_seconds": ratio,
        "targets": {"share_of_allowed_rate": 0.95},
    });
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, serde_json::to_string_pretty(&result).unwrap() + "\n").unwrap();
    eprintln!("written to {}", out.display());
    sandbox.shutdown().await;
    zenpy_sandbox.shutdown().await;
}
