//! Rollback: remove what one run created in a target, in reverse load order (messages before
//! their conversations), recording each removal so a second rollback finds nothing left to do
//! in the target and a later load creates the records again.

use deskmove_core::connector::{LoadResult, Outcome as TargetOutcome, TargetRef};
use std::collections::HashMap;

use deskmove_core::{
    Classify, ErrorKind, Problem, RecordKind, SourceKey, Stage, Target, TargetInstance,
};
use deskmove_store::{LedgerEntry, LoadBatch, Outcome, RunId, Store};

use crate::progress::{LoadCounts, Progress};
use crate::{Engine, EngineError};

/// What a rollback did, per kind in the order it went (reverse load order). `loaded` counts
/// records removed (or already gone), `failed` those the target could not remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackReport {
    /// The run whose creations were removed.
    pub of: RunId,
    /// Per kind.
    pub kinds: Vec<(RecordKind, LoadCounts)>,
}

impl<St: Store> Engine<'_, St> {
    /// Removes from `target` everything the ledger says run `of` created there, recording the
    /// removals for `run`. Idempotent: already-gone records count as removed.
    ///
    /// A removed record's ledger entry becomes `removed` (no target id, no hash, no creating run),
    /// with the problem `rolled_back` for the report: a second rollback finds nothing left and
    /// makes no call, one interrupted resumes with what is left, and the next load creates the
    /// record again.
    pub async fn rollback<T: Target>(
        &self,
        run: RunId,
        of: RunId,
        target: &T,
    ) -> Result<RollbackReport, EngineError> {
        let instance = target.instance();
        let mut report = RollbackReport {
            of,
            kinds: Vec::new(),
        };
        for kind in RecordKind::ALL.into_iter().rev() {
            self.observer.event(&Progress::KindStarted { kind });
            let mut counts = LoadCounts::default();
            let sharing = self.shared_ids(&instance, kind).await?;
            let mut after: Option<SourceKey> = None;
            loop {
                let page = self
                    .store
                    .created_by(of, &instance, kind, after.as_ref(), self.options.batch_size)
                    .await?;
                let Some(last) = page.last() else { break };
                after = Some(last.key.clone());
                let refs: Vec<TargetRef> = page
                    .iter()
                    .filter_map(|e| {
                        e.target_id.as_ref().map(|id| TargetRef {
                            key: e.key.clone(),
                            id: id.clone(),
                        })
                    })
                    .collect();
                let results = self.call_remove(target, kind, &refs).await?;
                let mut batch = LoadBatch {
                    run,
                    entries: Vec::new(),
                    problems: Vec::new(),
                };
                let mut done = LoadCounts::default();
                for r in &refs {
                    let result = results.iter().find(|x| x.key == r.key);
                    match result {
                        Some(LoadResult {
                            outcome: TargetOutcome::Loaded | TargetOutcome::Skipped,
                            ..
                        }) => {
                            done.loaded += 1;
                            // Records that became the same target object (two tags slugged to
                            // one label, two contacts with one email) are gone with it.
                            for other in sharing.get(&r.id).into_iter().flatten() {
                                if *other != r.key && !refs.iter().any(|x| x.key == *other) {
                                    batch.entries.push(LedgerEntry {
                                        key: other.clone(),
                                        target: instance.clone(),
                                        target_id: None,
                                        content_hash: None,
                                        outcome: Outcome::Removed,
                                        run,
                                    });
                                }
                            }
                            batch.entries.push(LedgerEntry {
                                key: r.key.clone(),
                                target: instance.clone(),
                                target_id: None,
                                content_hash: None,
                                outcome: Outcome::Removed,
                                run,
                            });
                            batch.problems.push(Problem::new(
                                r.key.clone(),
                                Stage::Load,
                                ErrorKind::NotFound,
                                "rolled_back",
                                format!(
                                    "Removed from {instance} by the rollback of run {of}; the next load creates it again."
                                ),
                            ));
                        }
                        other => {
                            done.failed += 1;
                            done.problems += 1;
                            batch.problems.push(
                                other.and_then(|x| x.problem.clone()).unwrap_or_else(|| {
                                    Problem::new(
                                        r.key.clone(),
                                        Stage::Load,
                                        ErrorKind::Internal,
                                        "rollback_failed",
                                        "The target did not confirm removing this record; roll back again.",
                                    )
                                }),
                            );
                        }
                    }
                }
                self.store.put_loads(batch).await?;
                counts.add(&done);
                self.observer
                    .event(&Progress::BatchCommitted { kind, counts: done });
            }
            self.observer
                .event(&Progress::KindFinished { kind, counts });
            report.kinds.push((kind, counts));
        }
        Ok(report)
    }

    /// Target ids that two or more live ledger entries of `kind` share, with their keys.
    async fn shared_ids(
        &self,
        instance: &TargetInstance,
        kind: RecordKind,
    ) -> Result<HashMap<String, Vec<SourceKey>>, EngineError> {
        let mut by_id: HashMap<String, Vec<SourceKey>> = HashMap::new();
        let mut after: Option<SourceKey> = None;
        loop {
            let page = self
                .store
                .ledger_page(instance, kind, after.as_ref(), 1_000)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.key.clone());
            for e in page {
                if let (Some(id), false) = (e.target_id, e.outcome == Outcome::Removed) {
                    by_id.entry(id).or_default().push(e.key);
                }
            }
        }
        by_id.retain(|_, keys| keys.len() > 1);
        Ok(by_id)
    }

    async fn call_remove<T: Target>(
        &self,
        target: &T,
        kind: RecordKind,
        refs: &[TargetRef],
    ) -> Result<Vec<LoadResult>, EngineError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match target.remove(refs).await {
                Ok(r) => return Ok(r),
                Err(e) if e.kind().is_transient() && attempt < self.options.attempts => {
                    self.observer.event(&Progress::BatchRetrying {
                        kind,
                        attempt: attempt + 1,
                        error: e.kind(),
                    });
                }
                Err(e) => {
                    return Err(EngineError::Target {
                        target: target.instance().to_string(),
                        kind,
                        error_kind: e.kind(),
                        attempts: attempt,
                        source: Box::new(e),
                    });
                }
            }
        }
    }
}
