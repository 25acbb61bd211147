//! What the SIGKILL-and-resume tests of `deskmove export` share: seeded kill points, the loop
//! that kills runs all along an export, and the store's contents to compare with an
//! uninterrupted export's.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use deskmove_core::{ContentHash, Record, RecordKind, SourceKey};
use deskmove_store::{BlobStore, SqliteStore, Store};

/// xorshift64*: a seeded, reproducible sequence of kill points.
pub struct Seeded(pub u64);

impl Seeded {
    /// The next number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Every staged record's content hash, and every attachment's blob bytes (checked against its
/// hash), of the store in `dir`.
pub async fn contents(dir: &Path) -> (BTreeMap<SourceKey, ContentHash>, BTreeMap<String, usize>) {
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

/// Fails the test unless the store in `dir` holds exactly `want`: the same records by key and
/// content hash, and the same blobs.
pub fn assert_same_store(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    want: &(BTreeMap<SourceKey, ContentHash>, BTreeMap<String, usize>),
    kills: usize,
) {
    let (want_records, want_blobs) = want;
    let (records, blobs) = runtime.block_on(contents(dir));
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
    assert_eq!(&blobs, want_blobs, "every file's bytes, once each");
}

/// How to kill an export all along its run.
pub struct KillLoop<'a> {
    /// At most this many kills; the loop ends earlier when a run finishes by itself.
    pub max_kills: usize,
    /// How long the uninterrupted export took: each kill falls up to `spread` of it after the
    /// run's trigger.
    pub whole: Duration,
    /// The fraction of `whole` a kill may fall after its trigger.
    pub spread: f64,
    /// Where the kill points come from.
    pub rng: Seeded,
    /// Starts one export run.
    pub spawn: &'a dyn Fn() -> Child,
    /// The sandbox's request log so far.
    pub requests: &'a dyn Fn() -> Vec<String>,
    /// The requests that mark progress: a run is killed a random moment after it made one no
    /// run had made before, so each run moves the export forward.
    pub is_progress: &'a dyn Fn(&str) -> bool,
    /// Runs after each kill, before the next run starts (e.g. to move the sandbox clock).
    pub after_kill: &'a dyn Fn(),
}

/// What a [`KillLoop`] did.
pub struct Killed {
    /// Runs killed.
    pub kills: usize,
    /// Each run's requests, in order (the last run's too when it finished by itself).
    pub runs: Vec<Vec<String>>,
    /// The request-log length when the loop ended.
    pub seen: usize,
}

impl KillLoop<'_> {
    /// Runs and SIGKILLs exports until `max_kills` or one finishes; the request log is read
    /// from position `seen` on (what came before belongs to other exports).
    pub fn run(mut self, mut seen: usize) -> Killed {
        let mut kills = 0;
        let mut runs: Vec<Vec<String>> = Vec::new();
        let mut asked: HashSet<String> = HashSet::new();
        while kills < self.max_kills {
            let mut child = (self.spawn)();
            let exited = loop {
                if child.try_wait().unwrap().is_some() {
                    break true;
                }
                let all = (self.requests)();
                if all[seen..]
                    .iter()
                    .any(|r| (self.is_progress)(r) && !asked.contains(r))
                {
                    break false;
                }
                std::thread::sleep(Duration::from_millis(10));
            };
            if !exited {
                std::thread::sleep(self.whole.mul_f64(self.spread * self.rng.unit()));
            }
            let finished = exited || child.try_wait().unwrap().is_some();
            if !finished {
                child.kill().unwrap(); // SIGKILL
            }
            child.wait().unwrap();
            let all = (self.requests)();
            runs.push(all[seen..].to_vec());
            asked.extend(
                all[seen..]
                    .iter()
                    .filter(|r| (self.is_progress)(r))
                    .cloned(),
            );
            seen = all.len();
            if finished {
                break;
            }
            kills += 1;
            (self.after_kill)();
        }
        Killed { kills, runs, seen }
    }
}

/// Requests of `run` that earlier runs (`before`) had made too, counted per prefix.
pub fn refetched_per_prefix<'p>(
    before: &HashSet<String>,
    run: &[String],
    prefixes: &[&'p str],
) -> BTreeMap<&'p str, usize> {
    let again: HashSet<&String> = run.iter().filter(|r| before.contains(*r)).collect();
    prefixes
        .iter()
        .map(|p| (*p, again.iter().filter(|r| r.starts_with(p)).count()))
        .collect()
}
