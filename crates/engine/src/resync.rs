//! Re-syncing one aspect (`run --only labels|states`): the staged conversations that the ledger
//! says are in the target are handed to [`Target::resync`], which writes only that aspect. The
//! ledger's hashes stay as they are (the records did not change); the outcomes are counted and
//! their problems stored for the run.

use deskmove_core::connector::{Aspect, LoadResult, Outcome, references};
use deskmove_core::{Classify, ErrorKind, Problem, RecordKind, SourceKey, Stage, Target};
use deskmove_store::{LoadBatch, Outcome as LedgerOutcome, RunId, Store};

use crate::load::LedgerRefs;
use crate::progress::{LoadCounts, Progress};
use crate::{Engine, EngineError};

/// What a re-sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResyncReport {
    /// The aspect written again.
    pub aspect: Option<Aspect>,
    /// The normal load of the tags that went first (labels only: a new tag's label must exist).
    pub tags: Option<LoadCounts>,
    /// Conversations whose aspect was written again.
    pub resynced: u64,
    /// Conversations whose aspect was already right (nothing written).
    pub current: u64,
    /// Conversations that could not be re-synced (each with a problem).
    pub failed: u64,
    /// Staged conversations left alone because the ledger does not have them in the target.
    pub not_in_target: u64,
    /// Problems recorded.
    pub problems: u64,
}

impl<St: Store> Engine<'_, St> {
    /// Writes `aspect` again for every staged conversation that is in `target`, for `run`.
    ///
    /// For [`Aspect::Labels`] the tags are loaded first as in [`load`](Self::load), so a tag the
    /// mapping now sends to a new label finds it. Conversations go in batches of
    /// [`EngineOptions::batch_size`](crate::EngineOptions) with a [`LedgerRefs`] over them and
    /// what they reference; ledger entries are not changed. Call the target's preflight first.
    pub async fn resync<T: Target>(
        &self,
        run: RunId,
        target: &T,
        aspect: Aspect,
    ) -> Result<ResyncReport, EngineError> {
        let instance = target.instance();
        let mut report = ResyncReport {
            aspect: Some(aspect),
            ..ResyncReport::default()
        };
        if aspect == Aspect::Labels && target.fidelity().kinds.contains(&RecordKind::Tag) {
            let kind = RecordKind::Tag;
            self.observer.event(&Progress::KindStarted { kind });
            let mut counts = LoadCounts::default();
            let mut after: Option<SourceKey> = None;
            loop {
                let page = self
                    .store
                    .records(kind, after.as_ref(), self.options.batch_size)
                    .await?;
                let Some(last) = page.last() else { break };
                after = Some(last.record.key().clone());
                let batch = self.load_batch(run, target, &instance, kind, page).await?;
                counts.add(&batch);
            }
            self.observer
                .event(&Progress::KindFinished { kind, counts });
            report.tags = Some(counts);
        }

        let kind = RecordKind::Conversation;
        let mut after: Option<SourceKey> = None;
        loop {
            let page = self
                .store
                .records(kind, after.as_ref(), self.options.batch_size)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.record.key().clone());
            let own = self
                .ledger_entries(page.iter().map(|s| s.record.key()), &instance)
                .await?;
            let mut records = Vec::new();
            let mut entries = Vec::new();
            for (stored, entry) in page.into_iter().zip(own) {
                match entry {
                    Some(e) if e.target_id.is_some() && e.outcome != LedgerOutcome::Removed => {
                        entries.push(e);
                        records.push(stored.record);
                    }
                    _ => report.not_in_target += 1,
                }
            }
            if records.is_empty() {
                continue;
            }
            let mut refs = LedgerRefs::from_entries(&entries);
            let mut wanted: Vec<&SourceKey> = records.iter().flat_map(references).collect();
            wanted.sort();
            wanted.dedup();
            for e in self
                .ledger_entries(wanted.into_iter(), &instance)
                .await?
                .iter()
                .flatten()
            {
                refs.add(e);
            }
            let results = self.call_resync(target, aspect, &records, &refs).await?;
            let mut problems = Vec::new();
            for record in &records {
                let key = record.key();
                let result = results.iter().find(|r| &r.key == key);
                match result.map(|r| r.outcome) {
                    Some(Outcome::Updated | Outcome::Loaded) => report.resynced += 1,
                    Some(Outcome::Skipped) => report.current += 1,
                    Some(Outcome::Failed | Outcome::Removed) | None => report.failed += 1,
                }
                let problem = match result {
                    Some(r) => r.problem.clone().or_else(|| {
                        (r.outcome == Outcome::Failed).then(|| {
                            reason(
                                key,
                                "resync_failed",
                                "The target could not re-sync this record and did not say why.",
                            )
                        })
                    }),
                    None => Some(reason(
                        key,
                        "no_outcome",
                        "The target reported no outcome for this record; a later re-sync tries it again.",
                    )),
                };
                problems.extend(problem);
            }
            report.problems += problems.len() as u64;
            if !problems.is_empty() {
                // Problems only: the ledger's entries (and hashes) stay as they are.
                self.store
                    .put_loads(LoadBatch {
                        run,
                        entries: Vec::new(),
                        problems,
                    })
                    .await?;
            }
        }
        Ok(report)
    }

    async fn call_resync<T: Target>(
        &self,
        target: &T,
        aspect: Aspect,
        records: &[deskmove_core::Record],
        refs: &LedgerRefs,
    ) -> Result<Vec<LoadResult>, EngineError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match target.resync(aspect, records, refs).await {
                Ok(results) => return Ok(results),
                Err(e) if e.kind().is_transient() && attempt < self.options.attempts => {
                    tracing::warn!(%aspect, error_message = %e, attempt, "Re-sync batch failed; trying it again.");
                }
                Err(e) => {
                    return Err(EngineError::Target {
                        target: target.instance().to_string(),
                        kind: RecordKind::Conversation,
                        error_kind: e.kind(),
                        attempts: attempt,
                        source: Box::new(e),
                    });
                }
            }
        }
    }
}

fn reason(key: &SourceKey, code: &str, text: &str) -> Problem {
    Problem::new(key.clone(), Stage::Load, ErrorKind::Internal, code, text)
}
