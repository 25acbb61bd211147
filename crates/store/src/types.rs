//! The values that cross the [`Store`](crate::Store) boundary: runs, staged batches, ledger
//! entries, blob index entries and the `status` report. Plain data, shared by every implementation.

use std::fmt;

use deskmove_core::connector::TargetInstance;
use deskmove_core::{ContentHash, Problem, Record, RecordKind, SourceKey};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A run's id: increasing from 1 in the order runs were started, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How a run ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum RunStatus {
    /// Started and not finished. A run left in this state after a crash is resumed or superseded.
    Running,
    /// Finished with every record taken.
    Succeeded,
    /// Finished, but some records were skipped or failed (exit code 3).
    CompletedWithProblems,
    /// Stopped by an error.
    Failed,
}

impl RunStatus {
    /// The stable snake_case name stored and reported.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// What a caller says about a run it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    /// The command, e.g. `run` or `export`.
    pub command: String,
    /// The source system: the source connector's name.
    pub source_system: Option<String>,
    /// The target system: the target connector's name.
    pub target_system: Option<String>,
    /// The target instance it loads into, when it loads (shown in reports).
    pub target: Option<TargetInstance>,
    /// When it started (the caller's clock, so tests are deterministic).
    pub started_at: Timestamp,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    /// Its id.
    pub id: RunId,
    /// The command.
    pub command: String,
    /// The source system.
    pub source_system: Option<String>,
    /// The target system.
    pub target_system: Option<String>,
    /// The target instance it loads into; `None` also for runs stored before instances existed.
    pub target: Option<TargetInstance>,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished, if it did.
    pub finished_at: Option<Timestamp>,
    /// How it ended.
    pub status: RunStatus,
}

/// A source payload exactly as received (the bytes of one record's JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPayload {
    /// The record it describes.
    pub key: SourceKey,
    /// The bytes as received, unparsed.
    pub body: Vec<u8>,
}

impl RawPayload {
    /// A payload for `key`.
    pub fn new(key: SourceKey, body: impl Into<Vec<u8>>) -> Self {
        Self {
            key,
            body: body.into(),
        }
    }

    /// blake3 of the bytes, hex: equal bytes, equal hash.
    pub fn hash(&self) -> ContentHash {
        ContentHash(blake3::hash(&self.body).to_hex().to_string())
    }
}

/// A raw payload as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRaw {
    /// The payload.
    pub payload: RawPayload,
    /// blake3 of its bytes.
    pub hash: ContentHash,
    /// The run that stored these bytes.
    pub run: RunId,
}

/// One unit of extraction: the records of a page, their raw payloads, the problems found while
/// reading and normalising them, and the stream cursor that covers them. Committed atomically.
#[derive(Debug, Clone, PartialEq)]
pub struct StagedBatch {
    /// The run writing it.
    pub run: RunId,
    /// The extraction stream, `<source>/<stream>` (e.g. `<source>/contacts`).
    pub stream: String,
    /// The stream's cursor after this batch; `None` leaves the stored cursor unchanged.
    pub cursor: Option<String>,
    /// Canonical records.
    pub records: Vec<Record>,
    /// Raw payloads as received.
    pub raw: Vec<RawPayload>,
    /// Problems found while extracting or normalising (also for records not in `records`).
    pub problems: Vec<Problem>,
}

impl StagedBatch {
    /// An empty batch for `stream` in `run`.
    pub fn new(run: RunId, stream: impl Into<String>) -> Self {
        Self {
            run,
            stream: stream.into(),
            cursor: None,
            records: Vec::new(),
            raw: Vec::new(),
            problems: Vec::new(),
        }
    }
}

/// A canonical record as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    /// The record.
    pub record: Record,
    /// Its content hash (what the ledger compares against).
    pub hash: ContentHash,
    /// When the source last changed it, for kinds that say.
    pub updated_at: Option<Timestamp>,
    /// The run that stored this content.
    pub run: RunId,
}

/// Where a message stands in thread order: by conversation key, then when it was created, then
/// its own key. Loading messages in this order writes each conversation's messages in the order
/// they were written, whatever order the source's ids have (a target that numbers what it
/// receives, as most helpdesks do, shows its messages in that order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadPosition {
    /// The message's conversation.
    pub conversation: SourceKey,
    /// When the message was created.
    pub created_at: Timestamp,
    /// The message.
    pub key: SourceKey,
}

impl ThreadPosition {
    /// Where `record` stands; `None` unless it is a message.
    pub fn of(record: &Record) -> Option<Self> {
        match record {
            Record::Message(m) => Some(Self {
                conversation: m.conversation.clone(),
                created_at: m.created_at,
                key: m.key.clone(),
            }),
            _ => None,
        }
    }
}

/// What loading one record into a target did: the engine's outcome, stored as is.
pub use deskmove_core::connector::Outcome;

/// One ledger entry: what a source record is in one target instance.
///
/// Entries are keyed by (source key, target instance): the same record loaded into two accounts,
/// two installations or through two load paths has one entry per instance, and a lookup in one
/// never sees the others. Entries from a store written before instances existed read back with
/// `vendor` = the vendor name they were stored under and an empty host, account and path
/// ("unknown instance"); no real instance matches them.
///
/// For [`Outcome::Failed`] the target id and hash may be `None`; a stored id or hash from an
/// earlier success is then kept, so a failed update never forgets what already exists in the
/// target. [`Outcome::Removed`] (a rollback's) carries neither and clears both, and the
/// creating run, so [`Store::created_by`](crate::Store::created_by) no longer returns it. Every
/// other outcome must carry both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    /// The source record.
    pub key: SourceKey,
    /// The target instance it was loaded into; its vendor must not be empty.
    pub target: TargetInstance,
    /// The target's id for it.
    pub target_id: Option<String>,
    /// The content hash of what the target holds.
    pub content_hash: Option<ContentHash>,
    /// What the last attempt did.
    pub outcome: Outcome,
    /// The run of the last attempt.
    pub run: RunId,
}

/// One unit of loading: ledger entries and the map/load problems found, committed atomically.
/// Every entry's `run` must equal the batch's.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadBatch {
    /// The run writing it.
    pub run: RunId,
    /// Results per record.
    pub entries: Vec<LedgerEntry>,
    /// Problems found while mapping or loading.
    pub problems: Vec<Problem>,
}

/// A blob index entry: what the blob store holds under `blobs/<hash>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlobMeta {
    /// blake3 of the content, hex.
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type as the source reported it.
    pub content_type: Option<String>,
    /// When deskmove first stored it.
    pub first_seen: Timestamp,
}

/// A stored problem with the run that last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredProblem {
    /// The problem.
    pub problem: Problem,
    /// The run that last reported it.
    pub run: RunId,
}

/// Counts for one record kind, for `deskmove status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindStatus {
    /// The kind.
    pub kind: RecordKind,
    /// Canonical records staged.
    pub staged: u64,
    /// Ledger entries whose last outcome is loaded, updated or skipped (any target).
    pub loaded: u64,
    /// Ledger entries whose last outcome is failed.
    pub failed: u64,
    /// Current problems on records of this kind.
    pub problems: u64,
}

/// Problems sharing a code, for `deskmove status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProblemGroup {
    /// The code, e.g. `invalid_email`.
    pub code: String,
    /// How many records have it.
    pub count: u64,
    /// A few of them, in source-key order.
    pub examples: Vec<StoredProblem>,
}

/// A stream cursor, for `deskmove status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CursorState {
    /// The stream, `<source>/<stream>` (e.g. `<source>/contacts`).
    pub stream: String,
    /// Where it stopped.
    pub cursor: String,
    /// The run that wrote it.
    pub run: RunId,
}

/// Everything `deskmove status` shows about the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    /// Counts per kind, in load order; kinds with nothing at all are left out.
    pub kinds: Vec<KindStatus>,
    /// Problems grouped by code, most frequent first (ties by code).
    pub problems: Vec<ProblemGroup>,
    /// Stream cursors, by stream name.
    pub cursors: Vec<CursorState>,
    /// Runs, oldest first.
    pub runs: Vec<Run>,
}

/// Which kind of write an [`Activity`] entry logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum ActivityPhase {
    /// An extraction batch ([`Store::put_batch`](crate::Store::put_batch)).
    Extract,
    /// A load batch ([`Store::put_loads`](crate::Store::put_loads)); rollbacks write these too.
    Load,
}

impl ActivityPhase {
    /// The stable snake_case name stored and reported.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One committed write in the activity log: when it happened and how much it carried. Reports
/// chart throughput over time from these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// The run that wrote it.
    pub run: RunId,
    /// Which kind of write.
    pub phase: ActivityPhase,
    /// When the store received it (the store's wall clock, not the caller's).
    pub at: Timestamp,
    /// Records it carried: staged records for an extraction batch; distinct records with a
    /// ledger entry or a problem for a load batch.
    pub records: u64,
    /// Problems it carried.
    pub problems: u64,
}

/// A deterministic full dump of a store's contents: per table, every row rendered as a JSON array
/// in schema column order, rows sorted. The activity log is left out: it says when writes
/// happened, not what the store holds. Two stores with equal dumps hold the same data; the memory
/// and SQLite stores render identically, so their dumps can be compared with each other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dump {
    /// Rows by table name.
    pub tables: std::collections::BTreeMap<String, Vec<String>>,
}

impl Dump {
    /// Total number of rows.
    pub fn rows(&self) -> usize {
        self.tables.values().map(Vec::len).sum()
    }
}
