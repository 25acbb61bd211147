//! SIGKILL, many times, at random moments while `tests/bin/crash_writer.rs` writes batches to a
//! SQLite store; after each kill the store must hold, per stream, exactly the records of the
//! batches up to its cursor — never a record past its cursor, never a cursor past its records —
//! and no batch the writer saw acknowledged (`put_batch` returned Ok) is missing. After resuming
//! to the end, the store must equal an uninterrupted run's row for row.
//!
//! The seed is printed; set `DESKMOVE_CRASH_SEED` to replay a failure.

#![cfg(unix)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use deskmove_core::RecordKind;
use deskmove_store::{Dump, RunStatus, SqliteStore, Store};

const BATCHES: u64 = 60;
const PER_BATCH: u64 = 25;
const KILLS: usize = 35;
const STREAMS: [(&str, RecordKind); 2] =
    [("crash/a", RecordKind::Tag), ("crash/b", RecordKind::Agent)];

/// Cargo builds the helper bin (tests/bin/crash_writer.rs) before any integration test.
fn writer_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_deskmove-store-crash-writer"))
}

fn spawn(db: &Path) -> Child {
    Command::new(writer_binary())
        .arg(db)
        .arg(BATCHES.to_string())
        .arg(PER_BATCH.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn run_to_completion(db: &Path) {
    let out = spawn(db).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "crash_writer failed: {:?}",
        out.status
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("done"));
}

/// splitmix64: a tiny seeded generator for kill timings (reproducible from the printed seed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = deskmove_synth::splitmix64(self.0);
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Checks the invariant on the store as a resuming process would find it; returns the number
/// of records staged.
/// The last batch acknowledged per stream, from the writer's output.
fn acks(output: &str) -> HashMap<String, u64> {
    let mut acked = HashMap::new();
    for line in output.lines() {
        if let Some(["ack", stream, n]) = line.split(' ').collect::<Vec<_>>().get(..) {
            let n: u64 = n.parse().unwrap();
            let slot = acked.entry((*stream).to_owned()).or_insert(n);
            *slot = (*slot).max(n);
        }
    }
    acked
}

async fn check_consistent(db: &Path, acked: &HashMap<String, u64>) -> u64 {
    // Opening recovers the WAL exactly as a resuming run would.
    let store = SqliteStore::open(db).unwrap();
    let sql = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let count = |table: &str, kind: RecordKind| -> u64 {
        let n: i64 = sql
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE kind = ?1"),
                [kind.as_str()],
                |r| r.get(0),
            )
            .unwrap();
        n as u64
    };
    let mut total = 0;
    for (stream, kind) in STREAMS {
        let cursor = store.cursor(stream).await.unwrap();
        let batches = cursor
            .as_deref()
            .map_or(0, |c| c.parse::<u64>().unwrap() + 1);
        if let Some(&n) = acked.get(stream) {
            assert!(
                batches > n,
                "{stream}: batch {n} was acknowledged but the cursor is {cursor:?}"
            );
        }
        let expected: Vec<String> = (0..batches * PER_BATCH)
            .map(|i| format!("{i:08}"))
            .collect();
        let ids: Vec<String> = store
            .records(kind, None, usize::MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.record.key().id.clone())
            .collect();
        assert_eq!(
            ids.len(),
            expected.len(),
            "{stream}: cursor {cursor:?} but {} records",
            ids.len()
        );
        assert_eq!(
            ids, expected,
            "{stream}: records differ from those the cursor covers"
        );
        assert_eq!(
            count("raw_payloads", kind),
            batches * PER_BATCH,
            "{stream}: raw payloads"
        );
        assert_eq!(count("problems", kind), batches, "{stream}: problems");
        total += batches * PER_BATCH;
    }
    drop(sql);
    store.close().unwrap();
    total
}

async fn dump_of(db: &Path) -> Dump {
    let store = SqliteStore::open(db).unwrap();
    let dump = store.dump().await.unwrap();
    let runs = store.runs().await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Succeeded);
    store.close().unwrap();
    dump
}

async fn run_succeeded(db: &Path) -> bool {
    let store = SqliteStore::open(db).unwrap();
    let done = store.runs().await.unwrap()[0].status == RunStatus::Succeeded;
    store.close().unwrap();
    done
}

fn kill(child: &mut Child) -> bool {
    let was_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    was_running
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_never_splits_a_batch_from_its_cursor() {
    let seed = std::env::var("DESKMOVE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("DESKMOVE_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let started_at = Instant::now();

    let reference = dir.path().join("reference.db");
    run_to_completion(&reference);
    // Kill windows scale with this machine's speed: on average a process lives a sixteenth of
    // an uninterrupted run, so a store is finished every dozen kills or so and started afresh.
    let window = (started_at.elapsed().as_micros() as u64 / 8).max(1);
    let expected = dump_of(&reference).await;
    println!(
        "reference run and dump: {:?}; kill window {window} µs",
        started_at.elapsed()
    );
    let total = STREAMS.len() as u64 * BATCHES * PER_BATCH;

    let db = dir.path().join("killed.db");
    let (mut kills, mut mid_run, mut finished) = (0, 0, 0);
    let mut progress = Vec::new();
    let mut acks_checked = 0;
    let started = Instant::now();
    while kills < KILLS {
        let mut child = spawn(&db);
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut output = String::new();
        if rng.below(4) == 0 {
            // Anywhere, including while the store is being created and migrated.
            std::thread::sleep(Duration::from_micros(rng.below(window)));
        } else {
            out.read_line(&mut output).unwrap();
            if output.trim() != "done" {
                assert_eq!(output.trim(), "ready");
                std::thread::sleep(Duration::from_micros(rng.below(window)));
            }
        }
        if kill(&mut child) {
            kills += 1;
        }
        out.read_to_string(&mut output).unwrap();
        let acked = acks(&output);
        acks_checked += acked.len();
        let staged = check_consistent(&db, &acked).await;
        progress.push(staged);
        if staged > 0 && staged < total {
            mid_run += 1;
        }
        if staged == total && run_succeeded(&db).await {
            // Finished despite the kills: it must equal the uninterrupted run; then start over.
            assert!(
                dump_of(&db).await == expected,
                "a resumed store differs from an uninterrupted run's"
            );
            finished += 1;
            for suffix in ["", "-wal", "-shm"] {
                let mut p = db.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "crash loop is stuck"
        );
    }
    assert!(
        kills >= 30,
        "only {kills} kills landed before the writer finished; raise BATCHES"
    );
    assert!(
        acks_checked >= 10,
        "only {acks_checked} acknowledgements were checked"
    );
    assert!(
        mid_run >= 10,
        "only {mid_run} kills left a partly written store"
    );
    println!(
        "{kills} kills, {mid_run} with a partly written store, {finished} stores finished in between; records staged after each: {progress:?}"
    );

    run_to_completion(&db);
    assert_eq!(check_consistent(&db, &HashMap::new()).await, total);
    let got = dump_of(&db).await;
    assert_eq!(got.rows(), expected.rows());
    assert!(
        got == expected,
        "the resumed store differs from an uninterrupted run's"
    );
}
