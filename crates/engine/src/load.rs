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
use deskmove_store::{LedgerEntry, LoadBatch, Outcome, RunId, Store, StoredRecord, ThreadPosition};

use crate::progress::{LoadCounts, Progress};
use crate::select::Chosen;
use crate::{Engine, EngineError};

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
    ///
    /// Messages go in thread order ([`Store::messages_in_thread_order`]): each conversation's in
    /// the order they were written, whatever order the source's ids have. A target with
    /// [`Fidelity::threads`](deskmove_core::connector::Fidelity) gets each conversation with its
    /// messages in the conversation pass instead; the message pass then hands it only what that
    /// pass did not attempt.
    pub async fn load_chosen<T: Target>(
        &self,
        run: RunId,
        target: &T,
        mut chosen: Option<Chosen>,
    ) -> Result<LoadReport, EngineError> {
        let instance = target.instance();
        let fidelity = target.fidelity();
        let mut report = LoadReport {
            target: instance.clone(),
            kinds: Vec::new(),
            not_loadable: Vec::new(),
        };
        // Messages a thread target got with their conversations, reported with the messages.
        let mut in_threads = LoadCounts::default();
        for kind in RecordKind::ALL {
            if !fidelity.kinds.contains(&kind) {
                if !self.store.records(kind, None, 1).await?.is_empty() {
                    tracing::warn!(%kind, target = %instance, "This load path cannot load these staged records.");
                    report.not_loadable.push(kind);
                }
                continue;
            }
            self.observer.event(&Progress::KindStarted { kind });
            let mut counts = LoadCounts::default();
            let pass = Pass {
                run,
                instance: &instance,
                kind,
                skip_this_run: fidelity.threads && kind == RecordKind::Message,
            };
            if kind == RecordKind::Message && in_threads != LoadCounts::default() {
                counts.add(&in_threads);
                self.observer.event(&Progress::BatchCommitted {
                    kind,
                    counts: in_threads,
                });
            }
            // The next page and its ledger entries are read while the target loads this one:
            // neither depends on what this batch writes (its records are other records).
            let instance = &instance;
            let fetch = move |after: Option<StoredRecord>| async move {
                let page = match kind {
                    RecordKind::Message => {
                        let a = after.as_ref().and_then(|s| ThreadPosition::of(&s.record));
                        self.store
                            .messages_in_thread_order(a.as_ref(), self.options.batch_size)
                            .await?
                    }
                    _ => {
                        let a = after.as_ref().map(|s| s.record.key());
                        self.store.records(kind, a, self.options.batch_size).await?
                    }
                };
                let own = self
                    .ledger_entries(page.iter().map(|s| s.record.key()), instance)
                    .await?;
                Ok::<_, EngineError>(page.into_iter().zip(own).collect::<Vec<_>>())
            };
            let mut next = fetch(None).await?;
            loop {
                let page = std::mem::take(&mut next);
                let Some((last, _)) = page.last() else { break };
                let prefetch = fetch(Some(last.clone()));
                let page: Vec<(StoredRecord, Option<LedgerEntry>)> = match chosen.as_mut() {
                    Some(c) => page
                        .into_iter()
                        .filter(|(s, _)| c.takes(&s.record))
                        .collect(),
                    None => page,
                };
                if page.is_empty() {
                    next = prefetch.await?;
                    continue;
                }
                let work = async {
                    if fidelity.threads && kind == RecordKind::Conversation {
                        let (conversations, messages) = self
                            .load_threads(&pass, target, page, chosen.as_mut())
                            .await?;
                        in_threads.add(&messages);
                        Ok::<_, EngineError>(conversations)
                    } else {
                        self.load_batch_in(&pass, target, page).await
                    }
                };
                let (batch, fetched) = futures::join!(work, prefetch);
                let batch = batch?;
                next = fetched?;
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

    /// The ledger entries of `keys` in `instance`, in their order, in one store read.
    pub(crate) async fn ledger_entries<'k>(
        &self,
        keys: impl Iterator<Item = &'k SourceKey>,
        instance: &TargetInstance,
    ) -> Result<Vec<Option<LedgerEntry>>, EngineError> {
        let keys: Vec<SourceKey> = keys.cloned().collect();
        Ok(self.store.ledger_entries(&keys, instance).await?)
    }

    /// Loads one page of `kind` (see [`load`](Self::load)).
    pub(crate) async fn load_batch<T: Target>(
        &self,
        run: RunId,
        target: &T,
        instance: &TargetInstance,
        kind: RecordKind,
        page: Vec<StoredRecord>,
    ) -> Result<LoadCounts, EngineError> {
        let pass = Pass {
            run,
            instance,
            kind,
            skip_this_run: false,
        };
        let own = self
            .ledger_entries(page.iter().map(|s| s.record.key()), instance)
            .await?;
        self.load_batch_in(&pass, target, page.into_iter().zip(own).collect())
            .await
    }

    /// A page of one kind, each record with its ledger entry here.
    async fn load_batch_in<T: Target>(
        &self,
        pass: &Pass<'_>,
        target: &T,
        page: Vec<(StoredRecord, Option<LedgerEntry>)>,
    ) -> Result<LoadCounts, EngineError> {
        let counts = self.load_records(pass, target, page).await?;
        Ok(counts.of(pass.kind))
    }

    /// A conversation page for a thread target: the conversations not current here, each with
    /// its messages not current here, in one call. Returns what became of the conversations and
    /// of the messages.
    async fn load_threads<T: Target>(
        &self,
        pass: &Pass<'_>,
        target: &T,
        page: Vec<(StoredRecord, Option<LedgerEntry>)>,
        mut chosen: Option<&mut Chosen>,
    ) -> Result<(LoadCounts, LoadCounts), EngineError> {
        let mut unchanged = 0;
        let mut stale = Vec::new();
        for (stored, entry) in page {
            if is_current(target, &stored, entry.as_ref()) {
                unchanged += 1;
            } else {
                stale.push((stored, entry));
            }
        }
        let keys: Vec<SourceKey> = stale.iter().map(|(s, _)| s.record.key().clone()).collect();
        let mut threads: HashMap<SourceKey, Vec<StoredRecord>> = HashMap::new();
        for m in self.store.thread_messages(&keys).await? {
            if let Record::Message(msg) = &m.record
                && chosen.as_mut().is_none_or(|c| c.takes(&m.record))
            {
                threads.entry(msg.conversation.clone()).or_default().push(m);
            }
        }
        let messages: Vec<&StoredRecord> = threads.values().flatten().collect();
        let message_entries = self
            .ledger_entries(messages.iter().map(|s| s.record.key()), pass.instance)
            .await?;
        let mut message_entry: HashMap<SourceKey, Option<LedgerEntry>> = messages
            .iter()
            .map(|s| s.record.key().clone())
            .zip(message_entries)
            .collect();
        let mut batch = Vec::new();
        for (stored, entry) in stale {
            let key = stored.record.key().clone();
            batch.push((stored, entry));
            for m in threads.remove(&key).unwrap_or_default() {
                let entry = message_entry.remove(m.record.key()).flatten();
                batch.push((m, entry));
            }
        }
        let counts = self.load_records(pass, target, batch).await?;
        let mut conversations = counts.of(RecordKind::Conversation);
        conversations.unchanged += unchanged;
        Ok((conversations, counts.of(RecordKind::Message)))
    }

    /// Hands the records that are not current here to the target in one call (after resolving
    /// what they reference) and commits what became of them.
    async fn load_records<T: Target>(
        &self,
        pass: &Pass<'_>,
        target: &T,
        page: Vec<(StoredRecord, Option<LedgerEntry>)>,
    ) -> Result<KindCounts, EngineError> {
        let (run, instance) = (pass.run, pass.instance);
        let mut counts = KindCounts::default();
        let mut refs = LedgerRefs::from_entries(page.iter().filter_map(|(_, e)| e.as_ref()));
        let mut records = Vec::new();
        let mut hashes = HashMap::new();
        for (stored, entry) in page {
            if pass.skip_this_run && entry.as_ref().is_some_and(|e| e.run == run) {
                // Attempted in this run's conversation pass, with its conversation.
                continue;
            }
            if is_current(target, &stored, entry.as_ref()) {
                counts.get(stored.record.kind()).unchanged += 1;
            } else {
                let fingerprint = target.mapping_fingerprint(&stored.record);
                let hash = ledger_hash(&stored.hash, fingerprint.as_ref());
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
            .call_load(target, instance, pass.kind, &records, &refs)
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
            let c = counts.get(record.kind());
            match entry.as_ref().map(|e| e.outcome) {
                Some(Outcome::Loaded) => c.loaded += 1,
                Some(Outcome::Updated) => c.updated += 1,
                Some(Outcome::Skipped) | None => c.skipped += 1,
                Some(Outcome::Failed | Outcome::Removed) => c.failed += 1,
            }
            if let Some(p) = problem {
                c.problems += 1;
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

/// One load pass: a kind, in a run, into a target instance.
struct Pass<'a> {
    run: RunId,
    instance: &'a TargetInstance,
    /// The kind handed to [`Target::load`].
    kind: RecordKind,
    /// Leave out records this run already attempted (the message pass of a thread target).
    skip_this_run: bool,
}

/// What one call did, by record kind (a thread batch holds two).
#[derive(Default)]
struct KindCounts(Vec<(RecordKind, LoadCounts)>);

impl KindCounts {
    fn get(&mut self, kind: RecordKind) -> &mut LoadCounts {
        let i = match self.0.iter().position(|(k, _)| *k == kind) {
            Some(i) => i,
            None => {
                self.0.push((kind, LoadCounts::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }

    fn of(&self, kind: RecordKind) -> LoadCounts {
        self.0
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    }
}

/// Whether the ledger says `stored` is in the target as it is now, under the current mapping.
fn is_current<T: Target>(target: &T, stored: &StoredRecord, entry: Option<&LedgerEntry>) -> bool {
    entry.is_some_and(|e| {
        e.outcome != Outcome::Failed && e.outcome != Outcome::Removed && {
            let fingerprint = target.mapping_fingerprint(&stored.record);
            e.content_hash.as_ref() == Some(&ledger_hash(&stored.hash, fingerprint.as_ref()))
        }
    })
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
