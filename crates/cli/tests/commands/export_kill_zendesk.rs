//! `deskmove export` from Zendesk SIGKILLed at more than 20 points along its run (each run a
//! seeded random moment after it asked for an export page or a ticket's comments no run had
//! asked for), resumed each time until it completes: the store ends equal to an uninterrupted
//! export's (records by key and content hash, every blob's bytes), and after each kill the next
//! run fetches again at most one export page per stream (from the sandbox's request log).

use std::collections::HashSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use deskmove_sandbox::Sandbox;
use deskmove_zendesk_sandbox::{RunningSandbox, SandboxArgs};

use crate::util::Dir;
use crate::util::kill_resume::{
    KillLoop, Seeded, assert_same_store, contents, refetched_per_prefix,
};

const TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";
/// Kills before the export may complete, at least and at most.
const MIN_KILLS: usize = 20;
const MAX_KILLS: usize = 60;

/// The pages of the incremental exports, by request line (the cursor or `start_time` is in the
/// query): a resumed run may fetch again only the page its stream's saved cursor names.
const EXPORT_PAGES: &[&str] = &[
    "GET /api/v2/incremental/tickets/cursor?",
    "GET /api/v2/incremental/users/cursor?",
    "GET /api/v2/incremental/organizations?",
];

/// One ticket's comment list (CBP, first or later page).
fn is_comments(request: &str) -> bool {
    request
        .strip_prefix("GET /api/v2/tickets/")
        .is_some_and(|rest| rest.contains("/comments"))
}

fn is_progress(request: &str) -> bool {
    is_comments(request) || EXPORT_PAGES.iter().any(|p| request.starts_with(p))
}

fn world() -> SandboxArgs {
    SandboxArgs {
        tickets: 300,
        contacts: 60,
        // A frozen clock: signed URLs (kept in attachment records) are the same in both runs,
        // and the exports' one-minute lag never moves.
        frozen_clock: Some(1_800_000_000),
        // Rate windows read the sandbox clock, so a frozen one would never reopen them: the
        // resumed runs' extra calls would end in 429s for good. Pacing is tested elsewhere.
        rate_limit: 0,
        incremental_rate_limit: 0,
        log_requests: true,
        ..SandboxArgs::default()
    }
}

fn config(sandbox: &RunningSandbox) -> String {
    let files = sandbox.files_url();
    format!(
        r#"[source]
kind = "zendesk"
base_url = "{base}"
email = "{email}"
token_env = "{TOKEN_ENV}"
file_hosts = ["{host}:{port}"]

[source.http]
calls_per_minute = 60000
burst = 100

[source.incremental_http]
calls_per_minute = 60000
burst = 100

[target]
kind = "chatwoot"
base_url = "http://127.0.0.1:1"
account_id = 1
token_env = "CHATWOOT_TOKEN"
"#,
        base = sandbox.base_url(),
        email = sandbox.email(),
        host = files.host_str().unwrap(),
        port = files.port().unwrap(),
    )
}

fn export(dir: &Dir, sandbox: &RunningSandbox) -> std::process::Child {
    dir.command(&["export"])
        .env(TOKEN_ENV, sandbox.token())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Runs one export to its end; its exit code must say it finished.
fn complete(dir: &Dir, sandbox: &RunningSandbox) -> Duration {
    let started = Instant::now();
    let out = dir
        .command(&["export"])
        .env(TOKEN_ENV, sandbox.token())
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

#[test]
fn zendesk_export_survives_sigkill_at_random_points_and_ends_as_an_uninterrupted_one() {
    let runtime = tokio::runtime::Runtime::new().unwrap();

    // The uninterrupted export; the same sandbox then serves the killed one (its world does
    // not change: no clock moves).
    let sandbox = runtime.block_on(RunningSandbox::start(world())).unwrap();
    let reference = Dir::new();
    reference.write("deskmove.toml", &config(&sandbox));
    let whole = complete(&reference, &sandbox);
    let baseline = sandbox.requests().len();
    eprintln!("the uninterrupted export took {whole:?}");
    let want = runtime.block_on(contents(reference.path()));
    let world = sandbox.inspect();
    assert!(
        want.0.len() as u64
            > world["tickets"].as_u64().unwrap() + world["comments"].as_u64().unwrap(),
        "{} records",
        want.0.len()
    );
    assert!(!want.1.is_empty(), "the world has files");

    // The same export killed a random moment (up to 0.15% of the whole export's time) after each
    // run asked for an export page or a comment list no run had asked for: the kills land all
    // along the export, mid-page, while every run still moves it forward.
    let dir = Dir::new();
    dir.write("deskmove.toml", &config(&sandbox));
    let killed = KillLoop {
        max_kills: MAX_KILLS,
        whole,
        spread: 0.0015,
        rng: Seeded(0x5EED_2E4D_E5C0_0012),
        spawn: &|| export(&dir, &sandbox),
        requests: &|| sandbox.requests(),
        is_progress: &is_progress,
        after_kill: &|| {},
    }
    .run(baseline);
    let (kills, mut runs, seen) = (killed.kills, killed.runs, killed.seen);
    assert!(
        kills >= MIN_KILLS,
        "only {kills} kills before the export finished"
    );
    eprintln!("{kills} kills; the last run completes");
    complete(&dir, &sandbox);
    runs.push(sandbox.requests()[seen..].to_vec());
    assert_same_store(&runtime, dir.path(), &want, kills);

    // After each kill, the next run fetches again at most the page each stream's saved cursor
    // names.
    let mut before: HashSet<String> = HashSet::new();
    let (mut worst_pages, mut worst_comments) = (0, 0);
    for (n, run) in runs.iter().enumerate() {
        for (route, again) in refetched_per_prefix(&before, run, EXPORT_PAGES) {
            assert!(
                again <= 1,
                "run {}: {again} pages of `{route}` fetched again after kill {n}",
                n + 1
            );
            worst_pages = worst_pages.max(again);
        }
        let comments = run
            .iter()
            .filter(|r| is_comments(r) && before.contains(*r))
            .count();
        worst_comments = worst_comments.max(comments);
        before.extend(run.iter().cloned());
    }
    eprintln!(
        "at most {worst_pages} export page(s) and {worst_comments} comment list(s) fetched again after one kill"
    );
    // The kills fell while the export made progress: the killed runs read most comment lists.
    let lists = |runs: &[Vec<String>]| -> HashSet<String> {
        runs.iter()
            .flatten()
            .filter(|r| is_comments(r))
            .cloned()
            .collect()
    };
    let (during, all) = (lists(&runs[..kills]).len(), lists(&runs).len());
    eprintln!("{during} of {all} comment lists were read by runs that were then killed");
    assert!(
        during * 2 >= all,
        "{during} of {all} comment lists read before the last kill"
    );
    assert!(sandbox.leaked_credentials().is_empty());
    runtime.block_on(sandbox.shutdown());
}
