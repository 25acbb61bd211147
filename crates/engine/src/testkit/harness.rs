//! The compliance harness (Vector's `run_and_assert_*_compliance`): one set of checks every
//! source and target must pass, run through the real [`Engine`] against a real [`Store`].
//!
//! Each `check_` function runs its scenarios and returns every [`Finding`] rather than stopping
//! at the first, so a broken connector shows all it breaks; the `assert_` forms panic with them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;

use deskmove_core::connector::{StreamSpec, TargetRef};
use deskmove_core::{ContentHash, ErrorKind, Record, RecordKind, Source, SourceKey, Stage, Target};
use deskmove_store::{
    BlobStore, LedgerEntry, NewRun, Outcome, RunId, StagedBatch, Store, blob_hash,
};

use super::faults::{FaultySource, FaultyTarget, TargetFault};
use crate::{Engine, EngineError, EngineOptions};

/// A staging store and blob store for one scenario.
#[derive(Debug)]
pub struct Staging<St> {
    /// The store.
    pub store: St,
    /// The blob store.
    pub blobs: BlobStore,
}

/// What a source must deliver: the oracle, independent of the extractor (for a sandbox, the
/// synthetic world).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceExpectation {
    /// Every record the source has.
    pub records: BTreeSet<SourceKey>,
    /// Every problem it must report, as (record, code).
    pub problems: BTreeSet<(SourceKey, String)>,
}

/// Which rule a finding breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// An extraction stopped before the end: records the source has are missing, or records it
    /// does not have appeared.
    Pagination,
    /// The stored count of a kind differs from the exact count the source's scan gave.
    Counts,
    /// An attachment's blob is missing from the blob store or its bytes do not match the hash.
    Blobs,
    /// A planted problem did not reach the store (a silent problem).
    Problems,
    /// A re-run changed the store, or wrote to the target.
    Rerun,
    /// A run with injected transient faults did not complete, or ended in a different state.
    Faults,
    /// After a crash and a fresh run, something was lost or doubled, or pages were re-fetched.
    Resume,
    /// A record arrived in the target more than once, or not at all.
    Arrived,
    /// A ledger entry is missing, has the wrong outcome, or names a target id the target does
    /// not hold.
    Ledger,
    /// `read_back` did not answer for a loaded record.
    ReadBack,
    /// A rollback left records behind, or a second one wrote.
    Rollback,
    /// The harness itself could not run a phase (store error, unexpected engine error).
    Run,
}

/// One broken rule, in one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub check: Check,
    /// The scenario, e.g. `crash after 3 pages`.
    pub scenario: String,
    /// What was wrong.
    pub detail: String,
}

/// Every finding of a harness run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings(pub Vec<Finding>);

impl Findings {
    /// Whether some finding breaks `check`.
    pub fn has(&self, check: Check) -> bool {
        self.0.iter().any(|f| f.check == check)
    }

    fn push(&mut self, check: Check, scenario: &str, detail: impl Into<String>) {
        self.0.push(Finding {
            check,
            scenario: scenario.to_owned(),
            detail: detail.into(),
        });
    }
}

impl fmt::Display for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} compliance finding(s):", self.0.len())?;
        for x in &self.0 {
            writeln!(f, "- {:?} [{}]: {}", x.check, x.scenario, x.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for Findings {}

/// What a passing source run covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceCompliance {
    /// Pages in a full extraction.
    pub pages: usize,
    /// Scenarios run.
    pub scenarios: usize,
}

/// What a passing target run covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetCompliance {
    /// Load calls in a full load.
    pub calls: usize,
    /// Scenarios run.
    pub scenarios: usize,
}

fn short<T: fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let items: Vec<String> = items.into_iter().map(|x| x.to_string()).collect();
    let n = items.len();
    let mut s = items.into_iter().take(5).collect::<Vec<_>>().join(", ");
    if n > 5 {
        s.push_str(&format!(" and {} more", n - 5));
    }
    s
}

async fn start_run<St: Store>(store: &St, command: &str) -> Result<RunId, EngineError> {
    Ok(store
        .start_run(NewRun {
            command: command.to_owned(),
            source_system: None,
            target_system: None,
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await?)
}

/// The store's content as a source run leaves it, for comparing runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Snapshot {
    records: BTreeMap<SourceKey, (ContentHash, RunId)>,
    raw: BTreeMap<SourceKey, ContentHash>,
    problems: BTreeSet<(SourceKey, Stage, String)>,
    cursors: BTreeMap<String, Option<String>>,
}

impl Snapshot {
    async fn take<St: Store>(store: &St, streams: &[StreamSpec]) -> Result<Self, EngineError> {
        let mut s = Snapshot::default();
        for kind in RecordKind::ALL {
            let mut after: Option<SourceKey> = None;
            loop {
                let page = store.records(kind, after.as_ref(), 500).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.record.key().clone());
                for r in page {
                    s.records.insert(r.record.key().clone(), (r.hash, r.run));
                }
            }
        }
        let mut after = None;
        loop {
            let page = store.problems(after.as_ref(), 500).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.problem.clone());
            for p in page {
                s.problems
                    .insert((p.problem.key, p.problem.stage, p.problem.code));
            }
        }
        let keys: BTreeSet<SourceKey> = s
            .records
            .keys()
            .cloned()
            .chain(s.problems.iter().map(|p| p.0.clone()))
            .collect();
        for k in keys {
            if let Some(raw) = store.raw(&k).await? {
                s.raw.insert(k, raw.hash);
            }
        }
        for spec in streams {
            s.cursors
                .insert(spec.name.clone(), store.cursor(&spec.name).await?);
        }
        Ok(s)
    }

    /// Without run ids, for comparing scenarios whose runs differ.
    fn content(&self) -> Self {
        let mut c = self.clone();
        for v in c.records.values_mut() {
            v.1 = RunId(0);
        }
        c
    }

    fn diff(&self, other: &Snapshot) -> Vec<String> {
        let mut out = Vec::new();
        let lost: Vec<_> = self
            .records
            .keys()
            .filter(|k| !other.records.contains_key(k))
            .collect();
        if !lost.is_empty() {
            out.push(format!("records lost: {}", short(lost)));
        }
        let extra: Vec<_> = other
            .records
            .keys()
            .filter(|k| !self.records.contains_key(k))
            .collect();
        if !extra.is_empty() {
            out.push(format!(
                "records not in the reference run: {}",
                short(extra)
            ));
        }
        let changed: Vec<_> = self
            .records
            .iter()
            .filter(|(k, v)| other.records.get(k).is_some_and(|o| o != *v))
            .map(|(k, _)| k)
            .collect();
        if !changed.is_empty() {
            out.push(format!("records rewritten or changed: {}", short(changed)));
        }
        if self.raw != other.raw {
            out.push("raw payloads differ".into());
        }
        let lost: Vec<_> = self
            .problems
            .difference(&other.problems)
            .map(|p| format!("{}:{}", p.0, p.2))
            .collect();
        if !lost.is_empty() {
            out.push(format!("problems lost: {}", short(lost)));
        }
        let extra: Vec<_> = other
            .problems
            .difference(&self.problems)
            .map(|p| format!("{}:{}", p.0, p.2))
            .collect();
        if !extra.is_empty() {
            out.push(format!(
                "problems not in the reference run: {}",
                short(extra)
            ));
        }
        if self.cursors != other.cursors {
            out.push(format!(
                "final cursors differ: {:?} vs {:?}",
                self.cursors, other.cursors
            ));
        }
        out
    }
}

/// Runs the source checks and returns every finding.
///
/// `make_source` builds a fresh connector (as a new process would) over the same vendor data;
/// `make_store` a fresh, empty staging area; `expected` is the oracle. Scenarios:
/// - **Pagination / Counts / Blobs / Problems**: one full extraction delivers exactly the
///   expected records, as many per kind as the scan's exact counts say, every attachment's
///   bytes under its hash, and every expected problem.
/// - **Rerun**: extracting again into the same store leaves its content (and each record's
///   run) unchanged.
/// - **Faults**: a transient failure before the first, a middle and the last page, and a
///   `rate_limited` storm one shorter than the engine's attempt budget, each end in the same
///   content as the full extraction.
/// - **Resume**: for every page boundary k (0..=pages), a crash after k committed pages then a
///   fresh run ends in the same content, and no stream fetches more than one page again.
pub async fn check_source_compliance<S, St>(
    make_source: impl Fn() -> S,
    mut make_store: impl FnMut() -> Staging<St>,
    expected: &SourceExpectation,
) -> Result<SourceCompliance, Findings>
where
    S: Source,
    St: Store,
{
    let options = EngineOptions {
        concurrency: 2,
        attempts: 4,
        batch_size: 100,
    };
    let mut findings = Findings::default();
    let streams = make_source().streams();
    let mut scenarios = 0;

    // Full extraction.
    scenarios += 1;
    let scenario = "full extraction";
    let staging = make_store();
    let engine = Engine::new(&staging.store, &staging.blobs).with_options(options);
    let counted = FaultySource::new(make_source());
    let reference = match extract_once(&engine, &counted).await {
        Ok(()) => match Snapshot::take(&staging.store, &streams).await {
            Ok(s) => s,
            Err(e) => {
                findings.push(Check::Run, scenario, e.to_string());
                return Err(findings);
            }
        },
        Err(e) => {
            findings.push(
                Check::Pagination,
                scenario,
                format!("the extraction failed: {e}"),
            );
            return Err(findings);
        }
    };
    let pages = counted.committed();
    let pages_per_stream = counted.committed_per_stream();
    let stored: BTreeSet<&SourceKey> = reference.records.keys().collect();
    let missing: Vec<_> = expected
        .records
        .iter()
        .filter(|k| !stored.contains(k))
        .collect();
    if !missing.is_empty() {
        findings.push(
            Check::Pagination,
            scenario,
            format!(
                "{} record(s) the source has never arrived: {}",
                missing.len(),
                short(missing)
            ),
        );
    }
    let unexpected: Vec<_> = stored
        .iter()
        .filter(|k| !expected.records.contains(*k))
        .collect();
    if !unexpected.is_empty() {
        findings.push(
            Check::Pagination,
            scenario,
            format!("unexpected records: {}", short(unexpected)),
        );
    }
    match make_source().scan().await {
        Ok(scan) => {
            for (kind, count) in scan.kinds.iter().filter(|(_, c)| c.exact) {
                let n = reference.records.keys().filter(|k| k.kind == *kind).count() as u64;
                if n != count.count {
                    findings.push(
                        Check::Counts,
                        scenario,
                        format!(
                            "the scan says {} {kind} record(s), {n} were stored",
                            count.count
                        ),
                    );
                }
            }
        }
        Err(e) => findings.push(Check::Counts, scenario, format!("scan failed: {e}")),
    }
    check_blobs(&staging, &mut findings, scenario).await;
    let problems: BTreeSet<(SourceKey, String)> = reference
        .problems
        .iter()
        .map(|(k, _, c)| (k.clone(), c.clone()))
        .collect();
    let silent: Vec<_> = expected
        .problems
        .difference(&problems)
        .map(|(k, c)| format!("{k} ({c})"))
        .collect();
    if !silent.is_empty() {
        findings.push(
            Check::Problems,
            scenario,
            format!(
                "{} problem(s) never reached the store: {}",
                silent.len(),
                short(silent)
            ),
        );
    }

    // Re-run over the same store.
    scenarios += 1;
    let scenario = "re-run";
    match extract_once(&engine, &make_source()).await {
        Ok(()) => match Snapshot::take(&staging.store, &streams).await {
            Ok(after) => {
                for d in reference.diff(&after) {
                    findings.push(Check::Rerun, scenario, d);
                }
            }
            Err(e) => findings.push(Check::Run, scenario, e.to_string()),
        },
        Err(e) => findings.push(Check::Rerun, scenario, format!("the re-run failed: {e}")),
    }
    let reference = reference.content();

    // Transient faults and a 429 storm.
    let mut fault_points: Vec<usize> = vec![0, pages / 2, pages.saturating_sub(1)];
    fault_points.dedup();
    let mut fault_runs: Vec<(String, FaultySource<S>)> = fault_points
        .iter()
        .map(|&at| {
            (
                format!("transient failure before page {at}"),
                FaultySource::new(make_source()).fail_page(at, ErrorKind::Transient),
            )
        })
        .collect();
    let storm = options.attempts as usize - 1;
    fault_runs.push((
        format!("{storm} rate-limited attempts at page {}", pages / 2),
        FaultySource::new(make_source()).storm(pages / 2, storm),
    ));
    for (scenario, source) in fault_runs {
        scenarios += 1;
        let staging = make_store();
        let engine = Engine::new(&staging.store, &staging.blobs).with_options(options);
        if let Err(e) = extract_once(&engine, &source).await {
            findings.push(Check::Faults, &scenario, format!("did not recover: {e}"));
            continue;
        }
        match Snapshot::take(&staging.store, &streams).await {
            Ok(s) => {
                for d in reference.diff(&s.content()) {
                    findings.push(Check::Faults, &scenario, d);
                }
            }
            Err(e) => findings.push(Check::Run, &scenario, e.to_string()),
        }
    }

    // A crash at every page boundary, then a fresh run.
    for k in 0..=pages {
        scenarios += 1;
        let scenario = format!("crash after {k} of {pages} pages");
        let staging = make_store();
        let crashing = FaultySource::new(make_source()).crash_after(k);
        let engine = Engine::new(&staging.store, &staging.blobs).with_options(options);
        // Err is the crash; Ok happens when k is the last boundary.
        let _ = extract_once(&engine, &crashing).await;
        let before = crashing.committed_per_stream();
        let resumed = FaultySource::new(make_source());
        let engine = Engine::new(&staging.store, &staging.blobs).with_options(options);
        if let Err(e) = extract_once(&engine, &resumed).await {
            findings.push(
                Check::Resume,
                &scenario,
                format!("the resumed run failed: {e}"),
            );
            continue;
        }
        match Snapshot::take(&staging.store, &streams).await {
            Ok(s) => {
                for d in reference.diff(&s.content()) {
                    findings.push(Check::Resume, &scenario, d);
                }
            }
            Err(e) => findings.push(Check::Run, &scenario, e.to_string()),
        }
        let after = resumed.committed_per_stream();
        let refetched: Vec<String> = streams
            .iter()
            .filter_map(|spec| {
                let n = |m: &BTreeMap<String, usize>| m.get(&spec.name).copied().unwrap_or(0);
                let again = (n(&before) + n(&after)).saturating_sub(n(&pages_per_stream));
                (again > 1).then(|| format!("{} ×{again}", spec.name))
            })
            .collect();
        if !refetched.is_empty() {
            findings.push(
                Check::Resume,
                &scenario,
                format!(
                    "pages fetched again after the crash, more than one per stream: {}",
                    short(refetched)
                ),
            );
        }
    }

    if findings.0.is_empty() {
        Ok(SourceCompliance { pages, scenarios })
    } else {
        Err(findings)
    }
}

/// [`check_source_compliance`], panicking with every finding.
pub async fn assert_source_compliance<S, St>(
    make_source: impl Fn() -> S,
    make_store: impl FnMut() -> Staging<St>,
    expected: &SourceExpectation,
) -> SourceCompliance
where
    S: Source,
    St: Store,
{
    match check_source_compliance(make_source, make_store, expected).await {
        Ok(c) => c,
        Err(findings) => panic!("{findings}"),
    }
}

async fn extract_once<St: Store, S: Source>(
    engine: &Engine<'_, St>,
    source: &S,
) -> Result<(), EngineError> {
    let run = start_run(engine.store, "export").await?;
    engine.extract(run, source).await.map(|_| ())
}

async fn check_blobs<St: Store>(staging: &Staging<St>, findings: &mut Findings, scenario: &str) {
    let mut after: Option<SourceKey> = None;
    loop {
        let page = match staging
            .store
            .records(RecordKind::Attachment, after.as_ref(), 200)
            .await
        {
            Ok(p) => p,
            Err(e) => return findings.push(Check::Run, scenario, e.to_string()),
        };
        let Some(last) = page.last() else { return };
        after = Some(last.record.key().clone());
        for r in page {
            let Record::Attachment(a) = &r.record else {
                continue;
            };
            let Some(blob) = &a.blob else { continue };
            let indexed = matches!(staging.store.blob(&blob.hash).await, Ok(Some(_)));
            let bytes = staging.blobs.get(&blob.hash).await.ok().flatten();
            let intact = bytes
                .as_ref()
                .is_some_and(|b| blob_hash(b) == blob.hash && b.len() as u64 == blob.size);
            if !indexed || !intact {
                findings.push(
                    Check::Blobs,
                    scenario,
                    format!(
                        "{}: blob {} indexed={indexed} intact={intact}",
                        a.key, blob.hash
                    ),
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------

/// Looks at what arrived in a target independently of the ledger (for a sandbox: its state
/// dump and call log).
pub trait TargetInspector: Send + Sync {
    /// Every object in the target that carries a source key, as (source key, target id); a
    /// record created twice appears twice.
    fn contents(&self) -> impl Future<Output = Result<Vec<TargetRef>, String>> + Send;

    /// Writes (creates, updates, removals) the target has received so far.
    fn writes(&self) -> impl Future<Output = Result<u64, String>> + Send;
}

/// The records a target is given, staged by the harness.
#[derive(Debug, Clone, Default)]
pub struct TargetFixture {
    /// Records to stage and load (references between them resolvable).
    pub records: Vec<Record>,
    /// Records the target must refuse, each with a problem (invalid on purpose).
    pub refused: BTreeSet<SourceKey>,
}

async fn stage<St: Store>(store: &St, records: &[Record]) -> Result<(), EngineError> {
    let run = start_run(store, "stage").await?;
    for chunk in records.chunks(200) {
        let mut batch = StagedBatch::new(run, "harness/fixture");
        batch.records = chunk.to_vec();
        store.put_batch(batch).await?;
    }
    Ok(())
}

/// Checks a finished load against the fixture and the target's own contents.
async fn check_arrival<St: Store, T: Target, I: TargetInspector>(
    store: &St,
    target: &T,
    inspector: &I,
    fixture: &TargetFixture,
    findings: &mut Findings,
    scenario: &str,
) {
    let instance = target.instance();
    let contents = match inspector.contents().await {
        Ok(c) => c,
        Err(e) => {
            return findings.push(Check::Run, scenario, format!("inspecting the target: {e}"));
        }
    };
    let mut arrived: BTreeMap<&SourceKey, Vec<&str>> = BTreeMap::new();
    for r in &contents {
        arrived.entry(&r.key).or_default().push(&r.id);
    }
    let mut doubled = Vec::new();
    let mut missing = Vec::new();
    let mut ledger_wrong = Vec::new();
    let mut by_kind: BTreeMap<RecordKind, Vec<TargetRef>> = BTreeMap::new();
    for record in &fixture.records {
        let key = record.key();
        let entry: Option<LedgerEntry> = match store.ledger(key, &instance).await {
            Ok(e) => e,
            Err(e) => {
                return findings.push(Check::Run, scenario, format!("reading the ledger: {e}"));
            }
        };
        let ids = arrived.remove(key).unwrap_or_default();
        if fixture.refused.contains(key) {
            if !ids.is_empty() {
                ledger_wrong.push(format!(
                    "{key} should have been refused but is in the target"
                ));
            }
            if entry.as_ref().is_some_and(|e| e.outcome != Outcome::Failed) {
                ledger_wrong.push(format!("{key} refused but its ledger entry is not failed"));
            }
            continue;
        }
        match ids.len() {
            0 => missing.push(key.to_string()),
            1 => {}
            n => doubled.push(format!("{key} ×{n}")),
        }
        match &entry {
            Some(e)
                if matches!(
                    e.outcome,
                    Outcome::Loaded | Outcome::Updated | Outcome::Skipped
                ) && e.target_id.as_deref().is_some_and(|id| ids.contains(&id)) =>
            {
                by_kind.entry(key.kind).or_default().push(TargetRef {
                    key: key.clone(),
                    id: e.target_id.clone().unwrap_or_default(),
                });
            }
            Some(e) => ledger_wrong.push(format!(
                "{key}: ledger says {} as {:?}, the target holds {:?}",
                e.outcome.as_str(),
                e.target_id,
                ids
            )),
            None => ledger_wrong.push(format!("{key}: no ledger entry")),
        }
    }
    if !doubled.is_empty() {
        findings.push(
            Check::Arrived,
            scenario,
            format!("arrived more than once: {}", short(doubled)),
        );
    }
    if !missing.is_empty() {
        findings.push(
            Check::Arrived,
            scenario,
            format!("never arrived: {}", short(missing)),
        );
    }
    let foreign: Vec<_> = arrived.keys().collect();
    if !foreign.is_empty() {
        findings.push(
            Check::Arrived,
            scenario,
            format!("in the target but not in the fixture: {}", short(foreign)),
        );
    }
    if !ledger_wrong.is_empty() {
        findings.push(Check::Ledger, scenario, short(ledger_wrong));
    }
    // Refused records must carry their problem.
    for key in &fixture.refused {
        let mut after = None;
        let mut found = false;
        while let Ok(page) = store.problems(after.as_ref(), 500).await {
            let Some(last) = page.last() else { break };
            after = Some(last.problem.clone());
            if page.iter().any(|p| {
                &p.problem.key == key && matches!(p.problem.stage, Stage::Map | Stage::Load)
            }) {
                found = true;
                break;
            }
        }
        if !found {
            findings.push(
                Check::Problems,
                scenario,
                format!("{key} was refused without a stored problem"),
            );
        }
    }
    for (kind, refs) in by_kind {
        match target.read_back(kind, &refs).await {
            Ok(back) => {
                let got: BTreeSet<&SourceKey> = back.iter().map(|r| r.key()).collect();
                let unanswered: Vec<_> = refs
                    .iter()
                    .filter(|r| !got.contains(&r.key))
                    .map(|r| &r.key)
                    .collect();
                if !unanswered.is_empty() {
                    findings.push(
                        Check::ReadBack,
                        scenario,
                        format!("no read-back for {}", short(unanswered)),
                    );
                }
            }
            Err(e) => findings.push(
                Check::ReadBack,
                scenario,
                format!("read_back({kind}) failed: {e}"),
            ),
        }
    }
}

async fn count_writes<I: TargetInspector>(
    inspector: &I,
    findings: &mut Findings,
    scenario: &str,
) -> Option<u64> {
    match inspector.writes().await {
        Ok(n) => Some(n),
        Err(e) => {
            findings.push(
                Check::Run,
                scenario,
                format!("counting the target's writes: {e}"),
            );
            None
        }
    }
}

async fn load_once<St: Store, T: Target>(
    engine: &Engine<'_, St>,
    target: &T,
) -> Result<(RunId, crate::LoadReport), EngineError> {
    let run = start_run(engine.store, "import").await?;
    engine.load(run, target).await.map(|r| (run, r))
}

/// Runs the target checks and returns every finding.
///
/// `fresh` makes an empty target (a new sandbox account) and returns its inspector; `connect`
/// builds a new connector instance onto the target an inspector looks at (what a restarted
/// process would build: no memory of earlier instances); `make_store` a fresh staging area.
/// The harness stages `fixture` and loads it in batches of `batch_size`. Scenarios:
/// - **Arrived / Ledger / Problems / ReadBack**: one full load puts every record in the target
///   exactly once, with a ledger entry naming the id the target holds; refused records are not
///   there and carry a problem; `read_back` answers for every loaded record.
/// - **Rerun**: loading again writes nothing to the target.
/// - **Faults**: a transient failure before a call, a lost response after a write, and a
///   `rate_limited` storm, each still end with every record exactly once.
/// - **Resume**: for every load call k, a crash after the target wrote but before the ledger
///   commit, then a fresh engine and connector, ends with every record exactly once.
/// - **Rollback**: rolling back the load removes every loaded record; a second rollback writes
///   nothing; loading again afterwards puts each record back exactly once.
pub async fn check_target_compliance<T, I, Fut, St>(
    mut fresh: impl FnMut() -> Fut,
    connect: impl Fn(&I) -> T,
    mut make_store: impl FnMut() -> Staging<St>,
    fixture: &TargetFixture,
    batch_size: usize,
) -> Result<TargetCompliance, Findings>
where
    T: Target,
    I: TargetInspector,
    Fut: Future<Output = I>,
    St: Store,
{
    let options = EngineOptions {
        concurrency: 1,
        attempts: 4,
        batch_size,
    };
    let mut findings = Findings::default();
    let mut scenarios = 1;

    // Full load, re-run, rollback.
    let scenario = "full load";
    let staging = make_store();
    if let Err(e) = stage(&staging.store, &fixture.records).await {
        findings.push(Check::Run, scenario, format!("staging the fixture: {e}"));
        return Err(findings);
    }
    let inspector = fresh().await;
    let counted = FaultyTarget::new(connect(&inspector));
    let engine = Engine::new(&staging.store, &staging.blobs).with_options(options);
    let first_run = match load_once(&engine, &counted).await {
        Ok((run, _)) => run,
        Err(e) => {
            findings.push(Check::Arrived, scenario, format!("the load failed: {e}"));
            return Err(findings);
        }
    };
    let calls = counted.calls();
    let target = counted.into_inner();
    check_arrival(
        &staging.store,
        &target,
        &inspector,
        fixture,
        &mut findings,
        scenario,
    )
    .await;

    scenarios += 1;
    let scenario = "re-run";
    let before = count_writes(&inspector, &mut findings, scenario).await;
    match load_once(&engine, &connect(&inspector)).await {
        Ok(_) => {
            let after = count_writes(&inspector, &mut findings, scenario).await;
            if let (Some(before), Some(after)) = (before, after)
                && after != before
            {
                findings.push(
                    Check::Rerun,
                    scenario,
                    format!(
                        "{} write(s) on a re-run with nothing changed",
                        after - before
                    ),
                );
            }
        }
        Err(e) => findings.push(Check::Rerun, scenario, format!("the re-run failed: {e}")),
    }

    scenarios += 1;
    let scenario = "rollback";
    let rollback = |of: RunId| {
        let engine = &engine;
        let target = connect(&inspector);
        async move {
            let run = start_run(engine.store, "rollback").await?;
            engine.rollback(run, of, &target).await
        }
    };
    match rollback(first_run).await {
        Ok(_) => {
            let left: Vec<_> = match inspector.contents().await {
                Ok(c) => c.into_iter().map(|r| r.key).collect(),
                Err(e) => {
                    findings.push(Check::Run, scenario, format!("inspecting the target: {e}"));
                    Vec::new()
                }
            };
            if !left.is_empty() {
                findings.push(
                    Check::Rollback,
                    scenario,
                    format!("left behind: {}", short(left)),
                );
            }
            let before = count_writes(&inspector, &mut findings, scenario).await;
            let second = rollback(first_run).await;
            let after = count_writes(&inspector, &mut findings, scenario).await;
            match second {
                Ok(_) if before.is_some() && after != before => {
                    findings.push(
                        Check::Rollback,
                        scenario,
                        "a second rollback wrote to the target",
                    );
                }
                Ok(_) => {}
                Err(e) => findings.push(
                    Check::Rollback,
                    scenario,
                    format!("second rollback failed: {e}"),
                ),
            }
            match load_once(&engine, &connect(&inspector)).await {
                Ok(_) => {
                    check_arrival(
                        &staging.store,
                        &target,
                        &inspector,
                        fixture,
                        &mut findings,
                        "load after rollback",
                    )
                    .await;
                }
                Err(e) => findings.push(
                    Check::Rollback,
                    scenario,
                    format!("loading after the rollback failed: {e}"),
                ),
            }
        }
        Err(e) => findings.push(Check::Rollback, scenario, format!("rollback failed: {e}")),
    }

    // Faults that the engine must ride out.
    let middle = calls / 2;
    let storm = options.attempts as usize - 1;
    let faults: Vec<(String, Vec<(usize, TargetFault)>)> = vec![
        (
            format!("transient failure at call {middle}"),
            vec![(middle, TargetFault::FailBefore(ErrorKind::Transient))],
        ),
        (
            format!("response lost after the write at call {middle}"),
            vec![(middle, TargetFault::FailAfterWrite(ErrorKind::Timeout))],
        ),
        (
            format!("{storm} rate-limited calls from call {middle}"),
            (0..storm)
                .map(|i| (middle + i, TargetFault::FailBefore(ErrorKind::RateLimited)))
                .collect(),
        ),
    ];
    for (scenario, plan) in faults {
        scenarios += 1;
        let staging = make_store();
        if let Err(e) = stage(&staging.store, &fixture.records).await {
            findings.push(Check::Run, &scenario, e.to_string());
            continue;
        }
        let inspector = fresh().await;
        let mut faulty = FaultyTarget::new(connect(&inspector));
        for (at, f) in plan {
            faulty = faulty.at(at, f);
        }
        let engine = Engine::new(&staging.store, &staging.blobs).with_options(options);
        if let Err(e) = load_once(&engine, &faulty).await {
            findings.push(Check::Faults, &scenario, format!("did not recover: {e}"));
            continue;
        }
        let mut found = Findings::default();
        check_arrival(
            &staging.store,
            &faulty.into_inner(),
            &inspector,
            fixture,
            &mut found,
            &scenario,
        )
        .await;
        for f in found.0 {
            findings.push(
                Check::Faults,
                &scenario,
                format!("{:?}: {}", f.check, f.detail),
            );
        }
    }

    // A crash between a target write and its ledger commit, at every call.
    for k in 0..calls {
        scenarios += 1;
        let scenario = format!("crash after the write of call {k} of {calls}");
        let staging = make_store();
        if let Err(e) = stage(&staging.store, &fixture.records).await {
            findings.push(Check::Run, &scenario, e.to_string());
            continue;
        }
        let inspector = fresh().await;
        let crashing = FaultyTarget::new(connect(&inspector)).at(k, TargetFault::CrashAfterWrite);
        let engine = Engine::new(&staging.store, &staging.blobs).with_options(options);
        if load_once(&engine, &crashing).await.is_ok() {
            findings.push(
                Check::Run,
                &scenario,
                "the injected crash did not stop the load",
            );
        }
        let target = connect(&inspector);
        let engine = Engine::new(&staging.store, &staging.blobs).with_options(options);
        if let Err(e) = load_once(&engine, &target).await {
            findings.push(
                Check::Resume,
                &scenario,
                format!("the resumed load failed: {e}"),
            );
            continue;
        }
        let mut found = Findings::default();
        check_arrival(
            &staging.store,
            &target,
            &inspector,
            fixture,
            &mut found,
            &scenario,
        )
        .await;
        for f in found.0 {
            findings.push(
                Check::Resume,
                &scenario,
                format!("{:?}: {}", f.check, f.detail),
            );
        }
    }

    if findings.0.is_empty() {
        Ok(TargetCompliance { calls, scenarios })
    } else {
        Err(findings)
    }
}

/// [`check_target_compliance`], panicking with every finding.
pub async fn assert_target_compliance<T, I, Fut, St>(
    fresh: impl FnMut() -> Fut,
    connect: impl Fn(&I) -> T,
    make_store: impl FnMut() -> Staging<St>,
    fixture: &TargetFixture,
    batch_size: usize,
) -> TargetCompliance
where
    T: Target,
    I: TargetInspector,
    Fut: Future<Output = I>,
    St: Store,
{
    match check_target_compliance(fresh, connect, make_store, fixture, batch_size).await {
        Ok(c) => c,
        Err(findings) => panic!("{findings}"),
    }
}
