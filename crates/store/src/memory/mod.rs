//! [`MemoryStore`]: the reference implementation of [`Store`]. Plain maps behind one mutex, each
//! write validated completely before it changes anything, so atomicity is obvious. Used by engine
//! tests and as the oracle the SQLite store is compared against.

mod dump;
mod state;

use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use deskmove_core::connector::TargetInstance;
use deskmove_core::{ContentHash, Problem, RecordKind, SourceKey};
use jiff::Timestamp;

use crate::error::StoreError;
use crate::rows::{self, blob_size, key_columns, position_columns};
use crate::store::Store;
use crate::types::{
    Activity, BlobMeta, Dump, LedgerEntry, LoadBatch, NewRun, RawPayload, Run, RunId, RunStatus,
    StagedBatch, StatusReport, StoredProblem, StoredRaw, StoredRecord, ThreadPosition,
};
use state::State;

/// The in-memory reference [`Store`]. Nothing survives the process; see [`crate::SqliteStore`]
/// for a durable one.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave State half-written: writes validate before mutating.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store for MemoryStore {
    async fn start_run(&self, run: NewRun) -> Result<RunId, StoreError> {
        let mut s = self.lock();
        let id = RunId(s.runs.keys().next_back().map_or(1, |last| last + 1));
        s.runs.insert(
            id.0,
            Run {
                id,
                command: run.command,
                source_system: run.source_system,
                target_system: run.target_system,
                target: run.target,
                started_at: run.started_at,
                finished_at: None,
                status: RunStatus::Running,
            },
        );
        Ok(id)
    }

    async fn finish_run(
        &self,
        run: RunId,
        status: RunStatus,
        finished_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let r = s.runs.get_mut(&run.0).ok_or(StoreError::UnknownRun(run))?;
        r.status = status;
        r.finished_at = Some(finished_at);
        Ok(())
    }

    async fn put_batch(&self, batch: StagedBatch) -> Result<(), StoreError> {
        let prepared = rows::prepare_batch(batch)?;
        let mut s = self.lock();
        s.check_run(prepared.run)?;
        s.apply_batch(prepared);
        Ok(())
    }

    async fn put_loads(&self, batch: LoadBatch) -> Result<(), StoreError> {
        let prepared = rows::prepare_loads(batch)?;
        let mut s = self.lock();
        s.check_run(prepared.run)?;
        s.apply_loads(prepared);
        Ok(())
    }

    async fn put_blob(&self, blob: BlobMeta) -> Result<BlobMeta, StoreError> {
        blob_size(blob.size)?;
        let mut s = self.lock();
        Ok(s.blobs.entry(blob.hash.clone()).or_insert(blob).clone())
    }

    async fn cursor(&self, stream: &str) -> Result<Option<String>, StoreError> {
        Ok(self.lock().cursors.get(stream).map(|(c, _)| c.clone()))
    }

    async fn record(&self, key: &SourceKey) -> Result<Option<StoredRecord>, StoreError> {
        let k = key_columns(key);
        let s = self.lock();
        s.records
            .get(&k)
            .map(|row| State::stored_record(&k, row))
            .transpose()
    }

    async fn records(
        &self,
        kind: RecordKind,
        after: Option<&SourceKey>,
        limit: usize,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let k = kind.as_str().to_owned();
        let s = self.lock();
        let start = match after {
            Some(a) => Bound::Excluded((k.clone(), a.system.clone(), a.id.clone())),
            None => Bound::Included((k.clone(), String::new(), String::new())),
        };
        s.records
            .range((start, Bound::Unbounded))
            .take_while(|(key, _)| key.0 == k)
            .take(limit)
            .map(|(key, row)| State::stored_record(key, row))
            .collect()
    }

    async fn messages_in_thread_order(
        &self,
        after: Option<&ThreadPosition>,
        limit: usize,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let s = self.lock();
        let start = match after {
            Some(a) => Bound::Excluded(position_columns(a)),
            None => Bound::Unbounded,
        };
        s.threads
            .range((start, Bound::Unbounded))
            .take(limit)
            .map(|t| s.thread_record(t))
            .collect()
    }

    async fn thread_messages(
        &self,
        conversations: &[SourceKey],
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let s = self.lock();
        let mut out = Vec::new();
        for c in conversations {
            let from = (
                c.system.clone(),
                c.id.clone(),
                i64::MIN,
                String::new(),
                String::new(),
            );
            for t in s
                .threads
                .range(from..)
                .take_while(|t| t.0 == c.system && t.1 == c.id)
            {
                out.push(s.thread_record(t)?);
            }
        }
        Ok(out)
    }

    async fn raw(&self, key: &SourceKey) -> Result<Option<StoredRaw>, StoreError> {
        Ok(self.lock().raw.get(&key_columns(key)).map(|r| StoredRaw {
            payload: RawPayload::new(key.clone(), r.body.clone()),
            hash: ContentHash(r.hash.clone()),
            run: RunId(r.run),
        }))
    }

    async fn ledger(
        &self,
        key: &SourceKey,
        target: &TargetInstance,
    ) -> Result<Option<LedgerEntry>, StoreError> {
        let s = self.lock();
        Ok(s.ledger
            .get(&(target.clone(), key_columns(key)))
            .map(|r| State::ledger_entry(key.clone(), target, r)))
    }

    async fn ledger_entries(
        &self,
        keys: &[SourceKey],
        target: &TargetInstance,
    ) -> Result<Vec<Option<LedgerEntry>>, StoreError> {
        let s = self.lock();
        Ok(keys
            .iter()
            .map(|key| {
                s.ledger
                    .get(&(target.clone(), key_columns(key)))
                    .map(|r| State::ledger_entry(key.clone(), target, r))
            })
            .collect())
    }

    async fn created_by(
        &self,
        run: RunId,
        target: &TargetInstance,
        kind: RecordKind,
        after: Option<&SourceKey>,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        Ok(self
            .lock()
            .ledger_page(Some(run), target, kind, after, limit))
    }

    async fn ledger_page(
        &self,
        target: &TargetInstance,
        kind: RecordKind,
        after: Option<&SourceKey>,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        Ok(self.lock().ledger_page(None, target, kind, after, limit))
    }

    async fn problems(
        &self,
        after: Option<&Problem>,
        limit: usize,
    ) -> Result<Vec<StoredProblem>, StoreError> {
        let s = self.lock();
        let start = match after {
            Some(p) => Bound::Excluded((
                key_columns(&p.key),
                p.stage.as_str().to_owned(),
                p.code.clone(),
            )),
            None => Bound::Unbounded,
        };
        s.problems
            .range((start, Bound::Unbounded))
            .take(limit)
            .map(|((key, stage, code), r)| {
                rows::stored_problem(
                    key,
                    stage,
                    code.clone(),
                    r.reason.clone(),
                    &r.error_kind,
                    r.run,
                )
            })
            .collect()
    }

    async fn blob(&self, hash: &str) -> Result<Option<BlobMeta>, StoreError> {
        Ok(self.lock().blobs.get(hash).cloned())
    }

    async fn runs(&self) -> Result<Vec<Run>, StoreError> {
        Ok(self.lock().runs.values().cloned().collect())
    }

    async fn activity(&self, run: RunId) -> Result<Vec<Activity>, StoreError> {
        Ok(self
            .lock()
            .activity
            .iter()
            .filter(|a| a.run == run)
            .cloned()
            .collect())
    }

    async fn status(&self, examples: usize) -> Result<StatusReport, StoreError> {
        self.lock().status(examples)
    }

    async fn dump(&self) -> Result<Dump, StoreError> {
        self.lock().dump()
    }
}
