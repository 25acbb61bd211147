//! `deskmove export` SIGKILLed at more than 20 points along its run (each run a seeded random
//! moment after it asked for a list page no run had asked for), resumed each time until it
//! completes: the store ends equal to an uninterrupted export's (records by key and content
//! hash, every blob's bytes), and after each kill the next run fetches again at most one list
//! page per stream and the conversations of at most one page (from the sandbox's request log).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use deskmove_core::{ContentHash, Record, RecordKind, SourceKey};
use deskmove_intercom_sandbox::{RunningSandbox, SandboxArgs};
use deskmove_sandbox::Sandbox;
use deskmove_store::{BlobStore, SqliteStore, Store};

use crate::util::Dir;

const TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";
/// Kills before the export may complete, at least and at most.
const MIN_KILLS: usize = 20;
const MAX_KILLS: usize = 60;
/// Items per list page (`[source] per_page`): small, so streams have many pages and each run,
/// however short, commits some.
const PER_PAGE: usize = 10;

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

/// xorshift64*: a seeded, reproducible sequence of kill points.
struct Seeded(u64);

impl Seeded {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
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

/// Every staged record's content hash, and every attachment's blob bytes.
async fn contents(dir: &Path) -> (BTreeMap<SourceKey, ContentHash>, BTreeMap<String, usize>) {
    let store = SqliteStore::open(dir.join("deskmove.sqlite")).unwrap();
    let blobs = BlobStore::local(dir.join("blobs")).unwrap();
    let mut records = BTreeMap::new();
    let mut bytes = BTreeMap::new();
    for kind in RecordKind::ALL {
        let mut after: Option<SourceKey> = None;
        loop {
            let page = store.records(kind, after.as_ref(), 1_000).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.record.key().clone());
            for r in page {
                if let Record::Attachment(a) = &r.record
                    && let Some(b) = &a.blob
                {
                    let body = blobs
                        .get(&b.hash)
                        .await
                        .unwrap()
                        .expect("the blob is stored");
                    assert_eq!(deskmove_store::blob_hash(&body), b.hash);
                    bytes.insert(b.hash.clone(), body.len());
                }
                records.insert(r.record.key().clone(), r.hash);
            }
        }
    }
    store.close().unwrap();
    (records, bytes)
}

/// What run `run` fetched again of what earlier runs (`before`) had fetched: list pages per
/// stream, and conversation retrievals.
fn refetched(before: &HashSet<String>, run: &[String]) -> (BTreeMap<&'static str, usize>, usize) {
    let again: HashSet<&String> = run.iter().filter(|r| before.contains(*r)).collect();
    let pages = LIST_PAGES
        .iter()
        .map(|p| (*p, again.iter().filter(|r| r.starts_with(p)).count()))
        .collect();
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
    let (want_records, want_blobs) = runtime.block_on(contents(reference.path()));
    assert!(want_records.len() > 2_000, "{} records", want_records.len());
    assert!(!want_blobs.is_empty());

    // The same export killed at seeded random points of its timeline, resumed each time.
    let dir = Dir::new();
    dir.write("deskmove.toml", &config(&sandbox));
    let mut rng = Seeded(0x5EED_D35C_0FFE_E001);
    let mut kills = 0;
    // Each run's requests, in order, and every list page any run asked for.
    let mut runs: Vec<Vec<String>> = Vec::new();
    let mut asked: HashSet<String> = HashSet::new();
    let mut seen = baseline;
    let is_page = |r: &String| LIST_PAGES.iter().any(|p| r.starts_with(p));
    // Each run is killed a random moment (up to 3% of the whole export's time) after it asked
    // for a list page no run had asked for: the kills land all along the export, mid-page,
    // while every run still moves it forward.
    while kills < MAX_KILLS {
        let mut child = export(&dir, &sandbox);
        let goal = 1;
        let exited = loop {
            if child.try_wait().unwrap().is_some() {
                break true;
            }
            let all = sandbox.requests();
            let new = all[seen..]
                .iter()
                .filter(|r| is_page(r) && !asked.contains(*r))
                .count();
            if new >= goal {
                break false;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        if !exited {
            std::thread::sleep(whole.mul_f64(0.03 * rng.unit()));
        }
        let finished = exited || child.try_wait().unwrap().is_some();
        if !finished {
            child.kill().unwrap(); // SIGKILL
        }
        child.wait().unwrap();
        let all = sandbox.requests();
        runs.push(all[seen..].to_vec());
        asked.extend(all[seen..].iter().filter(|r| is_page(r)).cloned());
        seen = all.len();
        if finished {
            break;
        }
        kills += 1;
        // A companies scroll the killed run had open blocks the app until it idles out, a
        // minute later (research §9): the next run starts after that minute.
        sandbox.advance_clock(Duration::from_secs(61));
    }
    assert!(
        kills >= MIN_KILLS,
        "only {kills} kills before the export finished"
    );
    eprintln!("{kills} kills; the last run completes");
    complete(&dir, &sandbox);
    runs.push(sandbox.requests()[seen..].to_vec());

    let (records, blobs) = runtime.block_on(contents(dir.path()));
    let missing: Vec<_> = want_records
        .keys()
        .filter(|k| !records.contains_key(*k))
        .take(10)
        .collect();
    let differ: Vec<_> = want_records
        .iter()
        .filter(|(k, h)| records.get(*k).is_some_and(|x| x != *h))
        .map(|(k, _)| k)
        .take(10)
        .collect();
    assert!(
        missing.is_empty() && differ.is_empty() && records.len() == want_records.len(),
        "after {kills} kills: missing {missing:?}, differing {differ:?}, {} vs {} records",
        records.len(),
        want_records.len()
    );
    assert_eq!(blobs, want_blobs, "every file's bytes, once each");

    // After each kill, the next run fetches again at most the page after each stream's
    // cursor, and retrieves again at most that page's conversations.
    let mut before: HashSet<String> = HashSet::new();
    let mut worst = (0, 0);
    for (n, run) in runs.iter().enumerate() {
        let (pages, retrievals) = refetched(&before, run);
        for (route, again) in &pages {
            assert!(
                *again <= 1,
                "run {}: {again} pages of `{route}` fetched again after kill {n}",
                n + 1
            );
            worst.0 = worst.0.max(*again);
        }
        assert!(
            retrievals <= PER_PAGE,
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
