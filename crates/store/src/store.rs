//! The [`Store`] trait: the one contract between the engine and wherever staging data lives.
//! Every implementation (memory, SQLite, later PostgreSQL) passes the same test suite
//! (`tests/suite.rs`), so the engine can be tested against the memory store and trusted on SQLite.

use std::future::Future;

use deskmove_core::connector::TargetInstance;
use deskmove_core::{Problem, RecordKind, SourceKey};

use crate::error::StoreError;
use crate::types::{
    Activity, BlobMeta, Dump, LedgerEntry, LoadBatch, NewRun, Run, RunId, RunStatus, StagedBatch,
    StatusReport, StoredProblem, StoredRaw, StoredRecord, ThreadPosition,
};

/// The staging store: runs, raw payloads, canonical records, stream cursors, the ledger,
/// per-record problems and the blob index.
///
/// # Atomicity
/// Each write method is one transaction. In particular [`put_batch`](Store::put_batch) commits a
/// batch's records, raw payloads, problems **and** the stream cursor that covers them together:
/// after any crash the stored cursor of a stream is exactly the cursor of the last committed batch
/// of that stream that carried one, and every record of that batch and of all earlier ones is
/// stored (tested by SIGKILLing a writer process, `tests/crash.rs`). A cursor
/// never gets ahead of its records, and no record of an uncommitted batch is visible. A failed
/// write leaves the store as it was.
///
/// # Concurrency
/// Implementations are `Send + Sync`; call them from as many tasks as you like. Reads run
/// concurrently with each other and with writes and see only committed data (a write is visible
/// to every read started after it returned). Writes are serialised: they take effect one at a
/// time, in the order the store receives them. Two tasks writing batches of the *same* stream
/// concurrently get no ordering guarantee between them, so give each stream one writer.
///
/// # At-least-once
/// Callers may re-send a write after a crash or an error. Re-applying the same batch (or load
/// batch) is a no-op: the store's [`dump`](Store::dump) is identical before and after.
/// Concretely: a record or raw payload whose hash equals the stored one is not touched (its `run`
/// stays the run that first stored that content); a changed one is replaced. Staging a record
/// replaces its `extract`/`normalize` problems with the ones in the batch; a problem is keyed by
/// (record, stage, code). Re-applying an *older* batch moves the cursor back to that batch's.
///
/// # Durability
/// When a write returns `Ok`, it survives the process being killed (SIGKILL) at any later point.
/// What survives power loss depends on the implementation (see `SqliteOptions::durability`).
///
/// # Errors
/// Every method fails with a [`StoreError`]; its [`Classify`](deskmove_core::Classify) kind is
/// `storage`, `io` or `internal` (a contract violation such as an unknown run).
pub trait Store: Send + Sync + 'static {
    /// Starts a run and returns its id (ids increase from 1 and are never reused). Called once
    /// per command that writes, before any batch of that run.
    fn start_run(&self, run: NewRun) -> impl Future<Output = Result<RunId, StoreError>> + Send;

    /// Records how `run` ended. Called once at the end of a command; may be called again to
    /// correct it. Fails with [`StoreError::UnknownRun`] for a run that was never started.
    fn finish_run(
        &self,
        run: RunId,
        status: RunStatus,
        finished_at: jiff::Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Commits one extraction batch atomically (see the trait docs). Called by every extract
    /// stream after each page, concurrently across streams.
    fn put_batch(&self, batch: StagedBatch) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Commits one load batch atomically: ledger entries and map/load problems. An entry with a
    /// successful outcome clears that record's `map`/`load` problems.
    fn put_loads(&self, batch: LoadBatch) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Adds a blob to the index unless its hash is already there, and returns the stored entry
    /// (so `first_seen` and the first content type are kept). Called by [`crate::BlobStore`]
    /// after the bytes are safely in object storage, so an index entry never points at nothing.
    fn put_blob(&self, blob: BlobMeta)
    -> impl Future<Output = Result<BlobMeta, StoreError>> + Send;

    /// The stored cursor of `stream`, if any batch of it committed one. Called when a stream
    /// starts, to resume.
    fn cursor(
        &self,
        stream: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// The canonical record stored under `key`.
    fn record(
        &self,
        key: &SourceKey,
    ) -> impl Future<Output = Result<Option<StoredRecord>, StoreError>> + Send;

    /// Up to `limit` records of `kind`, ordered by (system, id) and strictly after `after` when
    /// given: page with the last key of the previous page. Used by load, kind after kind.
    fn records(
        &self,
        kind: RecordKind,
        after: Option<&SourceKey>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredRecord>, StoreError>> + Send;

    /// Up to `limit` messages in thread order (see [`ThreadPosition`]), strictly after `after`
    /// when given: page with the position of the previous page's last message. Used by load, so
    /// each conversation's messages reach the target in the order they were written.
    fn messages_in_thread_order(
        &self,
        after: Option<&ThreadPosition>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredRecord>, StoreError>> + Send;

    /// Every staged message of `conversations`, in thread order (conversation by conversation,
    /// each in the order its messages were written). For targets that load a conversation
    /// together with its messages.
    fn thread_messages(
        &self,
        conversations: &[SourceKey],
    ) -> impl Future<Output = Result<Vec<StoredRecord>, StoreError>> + Send;

    /// The raw payload stored under `key`.
    fn raw(
        &self,
        key: &SourceKey,
    ) -> impl Future<Output = Result<Option<StoredRaw>, StoreError>> + Send;

    /// What `key` is in the `target` instance, if it was ever attempted there. Entries of other
    /// instances (even of the same vendor) are never returned.
    fn ledger(
        &self,
        key: &SourceKey,
        target: &TargetInstance,
    ) -> impl Future<Output = Result<Option<LedgerEntry>, StoreError>> + Send;

    /// [`ledger`](Self::ledger) for each of `keys`, in their order, in one read: load looks up
    /// a whole batch (and the records it references) at once.
    fn ledger_entries(
        &self,
        keys: &[SourceKey],
        target: &TargetInstance,
    ) -> impl Future<Output = Result<Vec<Option<LedgerEntry>>, StoreError>> + Send;

    /// Up to `limit` ledger entries of `kind` in the `target` instance that `run` created there
    /// (last outcome `loaded` by that run or an earlier `loaded` by it, whatever happened since,
    /// unless a rollback has `removed` it), ordered by (system, id), strictly after `after`. Used
    /// by rollback, kind by kind in reverse load order.
    fn created_by(
        &self,
        run: RunId,
        target: &TargetInstance,
        kind: RecordKind,
        after: Option<&SourceKey>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<LedgerEntry>, StoreError>> + Send;

    /// Up to `limit` ledger entries of `kind` in the `target` instance, whatever their outcome
    /// and run, ordered by (system, id), strictly after `after`. Used by `verify` and `status`.
    fn ledger_page(
        &self,
        target: &TargetInstance,
        kind: RecordKind,
        after: Option<&SourceKey>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<LedgerEntry>, StoreError>> + Send;

    /// Up to `limit` current problems ordered by (kind, system, id, stage, code), strictly after
    /// `after` (the last problem of the previous page). For reports that list every problem.
    fn problems(
        &self,
        after: Option<&Problem>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredProblem>, StoreError>> + Send;

    /// The blob index entry for a blake3 hex `hash`.
    fn blob(&self, hash: &str)
    -> impl Future<Output = Result<Option<BlobMeta>, StoreError>> + Send;

    /// Every run, oldest first.
    fn runs(&self) -> impl Future<Output = Result<Vec<Run>, StoreError>> + Send;

    /// The activity log of `run`, in commit order: one [`Activity`] per committed
    /// [`put_batch`](Store::put_batch) or [`put_loads`](Store::put_loads), stamped with the
    /// store's clock when it was received. For throughput charts in reports. It says when work
    /// happened, not what the store holds: it is not part of the [`dump`](Store::dump), and a
    /// re-sent batch is logged again. A failed write logs nothing.
    fn activity(
        &self,
        run: RunId,
    ) -> impl Future<Output = Result<Vec<Activity>, StoreError>> + Send;

    /// What `deskmove status` shows: counts per kind, problems grouped by code with up to
    /// `examples` examples each, cursors and runs.
    fn status(
        &self,
        examples: usize,
    ) -> impl Future<Output = Result<StatusReport, StoreError>> + Send;

    /// A deterministic dump of every row of every table (see [`Dump`]). For tests and
    /// diagnostics; reads everything, so not for large stores in hot paths.
    fn dump(&self) -> impl Future<Output = Result<Dump, StoreError>> + Send;
}
