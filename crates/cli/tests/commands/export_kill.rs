//! `deskmove export` SIGKILLed at more than 20 points along its run (each run a seeded random
//! moment after it asked for a list page no run had asked for), resumed each time until it
//! completes: the store ends equal to an uninterrupted export's (records by key and content
//! hash, every blob's bytes), and after each kill the next run fetches again at most the list
//! pages the export may hold uncommitted per stream and their conversations (from the sandbox's
//! request log).

use std::collections::{BTreeMap, HashSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

use deskmove_intercom_sandbox::{RunningSandbox, SandboxArgs};
use deskmove_sandbox::Sandbox;

use crate::util::Dir;
use crate::util::kill_resume::{
    KillLoop, Seeded, assert_same_store, contents, refetched_per_prefix,
};

const TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";
/// Kills before the export may complete, at least and at most.
const MIN_KILLS: usize = 20;
const MAX_KILLS: usize = 60;
/// Items per list page (`[source] per_page`): small, so streams have many pages and each run,
/// however short, commits some.
const PER_PAGE: usize = 10;
/// List pages a threads stream may hold uncommitted: the page after its cursor and the two it
/// reads ahead while that one's conversations are retrieved.
const PAGES_HELD: usize = 3;

/// The list pages of the paginated streams, by request line (the cursor is in the query): a
/// resumed run may fetch again only the page after the stream's last committed cursor.
const LIST_PAGES: &[&str] = &["GET /contacts?", "GET /conversations?", "GET /macros?"];
/// One conversation's retrieval.
const RETRIEVAL: &str = "GET /conversations/";

fn world() -> SandboxArgs {
    SandboxArgs {
        conversations: 400,
        contacts: 80,
        // A frozen clock: signed URLs (kept in attachment records) are the same in both runs.
        frozen_clock: Some(1_780_000_000),
        // Rate windows read the sandbox clock, so a frozen one would never reopen them: the
        // resumed runs' extra calls would end in 429s for good. Pacing is tested elsewhere.
        rate_limit: 0,
        log_requests: true,
        ..SandboxArgs::default()
    }
}

fn config(sandbox: &RunningSandbox) -> String {
    let files = sandbox.files_url();
    format!(
        r#"[source]
kind = "intercom"
base_url = "{base}"
token_env = "{TOKEN_ENV}"
file_hosts = ["{host}:{port}"]
per_page = {PER_PAGE}

[target]
kind = "chatwoot"
base_url = "http://127.0.0.1:1"
account_id = 1
token_env = "CHATWOOT_TOKEN"
"#,
        base = sandbox.base_url(),
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

/// What run `run` fetched again of what earlier runs (`before`) had fetched: list pages per
/// stream, and conversation retrievals.
fn refetched(before: &HashSet<String>, run: &[String]) -> (BTreeMap<&'static str, usize>, usize) {
    let again: HashSet<&String> = run.iter().filter(|r| before.contains(*r)).collect();
    let pages = refetched_per_prefix(before, run, LIST_PAGES);
    let retrievals = again
        .iter()
        .filter(|r| {
            r.strip_prefix(RETRIEVAL)
                .is_some_and(|id| id.starts_with(|c: char| c.is_ascii_digit()))
        })
        .count();
    (pages, retrievals)
}

#[test]
fn export_survives_sigkill_at_random_points_and_ends_as_an_uninterrupted_one() {
    let runtime = tokio::runtime::Runtime::new().unwrap();

    // The uninterrupted export. The same sandbox then serves the killed one: its world does
    // not change (no clock moves), and its addresses, which article bodies keep, stay the same.
    let sandbox = runtime.block_on(RunningSandbox::start(world())).unwrap();
    let reference = Dir::new();
    reference.write("deskmove.toml", &config(&sandbox));
    let whole = complete(&reference, &sandbox);
    let baseline = sandbox.requests().len();
    eprintln!("the uninterrupted export took {whole:?}");
    let want = runtime.block_on(contents(reference.path()));
    assert!(want.0.len() > 2_000, "{} records", want.0.len());
    assert!(!want.1.is_empty());

    // The same export killed at seeded random points of its timeline, resumed each time.
    // Each run is killed a random moment (up to 3% of the whole export's time) after it asked
    // for a list page no run had asked for: the kills land all along the export, mid-page,
    // while every run still moves it forward.
    let dir = Dir::new();
    dir.write("deskmove.toml", &config(&sandbox));
    let killed = KillLoop {
        max_kills: MAX_KILLS,
        whole,
        spread: 0.03,
        rng: Seeded(0x5EED_D35C_0FFE_E001),
        spawn: &|| export(&dir, &sandbox),
        requests: &|| sandbox.requests(),
        is_progress: &|r| LIST_PAGES.iter().any(|p| r.starts_with(p)),
        // A companies scroll the killed run had open blocks the app until it idles out, a
        // minute later (research §9): the next run starts after that minute.
        after_kill: &|| sandbox.advance_clock(Duration::from_secs(61)),
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

    // After each kill, the next run fetches again at most the pages a stream held uncommitted,
    // and retrieves again at most those pages' conversations.
    let mut before: HashSet<String> = HashSet::new();
    let mut worst = (0, 0);
    for (n, run) in runs.iter().enumerate() {
        let (pages, retrievals) = refetched(&before, run);
        for (route, again) in &pages {
            assert!(
                *again <= PAGES_HELD,
                "run {}: {again} pages of `{route}` fetched again after kill {n}",
                n + 1
            );
            worst.0 = worst.0.max(*again);
        }
        assert!(
            retrievals <= PAGES_HELD * PER_PAGE,
            "run {}: {retrievals} conversations retrieved again after kill {n}",
            n + 1
        );
        worst.1 = worst.1.max(retrievals);
        before.extend(run.iter().cloned());
    }
    eprintln!(
        "at most {} list page(s) and {} retrieval(s) fetched again after one kill",
        worst.0, worst.1
    );
    // The kills fell while the export made progress: the killed runs read most list pages.
    let pages = |runs: &[Vec<String>]| -> HashSet<String> {
        runs.iter()
            .flatten()
            .filter(|r| LIST_PAGES.iter().any(|p| r.starts_with(p)))
            .cloned()
            .collect()
    };
    let (during, all) = (pages(&runs[..kills]).len(), pages(&runs).len());
    eprintln!("{during} of {all} list pages were read by runs that were then killed");
    assert!(
        during * 2 >= all,
        "{during} of {all} list pages read before the last kill"
    );
    assert!(sandbox.leaked_credentials().is_empty());
    runtime.block_on(sandbox.shutdown());
}
