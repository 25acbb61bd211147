//! The load phase: staged records kind by kind in load order, each batch handed to the target
//! with what the ledger knows, and the batch's outcomes and problems committed together.
//!
//! A write into the target and its ledger commit cannot be one transaction, so after a crash
//! between them the ledger does not know what the target holds; targets are idempotent (they
//! look up what an earlier attempt created before creating), which closes that gap.

use std::collections::HashMap;

use deskmove_core::connector::{
    LoadResult, Outcome as TargetOutcome, Resolve, TargetRef, references,
};
use deskmove_core::{
    Classify, ContentHash, ErrorKind, Problem, Record, RecordKind, SourceKey, Stage, Target,
    TargetInstance,
};
use deskmove_store::{LedgerEntry, LoadBatch, Outcome, RunId, Store, StoredRecord};
use futures::{StreamExt, TryStreamExt};

use crate::progress::{LoadCounts, Progress};
use crate::select::Chosen;
use crate::{Engine, EngineError};

/// Ledger lookups in flight at once while preparing a batch.
const LOOKUPS: usize = 16;

/// The ledger's content hash for a record on a target: the record's own hash, folded with the
/// target's mapping fingerprint for it when there is one. Equal only when both the record and the
/// mapping decisions that shaped it are unchanged.
pub fn ledger_hash(record_hash: &ContentHash, fingerprint: Option<&ContentHash>) -> ContentHash {
    match fingerprint {
        None => record_hash.clone(),
        Some(fp) => {
            let mut h = blake3::Hasher::new();
            h.update(record_hash.0.as_bytes());
            h.update(b"\0");
            h.update(fp.0.as_bytes());
            ContentHash(h.finalize().to_hex().to_string())
        }
    }
}

/// A [`Resolve`] over ledger entries fetched before a batch: every key whose entry carries a
/// target id (including one kept from an earlier success after a failed update, since the record
/// is still in the target).
#[derive(Debug, Clone, Default)]
pub struct LedgerRefs {
    refs: HashMap<SourceKey, TargetRef>,
}

impl LedgerRefs {
    /// Refs from ledger entries; entries without a target id are left out.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a LedgerEntry>) -> Self {
        let mut refs = Self::default();
        for e in entries {
            refs.add(e);
        }
        refs
    }

    pub(crate) fn add(&mut self, e: &LedgerEntry) {
        if let Some(id) = &e.target_id {
            self.refs.insert(
                e.key.clone(),
                TargetRef {
                    key: e.key.clone(),
                    id: id.clone(),
                },
            );
        }
    }

    /// How many keys resolve.
    pub fn len(&self) -> usize {
        self.refs.len()
    }

    /// Whether no key resolves.
    pub fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }
}

impl Resolve for LedgerRefs {
    fn target_ref(&self, key: &SourceKey) -> Option<TargetRef> {
        self.refs.get(key).cloned()
    }
}

/// What a load phase did, per kind in load order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    /// The target instance loaded into.
    pub target: TargetInstance,
    /// Per kind the target loads.
    pub kinds: Vec<(RecordKind, LoadCounts)>,
    /// Kinds with staged records that this load path cannot load at all (see the target's
    /// fidelity); nothing of them was written.
    pub not_loadable: Vec<RecordKind>,
}

impl LoadReport {
    /// Totals over every kind.
    pub fn total(&self) -> LoadCounts {
        let mut t = LoadCounts::default();
        for (_, c) in &self.kinds {
            t.add(c);
        }
        t
    }
}

impl<St: Store> Engine<'_, St> {
    /// Loads every staged record the target can take into it, for `run`.
    ///
    /// Kind by kind in [`RecordKind::ALL`] order, in batches of
    /// [`EngineOptions::batch_size`](crate::EngineOptions): a record whose ledger entry has the
    /// current [`ledger_hash`] and did not fail is not handed over (`unchanged`); the rest go to
    /// [`Target::load`] with a [`LedgerRefs`] for them and what they reference, and the results
    /// are committed in one [`Store::put_loads`]. A failed record keeps its problem and is tried
    /// again by the next run. Call the target's preflight first; this phase does not.
    pub async fn load<T: Target>(&self, run: RunId, target: &T) -> Result<LoadReport, EngineError> {
        self.load_chosen(run, target, None).await
    }

    /// [`load`](Self::load), of only what `chosen` takes when it is given (see
    /// [`Engine::choose`]): the rest stays staged, untouched in the ledger, for a later run.
    pub async fn load_chosen<T: Target>(
        &self,
        run: RunId,
        target: &T,
        mut chosen: Option<Chosen>,
    ) -> Result<LoadReport, EngineError> {
        let instance = target.instance();
        let loadable = target.fidelity().kinds;
        let mut report = LoadReport {
            target: instance.clone(),
            kinds: Vec::new(),
            not_loadable: Vec::new(),
        };
        for kind in RecordKind::ALL {
            if !loadable.contains(&kind) {
                if !self.store.records(kind, None, 1).await?.is_empty() {
                    tracing::warn!(%kind, target = %instance, "This load path cannot load these staged records.");
                    report.not_loadable.push(kind);
                }
                continue;
            }
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
                let page = match chosen.as_mut() {
                    Some(c) => page.into_iter().filter(|s| c.takes(&s.record)).collect(),
                    None => page,
                };
                if page.is_empty() {
                    continue;
                }
                let batch = self.load_batch(run, target, &instance, kind, page).await?;
                counts.add(&batch);
                self.observer.event(&Progress::BatchCommitted {
                    kind,
                    counts: batch,
                });
            }
            tracing::debug!(%kind, loaded = counts.loaded, updated = counts.updated,
                failed = counts.failed, unchanged = counts.unchanged, "Kind loaded.");
            self.observer
                .event(&Progress::KindFinished { kind, counts });
            report.kinds.push((kind, counts));
        }
        Ok(report)
    }

    pub(crate) async fn ledger_entries<'k>(
        &self,
        keys: impl Iterator<Item = &'k SourceKey>,
        instance: &TargetInstance,
    ) -> Result<Vec<Option<LedgerEntry>>, EngineError> {
        Ok(futures::stream::iter(keys)
            .map(|k| self.store.ledger(k, instance))
            .buffered(LOOKUPS)
            .try_collect()
            .await?)
    }

    pub(crate) async fn load_batch<T: Target>(
        &self,
        run: RunId,
        target: &T,
        instance: &TargetInstance,
        kind: RecordKind,
        page: Vec<StoredRecord>,
    ) -> Result<LoadCounts, EngineError> {
        let mut counts = LoadCounts::default();
        let own = self
            .ledger_entries(page.iter().map(|s| s.record.key()), instance)
            .await?;
        let mut refs = LedgerRefs::from_entries(own.iter().flatten());
        let mut records = Vec::new();
        let mut hashes = HashMap::new();
        for (stored, entry) in page.into_iter().zip(own) {
            let fingerprint = target.mapping_fingerprint(&stored.record);
            let hash = ledger_hash(&stored.hash, fingerprint.as_ref());
            let current = entry.is_some_and(|e| {
                e.outcome != Outcome::Failed && e.content_hash.as_ref() == Some(&hash)
            });
            if current {
                counts.unchanged += 1;
            } else {
                hashes.insert(stored.record.key().clone(), hash);
                records.push(stored.record);
            }
        }
        if records.is_empty() {
            return Ok(counts);
        }

        let mut wanted: Vec<&SourceKey> = records
            .iter()
            .flat_map(references)
            .filter(|k| refs.target_ref(k).is_none())
            .collect();
        wanted.sort();
        wanted.dedup();
        let parents = self.ledger_entries(wanted.into_iter(), instance).await?;
        for e in parents.iter().flatten() {
            refs.add(e);
        }

        let results = self
            .call_load(target, instance, kind, &records, &refs)
            .await?;
        let mut by_key: HashMap<SourceKey, LoadResult> = HashMap::with_capacity(results.len());
        for r in results {
            if !hashes.contains_key(&r.key) {
                tracing::warn!(key = %r.key, "The target reported on a record it was not given; ignored.");
                continue;
            }
            by_key.insert(r.key.clone(), r);
        }

        let mut batch = LoadBatch {
            run,
            entries: Vec::with_capacity(records.len()),
            problems: Vec::new(),
        };
        for record in &records {
            let key = record.key();
            let hash = hashes.remove(key);
            let result = by_key.remove(key).unwrap_or_else(|| {
                LoadResult::failed(Problem::new(
                    key.clone(),
                    Stage::Load,
                    ErrorKind::Internal,
                    "no_outcome",
                    "The target reported no outcome for this record; it is tried again next run.",
                ))
            });
            let (entry, problem) = settle(result, key, instance, hash, run);
            match entry.as_ref().map(|e| e.outcome) {
                Some(Outcome::Loaded) => counts.loaded += 1,
                Some(Outcome::Updated) => counts.updated += 1,
                Some(Outcome::Skipped) | None => counts.skipped += 1,
                Some(Outcome::Failed | Outcome::Removed) => counts.failed += 1,
            }
            if let Some(p) = problem {
                counts.problems += 1;
                batch.problems.push(p);
            }
            batch.entries.extend(entry);
        }
        self.store.put_loads(batch).await?;
        Ok(counts)
    }

    async fn call_load<T: Target>(
        &self,
        target: &T,
        instance: &TargetInstance,
        kind: RecordKind,
        records: &[Record],
        refs: &LedgerRefs,
    ) -> Result<Vec<LoadResult>, EngineError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match target.load(kind, records, refs).await {
                Ok(results) => return Ok(results),
                Err(e) => {
                    let error = e.kind();
                    if error.is_transient() && attempt < self.options.attempts {
                        tracing::warn!(%kind, target = %instance, %error, error_message = %e, attempt,
                            "Target batch failed; trying it again.");
                        self.observer.event(&Progress::BatchRetrying {
                            kind,
                            attempt: attempt + 1,
                            error,
                        });
                        continue;
                    }
                    return Err(EngineError::Target {
                        target: instance.to_string(),
                        kind,
                        error_kind: error,
                        attempts: attempt,
                        source: Box::new(e),
                    });
                }
            }
        }
    }
}

/// Turns one target result into a ledger entry (none for a skip without a target id: nothing of
/// it is in the target, so the next run looks at it again) and the problem to store, making
/// sure no failure or skip goes without a reason.
fn settle(
    result: LoadResult,
    key: &SourceKey,
    instance: &TargetInstance,
    hash: Option<ContentHash>,
    run: RunId,
) -> (Option<LedgerEntry>, Option<Problem>) {
    let entry = |outcome, target_id, content_hash| LedgerEntry {
        key: key.clone(),
        target: instance.clone(),
        target_id,
        content_hash,
        outcome,
        run,
    };
    let reason = |code: &str, reason: &str| {
        Problem::new(key.clone(), Stage::Load, ErrorKind::Internal, code, reason)
    };
    let LoadResult {
        outcome,
        target_id,
        problem,
        ..
    } = result;
    match (outcome, target_id) {
        (TargetOutcome::Loaded, Some(id)) => (Some(entry(Outcome::Loaded, Some(id), hash)), problem),
        (TargetOutcome::Updated, Some(id)) => {
            (Some(entry(Outcome::Updated, Some(id), hash)), problem)
        }
        (TargetOutcome::Skipped, Some(id)) => {
            (Some(entry(Outcome::Skipped, Some(id), hash)), problem)
        }
        (TargetOutcome::Loaded | TargetOutcome::Updated, None) => (
            Some(entry(Outcome::Failed, None, None)),
            Some(problem.unwrap_or_else(|| {
                reason(
                    "no_target_id",
                    "The target reported a write without the id it wrote; it is tried again next run.",
                )
            })),
        ),
        (TargetOutcome::Skipped, None) => (
            None,
            Some(problem.unwrap_or_else(|| {
                reason("skipped_without_reason", "The target skipped this record without saying why.")
            })),
        ),
        // `removed` is the ledger's word for a rollback, never a load's answer.
        (TargetOutcome::Removed, _) => (
            Some(entry(Outcome::Failed, None, None)),
            Some(reason(
                "removed_on_load",
                "The target answered `removed` to a load; it is tried again next run.",
            )),
        ),
        (TargetOutcome::Failed, id) => (
            Some(entry(Outcome::Failed, id, None)),
            Some(problem.unwrap_or_else(|| {
                reason("load_failed", "The target reported a failure without a reason.")
            })),
        ),
    }
}
