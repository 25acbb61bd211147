//! The memory store's tables and how writes change them: the same rows, applied in the same
//! order as the SQLite store, so the two can be compared dump for dump.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use deskmove_core::connector::TargetInstance;
use deskmove_core::{ContentHash, RecordKind, SourceKey};

use crate::error::StoreError;
use crate::rows::{
    self, KeyColumns, LOADING_STAGES, PreparedBatch, PreparedLoads, STAGING_STAGES, ThreadColumns,
};
use crate::types::{
    Activity, BlobMeta, CursorState, KindStatus, LedgerEntry, Outcome, ProblemGroup, Run, RunId,
    StatusReport, StoredRecord,
};

#[derive(Debug, Clone)]
pub(super) struct RawRow {
    pub(super) hash: String,
    pub(super) body: Vec<u8>,
    pub(super) run: i64,
}

#[derive(Debug, Clone)]
pub(super) struct RecordRow {
    pub(super) hash: String,
    pub(super) updated_at: Option<String>,
    pub(super) body: String,
    pub(super) run: i64,
    pub(super) thread: Option<ThreadColumns>,
}

/// A message's entry in thread order: (conversation system, conversation id, created at,
/// message system, message id), as SQLite's `records_by_thread` index orders it.
pub(super) type ThreadEntry = (String, String, i64, String, String);

#[derive(Debug, Clone)]
pub(super) struct LedgerRow {
    pub(super) target_id: Option<String>,
    pub(super) content_hash: Option<String>,
    pub(super) outcome: Outcome,
    pub(super) run: i64,
    pub(super) created_run: Option<i64>,
}

#[derive(Debug, Clone)]
pub(super) struct ProblemRow {
    pub(super) reason: String,
    pub(super) error_kind: String,
    pub(super) run: i64,
}

/// Table by table, the same rows the SQLite schema holds.
#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) runs: BTreeMap<i64, Run>,
    pub(super) raw: BTreeMap<KeyColumns, RawRow>,
    pub(super) records: BTreeMap<KeyColumns, RecordRow>,
    /// Messages in thread order (SQLite: the `records_by_thread` index).
    pub(super) threads: BTreeSet<ThreadEntry>,
    pub(super) cursors: BTreeMap<String, (String, i64)>,
    /// Keyed instance first, like SQLite's primary key, so an instance's kind is one range.
    pub(super) ledger: BTreeMap<(TargetInstance, KeyColumns), LedgerRow>,
    /// Keyed by (record, stage, code).
    pub(super) problems: BTreeMap<(KeyColumns, String, String), ProblemRow>,
    pub(super) blobs: BTreeMap<String, BlobMeta>,
    /// The activity log in commit order (not part of the dump, as in SQLite).
    pub(super) activity: Vec<Activity>,
}

impl State {
    pub(super) fn check_run(&self, run: RunId) -> Result<(), StoreError> {
        if self.runs.contains_key(&run.0) {
            Ok(())
        } else {
            Err(StoreError::UnknownRun(run))
        }
    }

    pub(super) fn upsert_problems(&mut self, problems: Vec<rows::ProblemRow>, run: i64) {
        for p in problems {
            self.problems.insert(
                (p.key, p.stage.to_owned(), p.code),
                ProblemRow {
                    reason: p.reason,
                    error_kind: p.error_kind.to_owned(),
                    run,
                },
            );
        }
    }

    pub(super) fn clear_problems(&mut self, key: &KeyColumns, stages: &[deskmove_core::Stage]) {
        self.problems
            .retain(|(k, stage, _), _| k != key || !stages.iter().any(|s| s.as_str() == stage));
    }

    pub(super) fn apply_batch(&mut self, b: PreparedBatch) {
        let run = b.run.0;
        for r in b.raw {
            match self.raw.get(&r.key) {
                Some(old) if old.hash == r.hash => {}
                _ => {
                    self.raw.insert(
                        r.key,
                        RawRow {
                            hash: r.hash,
                            body: r.body,
                            run,
                        },
                    );
                }
            }
        }
        for r in b.records {
            self.clear_problems(&r.key, &STAGING_STAGES);
            match self.records.get(&r.key) {
                Some(old) if old.hash == r.hash => {}
                _ => {
                    let entry = |t: &ThreadColumns, k: &KeyColumns| {
                        (t.0.clone(), t.1.clone(), t.2, k.1.clone(), k.2.clone())
                    };
                    let old = self.records.get(&r.key).and_then(|o| o.thread.clone());
                    if let Some(t) = old {
                        self.threads.remove(&entry(&t, &r.key));
                    }
                    if let Some(t) = &r.thread {
                        self.threads.insert(entry(t, &r.key));
                    }
                    self.records.insert(
                        r.key,
                        RecordRow {
                            hash: r.hash,
                            updated_at: r.updated_at,
                            body: r.body,
                            run,
                            thread: r.thread,
                        },
                    );
                }
            }
        }
        self.upsert_problems(b.problems, run);
        if let Some(cursor) = b.cursor {
            self.cursors.insert(b.stream, (cursor, run));
        }
        self.activity.push(b.activity.entry(b.run));
    }

    pub(super) fn apply_loads(&mut self, b: PreparedLoads) {
        let run = b.run.0;
        for e in b.entries {
            if e.outcome != Outcome::Failed {
                self.clear_problems(&e.key, &LOADING_STAGES);
            }
            let slot = self.ledger.entry((e.target, e.key)).or_insert(LedgerRow {
                target_id: None,
                content_hash: None,
                outcome: e.outcome,
                run,
                created_run: None,
            });
            // A failed attempt keeps what an earlier success recorded; a removal forgets it.
            if e.outcome == Outcome::Removed {
                slot.target_id = None;
                slot.content_hash = None;
                slot.created_run = None;
            } else {
                slot.target_id = e.target_id.or(slot.target_id.take());
                slot.content_hash = e.content_hash.or(slot.content_hash.take());
            }
            slot.outcome = e.outcome;
            slot.run = run;
            if e.outcome == Outcome::Loaded {
                slot.created_run = Some(run);
            }
        }
        self.upsert_problems(b.problems, run);
        self.activity.push(b.activity.entry(b.run));
    }

    pub(super) fn ledger_entry(
        key: SourceKey,
        target: &TargetInstance,
        row: &LedgerRow,
    ) -> LedgerEntry {
        LedgerEntry {
            key,
            target: target.clone(),
            target_id: row.target_id.clone(),
            content_hash: row.content_hash.clone().map(ContentHash),
            outcome: row.outcome,
            run: RunId(row.run),
        }
    }

    /// Entries of `target` and `kind` after `after`, in (system, id) order; only those
    /// `created_run` created when given.
    pub(super) fn ledger_page(
        &self,
        created_run: Option<RunId>,
        target: &TargetInstance,
        kind: RecordKind,
        after: Option<&SourceKey>,
        limit: usize,
    ) -> Vec<LedgerEntry> {
        let k = kind.as_str();
        // Like SQLite's `(system, id) > (?, ?)`: the kind of `after` plays no part.
        let (system, id) =
            after.map_or_else(Default::default, |a| (a.system.clone(), a.id.clone()));
        let from = (target.clone(), (k.to_owned(), system, id));
        let start = match after {
            Some(_) => Bound::Excluded(from),
            None => Bound::Included(from),
        };
        self.ledger
            .range((start, Bound::Unbounded))
            .take_while(|((t, key), _)| t == target && key.0 == k)
            .filter(|(_, row)| created_run.is_none_or(|run| row.created_run == Some(run.0)))
            .take(limit)
            .map(|((_, key), row)| {
                let key = SourceKey {
                    system: key.1.clone(),
                    kind,
                    id: key.2.clone(),
                };
                Self::ledger_entry(key, target, row)
            })
            .collect()
    }

    /// The message a thread entry points at.
    pub(super) fn thread_record(&self, t: &ThreadEntry) -> Result<StoredRecord, StoreError> {
        let key = (
            RecordKind::Message.as_str().to_owned(),
            t.3.clone(),
            t.4.clone(),
        );
        let row = self
            .records
            .get(&key)
            .ok_or_else(|| StoreError::Corrupt(format!("thread entry without a record: {t:?}")))?;
        Self::stored_record(&key, row)
    }

    pub(super) fn stored_record(
        key: &KeyColumns,
        row: &RecordRow,
    ) -> Result<StoredRecord, StoreError> {
        rows::stored_record(
            &key.0,
            &row.body,
            row.hash.clone(),
            row.updated_at.as_deref(),
            row.run,
        )
    }

    pub(super) fn status(&self, examples: usize) -> Result<StatusReport, StoreError> {
        let mut kinds = Vec::new();
        for kind in RecordKind::ALL {
            let k = kind.as_str();
            let staged = self.records.keys().filter(|key| key.0 == k).count() as u64;
            let (mut loaded, mut failed) = (0, 0);
            for ((_, key), row) in &self.ledger {
                if key.0 == k {
                    match row.outcome {
                        Outcome::Failed => failed += 1,
                        Outcome::Removed => {}
                        _ => loaded += 1,
                    }
                }
            }
            let problems = self.problems.keys().filter(|(key, ..)| key.0 == k).count() as u64;
            if staged + loaded + failed + problems > 0 {
                kinds.push(KindStatus {
                    kind,
                    staged,
                    loaded,
                    failed,
                    problems,
                });
            }
        }
        let mut groups: BTreeMap<&str, ProblemGroup> = BTreeMap::new();
        for ((key, stage, code), row) in &self.problems {
            let group = groups.entry(code).or_insert_with(|| ProblemGroup {
                code: code.clone(),
                count: 0,
                examples: Vec::new(),
            });
            group.count += 1;
            // Map order is (kind, system, id, stage, code): per code, that is key then stage.
            if group.examples.len() < examples {
                group.examples.push(rows::stored_problem(
                    key,
                    stage,
                    code.clone(),
                    row.reason.clone(),
                    &row.error_kind,
                    row.run,
                )?);
            }
        }
        let mut problems: Vec<ProblemGroup> = groups.into_values().collect();
        problems.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
        let cursors = self
            .cursors
            .iter()
            .map(|(stream, (cursor, run))| CursorState {
                stream: stream.clone(),
                cursor: cursor.clone(),
                run: RunId(*run),
            })
            .collect();
        Ok(StatusReport {
            kinds,
            problems,
            cursors,
            runs: self.runs.values().cloned().collect(),
        })
    }
}
