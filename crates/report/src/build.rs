//! [`Report::build`]: one run, read back from the staging store.
//!
//! The store keeps each record's latest state, not a history, so the report counts what carries
//! this run's id: records whose content it staged, ledger entries it wrote last, problems it
//! recorded last. Built right after the run (as `run`, `verify` and `rollback` do), that is
//! exactly what the run did; built later, records a later run touched again count for that one.

use std::collections::BTreeMap;

use deskmove_core::connector::{Fidelity, Keep, TargetInstance};
use deskmove_core::{Problem, RecordKind, SourceKey, Stage};
use deskmove_store::{ActivityPhase, Outcome, Run, RunId, Store};

use crate::error::ReportError;
use crate::model::{
    FidelityGap, FidelityReport, IssueOutcome, KindCounts, NotLoadable, Phase, PhaseCounts,
    ProblemGroup, REPORT_FORMAT, Reason, RecordIssue, Report, RunInfo,
};
use crate::throughput;

/// Rows read from the store per call.
const PAGE: usize = 1000;

/// The command name of a rollback run: its ledger writes are removals, reported as the
/// rollback phase.
pub const ROLLBACK_COMMAND: &str = "rollback";

/// The command name of a verify run: its ledger writes (problems only) are its comparisons,
/// reported as the verify phase.
pub const VERIFY_COMMAND: &str = "verify";

/// The code the engine's rollback gives the problem it records on each removed record.
const ROLLED_BACK: &str = "rolled_back";

impl Report {
    /// The report of `run`, read from `store`.
    ///
    /// `fidelity` is the target's [`Target::fidelity`](deskmove_core::Target::fidelity) when the
    /// caller has the target (it fills [`Report::fidelity`]); pass `None` for a run without one
    /// (e.g. `export`). A run started with the command [`ROLLBACK_COMMAND`] (or whose ledger writes
    /// are the engine's `rolled_back` removals) is reported as a rollback; one started with
    /// [`VERIFY_COMMAND`] reports its `verify`-stage problems as differences.
    ///
    /// Reads every staged record, ledger entry and problem once (in pages), so it takes about as
    /// long as `deskmove status`. Fails with [`ReportError::UnknownRun`] for a run the store does
    /// not have.
    pub async fn build(
        store: &impl Store,
        run: RunId,
        fidelity: Option<&Fidelity>,
    ) -> Result<Report, ReportError> {
        let info = store
            .runs()
            .await?
            .into_iter()
            .find(|r| r.id == run)
            .ok_or(ReportError::UnknownRun(run))?;
        let problems = run_problems(store, run).await?;
        let rollback = info.command == ROLLBACK_COMMAND
            || problems
                .iter()
                .any(|p| p.stage == Stage::Load && p.code == ROLLED_BACK);
        // What the run's ledger writes (`put_loads`) were.
        let ledger_phase = if rollback {
            Phase::Rollback
        } else if info.command == VERIFY_COMMAND {
            Phase::Verify
        } else {
            Phase::Load
        };

        let mut tally = Tally::default();
        let staged = tally.extract(store, run, &problems).await?;
        match (&info.target, ledger_phase) {
            (Some(_), Phase::Rollback) => tally.rollback(&problems),
            (Some(target), Phase::Load) => tally.load(store, run, target, &problems).await?,
            _ => {}
        }
        tally.verify(&problems);
        let activity = store.activity(run).await?;
        let throughput = throughput::buckets(&activity, |phase| match phase {
            ActivityPhase::Extract => Phase::Extract,
            ActivityPhase::Load => ledger_phase,
        });
        let ledger_wrote = activity.iter().any(|a| a.phase == ActivityPhase::Load);
        let extract_wrote = activity.iter().any(|a| a.phase == ActivityPhase::Extract);

        let mut phases = Vec::new();
        let mut order = vec![
            (Phase::Extract, extract_wrote),
            (ledger_phase, ledger_wrote),
        ];
        if ledger_phase != Phase::Verify {
            order.push((Phase::Verify, false));
        }
        for (phase, wrote) in order {
            if let Some(counts) = tally.phase(phase, wrote) {
                phases.push(counts);
            }
        }
        let fidelity = fidelity.map(|f| fidelity_report(f, &tally, &staged));
        Ok(Report {
            format: REPORT_FORMAT,
            generated_at: jiff::Timestamp::now(),
            run: run_info(info),
            phases,
            problems: groups(&problems, rollback),
            records: tally.issues.into_values().collect(),
            throughput,
            fidelity,
        })
    }
}

fn run_info(run: Run) -> RunInfo {
    RunInfo {
        id: run.id,
        command: run.command,
        status: run.status,
        started_at: run.started_at,
        finished_at: run.finished_at,
        source: run.source_system,
        target: run.target.map(|t| t.to_string()).or(run.target_system),
    }
}

/// The phase a problem of this stage belongs to.
fn phase_of(stage: Stage, rollback: bool) -> Phase {
    match stage {
        Stage::Extract | Stage::Normalize => Phase::Extract,
        Stage::Map | Stage::Load if rollback => Phase::Rollback,
        Stage::Map | Stage::Load => Phase::Load,
        Stage::Verify => Phase::Verify,
    }
}

/// Every current problem `run` recorded, in key order.
async fn run_problems(store: &impl Store, run: RunId) -> Result<Vec<Problem>, ReportError> {
    let mut out = Vec::new();
    let mut after: Option<Problem> = None;
    loop {
        let page = store.problems(after.as_ref(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.problem.clone());
        out.extend(page.into_iter().filter(|p| p.run == run).map(|p| p.problem));
    }
    Ok(out)
}

fn reason(p: &Problem) -> Reason {
    Reason {
        stage: p.stage,
        code: p.code.clone(),
        reason: p.reason.clone(),
        error_kind: p.kind,
    }
}

/// Counts per (phase, kind) and the issue list, filled phase by phase.
#[derive(Default)]
struct Tally {
    counts: BTreeMap<(Phase, RecordKind), KindCounts>,
    issues: BTreeMap<(Phase, SourceKey), RecordIssue>,
}

impl Tally {
    fn at(&mut self, phase: Phase, kind: RecordKind) -> &mut KindCounts {
        self.counts.entry((phase, kind)).or_insert(KindCounts {
            kind: Some(kind),
            ..KindCounts::default()
        })
    }

    fn issue(&mut self, phase: Phase, key: &SourceKey, outcome: IssueOutcome) -> &mut RecordIssue {
        self.issues
            .entry((phase, key.clone()))
            .or_insert_with(|| RecordIssue {
                phase,
                key: key.clone(),
                outcome,
                reasons: Vec::new(),
            })
    }

    /// Records staged by `run` and the source's failures; returns staged records per kind
    /// (every run's), for what the target cannot load at all.
    async fn extract(
        &mut self,
        store: &impl Store,
        run: RunId,
        problems: &[Problem],
    ) -> Result<BTreeMap<RecordKind, u64>, ReportError> {
        let mut staged = BTreeMap::new();
        for kind in RecordKind::ALL {
            let mut after: Option<SourceKey> = None;
            let (mut all, mut ours) = (0u64, 0u64);
            loop {
                let page = store.records(kind, after.as_ref(), PAGE).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.record.key().clone());
                all += page.len() as u64;
                ours += page.iter().filter(|r| r.run == run).count() as u64;
            }
            if ours > 0 {
                self.at(Phase::Extract, kind).loaded = ours;
            }
            if all > 0 {
                staged.insert(kind, all);
            }
        }
        let mut by_key: BTreeMap<&SourceKey, Vec<&Problem>> = BTreeMap::new();
        for p in problems {
            if phase_of(p.stage, false) == Phase::Extract {
                by_key.entry(&p.key).or_default().push(p);
            }
        }
        for (key, list) in by_key {
            self.at(Phase::Extract, key.kind).problems += list.len() as u64;
            // Staged with a problem is taken (e.g. an invalid email kept as the original); a
            // problem and nothing staged means the source could not give the record.
            if store.record(key).await?.is_none() {
                self.at(Phase::Extract, key.kind).failed += 1;
                let issue = self.issue(Phase::Extract, key, IssueOutcome::Failed);
                issue.reasons.extend(list.into_iter().map(reason));
            }
        }
        Ok(staged)
    }

    /// The ledger outcomes `run` wrote into `target`, and the records it skipped without an entry.
    async fn load(
        &mut self,
        store: &impl Store,
        run: RunId,
        target: &TargetInstance,
        problems: &[Problem],
    ) -> Result<(), ReportError> {
        for kind in RecordKind::ALL {
            let mut after: Option<SourceKey> = None;
            loop {
                let page = store
                    .ledger_page(target, kind, after.as_ref(), PAGE)
                    .await?;
                let Some(last) = page.last() else { break };
                after = Some(last.key.clone());
                for e in page.iter().filter(|e| e.run == run) {
                    let counts = self.at(Phase::Load, kind);
                    match e.outcome {
                        Outcome::Loaded => counts.loaded += 1,
                        Outcome::Updated => counts.updated += 1,
                        Outcome::Skipped => counts.skipped += 1,
                        Outcome::Failed => counts.failed += 1,
                        // A rollback's removals, reported from its problems.
                        Outcome::Removed => continue,
                    }
                    let outcome = match e.outcome {
                        Outcome::Skipped => IssueOutcome::Skipped,
                        Outcome::Failed => IssueOutcome::Failed,
                        Outcome::Loaded | Outcome::Updated | Outcome::Removed => continue,
                    };
                    self.issue(Phase::Load, &e.key, outcome);
                }
            }
        }
        let mut by_key: BTreeMap<&SourceKey, Vec<&Problem>> = BTreeMap::new();
        for p in problems {
            if phase_of(p.stage, false) == Phase::Load {
                by_key.entry(&p.key).or_default().push(p);
            }
        }
        for (key, list) in by_key {
            self.at(Phase::Load, key.kind).problems += list.len() as u64;
            let reasons = list.into_iter().map(reason);
            if let Some(issue) = self.issues.get_mut(&(Phase::Load, key.clone())) {
                issue.reasons.extend(reasons);
                continue;
            }
            let ours = store
                .ledger(key, target)
                .await?
                .is_some_and(|e| e.run == run);
            // With an entry of this run it was written (a partial load); without one the target
            // skipped it and wrote nothing, so the engine recorded no entry.
            if !ours {
                self.at(Phase::Load, key.kind).skipped += 1;
                let issue = self.issue(Phase::Load, key, IssueOutcome::Skipped);
                issue.reasons.extend(reasons);
            }
        }
        for issue in self.issues.values_mut() {
            if issue.phase == Phase::Load && issue.reasons.is_empty() {
                issue.reasons.push(Reason {
                    stage: Stage::Load,
                    code: "no_reason".into(),
                    reason: "The ledger records this outcome but no problem says why.".into(),
                    error_kind: deskmove_core::ErrorKind::Internal,
                });
            }
        }
        Ok(())
    }

    /// A rollback's removals (each carries the engine's `rolled_back` problem) and the records
    /// the target could not remove (any other load problem of the run).
    fn rollback(&mut self, problems: &[Problem]) {
        for p in problems {
            if phase_of(p.stage, true) != Phase::Rollback {
                continue;
            }
            if p.code == ROLLED_BACK {
                self.at(Phase::Rollback, p.key.kind).loaded += 1;
                continue;
            }
            self.at(Phase::Rollback, p.key.kind).problems += 1;
            let fresh = !self.issues.contains_key(&(Phase::Rollback, p.key.clone()));
            if fresh {
                self.at(Phase::Rollback, p.key.kind).failed += 1;
            }
            let issue = self.issue(Phase::Rollback, &p.key, IssueOutcome::Failed);
            issue.reasons.push(reason(p));
        }
    }

    /// The records `verify` found different in the target: each is failed, with its problems.
    fn verify(&mut self, problems: &[Problem]) {
        for p in problems.iter().filter(|p| p.stage == Stage::Verify) {
            self.at(Phase::Verify, p.key.kind).problems += 1;
            if !self.issues.contains_key(&(Phase::Verify, p.key.clone())) {
                self.at(Phase::Verify, p.key.kind).failed += 1;
            }
            let issue = self.issue(Phase::Verify, &p.key, IssueOutcome::Failed);
            issue.reasons.push(reason(p));
        }
    }

    /// The phase's counts in load order (reverse for a rollback), or `None` when it did nothing.
    fn phase(&self, phase: Phase, wrote: bool) -> Option<PhaseCounts> {
        let mut kinds: Vec<KindCounts> = self
            .counts
            .iter()
            .filter(|((p, _), c)| *p == phase && !c.is_empty())
            .map(|(_, c)| *c)
            .collect();
        kinds.sort_by_key(|c| {
            c.kind
                .and_then(|k| RecordKind::ALL.iter().position(|x| *x == k))
        });
        if phase == Phase::Rollback {
            kinds.reverse();
        }
        let mut total = KindCounts::default();
        for c in &kinds {
            total.add(c);
        }
        (wrote || !kinds.is_empty()).then_some(PhaseCounts {
            phase,
            kinds,
            total,
        })
    }
}

fn fidelity_report(
    fidelity: &Fidelity,
    tally: &Tally,
    staged: &BTreeMap<RecordKind, u64>,
) -> FidelityReport {
    let written = |kind: RecordKind| {
        tally
            .counts
            .get(&(Phase::Load, kind))
            .map_or(0, |c| c.loaded + c.updated)
    };
    FidelityReport {
        gaps: fidelity
            .items
            .iter()
            .filter(|i| i.keep != Keep::Kept)
            .map(|i| FidelityGap {
                kind: i.kind,
                aspect: i.aspect.clone(),
                keep: i.keep,
                note: i.note.clone(),
                records: written(i.kind),
            })
            .collect(),
        not_loadable: staged
            .iter()
            .filter(|(kind, _)| !fidelity.kinds.contains(kind))
            .map(|(kind, n)| NotLoadable {
                kind: *kind,
                staged: *n,
            })
            .collect(),
    }
}

/// Problems grouped by (phase, kind, code), most frequent first; a rollback's own removal
/// markers are not problems.
fn groups(problems: &[Problem], rollback: bool) -> Vec<ProblemGroup> {
    let mut map: BTreeMap<(Phase, RecordKind, &str), ProblemGroup> = BTreeMap::new();
    for p in problems {
        let phase = phase_of(p.stage, rollback);
        if phase == Phase::Rollback && p.code == ROLLED_BACK {
            continue;
        }
        map.entry((phase, p.key.kind, &p.code))
            .or_insert_with(|| ProblemGroup {
                phase,
                kind: p.key.kind,
                code: p.code.clone(),
                count: 0,
                example: p.reason.clone(),
            })
            .count += 1;
    }
    let mut out: Vec<ProblemGroup> = map.into_values().collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.count));
    out
}
