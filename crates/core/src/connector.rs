//! The seams between the engine and every connector: [`Source`], [`PageSink`], [`Resolve`],
//! [`Target`] and the values that cross them.
//!
//! The engine owns the staging store, the order, the concurrency and the retry budget; a
//! connector sees only these traits. A source pushes pages into a [`PageSink`] (ripgrep's push
//! model: the sink decides what "committed" means); a target is handed records and a [`Resolve`]
//! that answers, from the ledger, what other records already are in the target. Neither ever sees
//! the store, so one engine and one compliance harness serve every vendor.
//!
//! Per-record trouble is never an `Err`: a source puts it in the page's problems, a target in the
//! record's [`LoadResult`]. An `Err` means the call as a whole failed (network, auth, a bug); its
//! [`Classify`] kind tells the engine whether resuming may help.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;
use serde::{Deserialize, Serialize};

use crate::error::{Classify, ErrorKind};
use crate::hash::ContentHash;
use crate::key::{RecordKind, SourceKey};
use crate::model::Record;
use crate::problem::Problem;

pub use crate::model::BlobRef;

/// One place records are loaded into: vendor + host + account + load path.
///
/// The ledger is keyed by it, so two accounts, two installations or two load paths of the same
/// vendor (an API path and a database path) never mistake each other's rows for "already
/// loaded".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TargetInstance {
    /// The target vendor, as its connector names itself.
    pub vendor: String,
    /// The host records go to, lower-case, with a port when not the default
    /// (e.g. `support.example.com`, `127.0.0.1:5432`).
    pub host: String,
    /// The account (workspace, database) inside that host, e.g. `1`.
    pub account: String,
    /// The load path, e.g. `api` or `postgres`.
    pub path: String,
}

impl TargetInstance {
    /// An instance from its four parts.
    pub fn new(
        vendor: impl Into<String>,
        host: impl Into<String>,
        account: impl Into<String>,
        path: impl Into<String>,
    ) -> Self {
        Self {
            vendor: vendor.into(),
            host: host.into().to_ascii_lowercase(),
            account: account.into(),
            path: path.into(),
        }
    }
}

/// `vendor/host/account/path`, the form shown in reports and `status`.
impl fmt::Display for TargetInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.vendor, self.host, self.account, self.path
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Source side
// ---------------------------------------------------------------------------------------------

/// One resumable stream of a source, e.g. `<vendor>/contacts`.
///
/// The name is stable forever: it keys the stream's stored cursor, so renaming a stream makes
/// the next run start it from the beginning.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StreamSpec {
    /// Stable name, `<system>/<resource>`.
    pub name: String,
    /// The record kinds its pages carry (for `scan`, progress and the harness).
    pub kinds: Vec<RecordKind>,
    /// Streams that must have finished before this one starts (e.g. conversations after the
    /// contacts they reference, when the source needs the contacts to read them). Streams with no
    /// path of dependencies between them may run concurrently.
    pub depends_on: Vec<String>,
}

impl StreamSpec {
    /// A stream with no dependencies.
    pub fn new(name: impl Into<String>, kinds: impl Into<Vec<RecordKind>>) -> Self {
        Self {
            name: name.into(),
            kinds: kinds.into(),
            depends_on: Vec::new(),
        }
    }

    /// This stream, starting only after `stream` has finished.
    pub fn after(mut self, stream: impl Into<String>) -> Self {
        self.depends_on.push(stream.into());
        self
    }
}

/// Where a stream stands, in the source's own terms (a page number, a scroll parameter, an
/// `updated_at` watermark, ...). Opaque to the engine, which only stores it and hands it back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub String);

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A source payload exactly as received: the bytes of one record's JSON, unparsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    /// The record it describes.
    pub key: SourceKey,
    /// The bytes as received.
    pub body: Bytes,
}

impl Raw {
    /// A payload for `key`.
    pub fn new(key: SourceKey, body: impl Into<Bytes>) -> Self {
        Self {
            key,
            body: body.into(),
        }
    }
}

/// One unit of extraction, committed atomically by [`PageSink::page`]: canonical records, their
/// raw payloads, the problems found reading and normalising them, and the cursor that resumes
/// the stream just after them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// Canonical records.
    pub records: Vec<Record>,
    /// Raw payloads as received.
    pub raw: Vec<Raw>,
    /// Per-record trouble (stage `extract` or `normalize`), also for records that could not be
    /// turned into a canonical record at all. Never dropped.
    pub problems: Vec<Problem>,
    /// Where to resume after this page. `None` leaves the stored cursor as it is (a page that is
    /// not a resume point, e.g. one of several pages of a sub-list).
    pub cursor: Option<Cursor>,
}

/// A file's bytes as they arrive, e.g. a response body; read once, front to back.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// Why a [`PageSink`] refused a page or a blob.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The staging store or the blob store failed; nothing of this page or blob was committed.
    #[error("staging failed ({kind}): {message}")]
    Store {
        /// The failure's kind.
        kind: ErrorKind,
        /// What failed, without record bodies or credentials.
        message: String,
    },
    /// The file's byte stream failed while it was being read (the download broke off).
    #[error("reading the file failed: {0}")]
    Body(String),
    /// The page breaks the contract (e.g. a record whose key names another kind).
    #[error("invalid page: {0}")]
    Invalid(String),
    /// The engine is stopping (another stream failed, or the run was cancelled); return promptly.
    #[error("the run is stopping")]
    Aborted,
}

impl Classify for SinkError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Store { kind, .. } => *kind,
            Self::Body(_) => ErrorKind::Transient,
            Self::Invalid(_) | Self::Aborted => ErrorKind::Internal,
        }
    }
}

/// Where a [`Source`] pushes what it reads. Implemented by the engine over the staging store.
///
/// A sink serves one stream of one run; it is not shared between concurrent streams. Within
/// its stream, several [`blob`](PageSink::blob) calls may be in flight at once (a page's files
/// downloaded concurrently); pages are committed one at a time, in order.
pub trait PageSink: Send + Sync {
    /// Commits the page's records, raw payloads, problems and cursor together, in one store
    /// transaction, and returns once they are durable. After an `Err` nothing of the page is
    /// stored; the source should return the error (wrapped in its own) rather than continue.
    /// Committing the same page again (after a crash) is harmless.
    fn page(&mut self, page: Page) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Streams a file's bytes into the blob store now (vendor URLs expire), and returns where
    /// they are. Content-addressed: the same bytes stored twice are kept once. Call it before the
    /// page that carries the record pointing at the blob. Takes `&self` so a source can stream
    /// several files at once; it bounds how many itself.
    fn blob(
        &self,
        body: ByteStream,
        content_type: Option<&str>,
    ) -> impl Future<Output = Result<BlobRef, SinkError>> + Send;
}

/// What a scan found, per record kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    /// How many records of the kind the source says it has.
    pub count: u64,
    /// Whether `count` is the source's own total (true) or an estimate from a sample (false).
    /// The compliance harness holds an extraction to exact counts.
    pub exact: bool,
}

/// Counts and sizes, read without crawling everything, for `scan`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceScan {
    /// Per kind.
    pub kinds: BTreeMap<RecordKind, KindCount>,
    /// Estimated attachment bytes, when the source can tell.
    pub attachment_bytes: Option<u64>,
    /// What the operator should know before a run (e.g. "42 conversations exceed 500 parts").
    pub notes: Vec<String>,
    /// Conversations read in full as a sample, each as the export would stage it: the base of
    /// the length distribution, the attachment estimate and a target's call prediction.
    #[serde(default)]
    pub conversation_sample: Vec<ConversationSample>,
    /// Contacts read from the first list page as a sample.
    #[serde(default)]
    pub contact_sample: ContactSample,
    /// The current agents' emails, to find those with no match in the target.
    #[serde(default)]
    pub agent_emails: Vec<String>,
    /// The custom attribute definitions, to find those a target must decide a type for.
    #[serde(default)]
    pub attributes: Vec<AttributeSeen>,
    /// What a full export is expected to cost at the source, when the source can tell.
    #[serde(default)]
    pub export: Option<ExportCost>,
}

impl SourceScan {
    /// How many records of `kind` the source holds (0 when the scan did not count them).
    pub fn count(&self, kind: RecordKind) -> u64 {
        self.kinds.get(&kind).map_or(0, |c| c.count)
    }
}

/// One sampled conversation, counted as the export would stage it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSample {
    /// Messages staged (the first message, replies, notes, events).
    pub messages: u64,
    /// Of those, replies written by the contact (they can be unread in a target).
    pub incoming: u64,
    /// Parts the source says the conversation has, when it says (before any cap).
    pub source_parts: Option<u64>,
    /// Whether the source withheld some of its parts (a cap on what one read returns).
    pub truncated: bool,
    /// Files and inline images.
    pub attachments: u64,
    /// Their bytes, as the source reports each file's size.
    pub attachment_bytes: u64,
    /// Messages that carry at least one file.
    pub messages_with_files: u64,
    /// Its state, e.g. `open`, `closed`, `snoozed`, `pending`.
    pub state: String,
    /// Whether it has an assignee.
    pub assigned: bool,
    /// Whether it belongs to a team.
    pub team: bool,
    /// Whether it has a priority.
    pub priority: bool,
    /// Its tags.
    pub tags: u64,
    /// The channel it came in by (e.g. `email`, `chat`), when known.
    pub channel: Option<String>,
}

/// Contacts read as a sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSample {
    /// Contacts in the sample.
    pub sampled: u64,
    /// Of those, contacts with at least one tag.
    pub tagged: u64,
}

/// A custom attribute definition as the source declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeSeen {
    /// Which records carry it.
    pub model: crate::model::AttributeModel,
    /// Its name at the source.
    pub name: String,
    /// Its value type at the source.
    pub data_type: crate::model::AttributeType,
}

/// What a full export is expected to cost at the source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportCost {
    /// API calls (reads; a search sent as POST is a read too).
    pub calls: u64,
    /// Files downloaded from the file hosts (not API calls, no budget).
    pub downloads: u64,
    /// The call budget the export keeps to.
    pub budget: CallBudget,
}

/// A call budget: a steady pace after a burst, as the polite HTTP client keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallBudget {
    /// Calls per minute.
    pub calls_per_minute: u64,
    /// Calls that may leave back to back before the pace applies.
    pub burst: u64,
}

impl CallBudget {
    /// Seconds `calls` take when the budget, not the network, sets the pace: the burst leaves
    /// at once, the rest at the steady rate.
    pub fn seconds(&self, calls: u64) -> f64 {
        if self.calls_per_minute == 0 {
            return 0.0;
        }
        calls.saturating_sub(self.burst) as f64 * 60.0 / self.calls_per_minute as f64
    }
}

/// What a load into a target will cost, predicted from a source's scan (`deskmove scan`), per
/// load path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadPrediction {
    /// The load path, e.g. `api`.
    pub path: &'static str,
    /// API calls per step (`preflight`, then kinds in load order); empty on a database path.
    pub calls: std::collections::BTreeMap<String, u64>,
    /// All of them.
    pub total_calls: u64,
    /// Rows written (a database path).
    pub rows: Option<u64>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// What else to expect.
    pub notes: Vec<String>,
}

/// A system deskmove reads from.
///
/// # Contract
/// - [`extract`](Source::extract) reads one stream from `resume` to its end and pushes it page by
///   page; it is **at-least-once**: after a crash the engine calls it again with the last
///   committed cursor, so the source may repeat the page after that cursor but must never skip
///   one. A stream whose stored cursor is at its end answers with what changed since (a delta) or
///   nothing.
/// - Everything the source says it has arrives: pages run to the vendor's real end, not to the
///   first short page unless the vendor documents that as the end.
/// - Per-record trouble goes into the page's [`Page::problems`], never into an `Err`, and is never
///   dropped: an `Err` ends the whole stream, and the engine then resumes it from its cursor
///   (transient kinds) or stops the run (others).
/// - The engine may run `extract` for several streams of one source at once (those with no
///   dependency between them); pacing is the polite HTTP client's job, never the source's.
/// - A source never sees the staging store; it cannot read back what it staged.
pub trait Source: Send + Sync {
    /// The source's failures. Wraps [`SinkError`] so `out.page(p).await?` works.
    type Error: Classify + std::error::Error + From<SinkError> + Send + Sync + 'static;

    /// Streams in dependency order; each name is stable forever.
    fn streams(&self) -> Vec<StreamSpec>;

    /// Counts and sizes without crawling everything; writes nothing anywhere.
    fn scan(&self) -> impl Future<Output = Result<SourceScan, Self::Error>> + Send;

    /// Reads `stream` from `resume` (`None`: from the start) to its end into `out`.
    fn extract(
        &self,
        stream: &StreamSpec,
        resume: Option<Cursor>,
        out: &mut impl PageSink,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

// ---------------------------------------------------------------------------------------------
// Target side
// ---------------------------------------------------------------------------------------------

/// What a source record is in one target instance: its key and the target's id for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TargetRef {
    /// The source record.
    pub key: SourceKey,
    /// The target's id for it, as the target writes it (e.g. `"1234"`).
    pub id: String,
}

/// Answers, from the ledger of one target instance, what a record already is there.
///
/// The engine fills it before each [`Target::load`] call with the batch's own records and every
/// record they reference ([`references`]), as the ledger stood when the batch started; records
/// loaded earlier in the same batch are not in it (a target that nests records of one kind keeps
/// track of those itself). Lookups are synchronous so the `map/` functions stay pure.
pub trait Resolve: Sync {
    /// What `key` is in this target instance, if it was loaded (or updated, or skipped with an
    /// id) there. `None` for a record never loaded or whose last attempt failed before creating it.
    fn target_ref(&self, key: &SourceKey) -> Option<TargetRef>;
}

/// What loading one record did, as a target reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    /// Created in the target — also when the target found a copy that a crashed earlier attempt
    /// created (by its source id) and the ledger did not know: this run now owns it, so a
    /// rollback of this run removes it.
    Loaded,
    /// Already in the target (the ledger knew it) and changed there.
    Updated,
    /// Deliberately not written, with a problem saying why (e.g. the mapping skips the agent),
    /// or already current in the target.
    Skipped,
    /// Could not be written; the problem says why. The next run tries again.
    Failed,
    /// Removed from the target by a rollback (a ledger state, never a target's answer): the
    /// ledger keeps no target id, hash or creating run for it, so a second rollback finds
    /// nothing to remove and the next load creates it again.
    Removed,
}

impl Outcome {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one record handed to [`Target::load`] or [`Target::remove`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadResult {
    /// The record.
    pub key: SourceKey,
    /// What happened.
    pub outcome: Outcome,
    /// The target's id for it: required for `loaded` and `updated`; for `skipped` when the record
    /// is in the target; optional for `failed`.
    pub target_id: Option<String>,
    /// Why it failed or was skipped, or what a successful write could not keep (a partial load:
    /// `loaded` plus a problem). Required for `failed` and for `skipped` without a target id.
    pub problem: Option<Problem>,
}

impl LoadResult {
    /// Created as `target_id`.
    pub fn loaded(key: SourceKey, target_id: impl Into<String>) -> Self {
        Self {
            key,
            outcome: Outcome::Loaded,
            target_id: Some(target_id.into()),
            problem: None,
        }
    }

    /// Changed in place at `target_id`.
    pub fn updated(key: SourceKey, target_id: impl Into<String>) -> Self {
        Self {
            key,
            outcome: Outcome::Updated,
            target_id: Some(target_id.into()),
            problem: None,
        }
    }

    /// Not written, for the reason in `problem`.
    pub fn skipped(problem: Problem) -> Self {
        Self {
            key: problem.key.clone(),
            outcome: Outcome::Skipped,
            target_id: None,
            problem: Some(problem),
        }
    }

    /// Not written because of `problem`.
    pub fn failed(problem: Problem) -> Self {
        Self {
            key: problem.key.clone(),
            outcome: Outcome::Failed,
            target_id: None,
            problem: Some(problem),
        }
    }

    /// This result, noting what the write could not keep.
    pub fn with_problem(mut self, problem: Problem) -> Self {
        self.problem = Some(problem);
        self
    }
}

/// What one aspect of the source becomes on this load path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    /// Kept as it was.
    Kept,
    /// Kept somewhere else (e.g. the original time in an attribute).
    Moved,
    /// Not kept.
    Lost,
}

/// One line of what a load path keeps, e.g. "message created_at: moved to content_attributes".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FidelityItem {
    /// The record kind concerned.
    pub kind: RecordKind,
    /// The canonical field or aspect, e.g. `created_at`, `author`, `attachments`.
    pub aspect: String,
    /// What becomes of it.
    pub keep: Keep,
    /// Where it goes or why it is lost, for the report and `docs/mapping`.
    pub note: String,
}

/// What a load path keeps and what it cannot, for the report and `docs/mapping`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fidelity {
    /// Record kinds this path can load at all; the engine hands it no other kind.
    pub kinds: Vec<RecordKind>,
    /// Aspects that are not simply kept.
    pub items: Vec<FidelityItem>,
    /// Whether this path writes a conversation together with its messages (a target that
    /// creates a conversation from its first message, or writes it as one transcript). Then the
    /// engine hands each new or changed conversation in the conversation batch immediately
    /// followed by its messages not yet current here, in thread order (by `created_at`, then
    /// key): one call of [`Target::load`] with kind `conversation` holds both kinds, and gets one
    /// result per record. The message pass afterwards hands only messages not attempted in that
    /// run: those of conversations that were already current (a delta) and those whose
    /// conversation is not staged.
    #[serde(default)]
    pub threads: bool,
}

/// What a preflight check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preflight {
    /// Side effects switched off by the check (e.g. "auto-assignment off on inbox 4").
    pub neutralised: Vec<String>,
    /// What the operator should know but does not block the run.
    pub warnings: Vec<String>,
    /// Reasons to refuse the run, each naming the setting to change. Empty means "go".
    pub refusals: Vec<String>,
}

impl Preflight {
    /// Whether the run may go ahead.
    pub fn ok(&self) -> bool {
        self.refusals.is_empty()
    }
}

/// One aspect of records already in a target that [`Target::resync`] writes again on its own,
/// after a source fix or a mapping change (`run --only labels|states`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Aspect {
    /// A conversation's labels: its tags under the current mapping (and the provenance label).
    Labels,
    /// A conversation's final state (status, snooze, assignee) under the current mapping.
    States,
}

impl Aspect {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for Aspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A system deskmove writes into, through one load path.
///
/// # Contract
/// - [`load`](Target::load) is **idempotent**: before creating a record it looks for what a
///   crashed earlier attempt may have created (by the source id it writes into the target), so
///   calling it again with the same records never makes a second copy. The engine calls it again
///   after any crash or `Err`, because a write and its ledger commit cannot be one transaction.
/// - One [`LoadResult`] per record handed in, in any order; per-record trouble is a `failed` (or
///   `skipped`) result with a [`Problem`], never an `Err` and never silent. An `Err` means the
///   batch as a whole could not be attempted (network, auth); the engine retries transient kinds
///   and stops on others, committing nothing of the batch.
/// - Calls come one batch at a time, kind by kind in [`RecordKind::ALL`] order (agents before the
///   conversations that name them); within a kind batches do not overlap. Pacing is the polite
///   HTTP client's job, never the target's.
/// - A target never sees the staging store; what other records are in the target comes through
///   [`Resolve`].
pub trait Target: Send + Sync {
    /// The target's failures.
    type Error: Classify + std::error::Error + Send + Sync + 'static;

    /// Vendor + host + account + load path: the ledger's key, so two accounts or two paths never
    /// mistake each other's rows for "already loaded".
    fn instance(&self) -> TargetInstance;

    /// What this path keeps and what it cannot.
    fn fidelity(&self) -> Fidelity;

    /// Records per [`load`](Self::load) call this path works best with; the CLI sizes load
    /// batches by it. A bulk path commits one transaction per call and wants thousands; an API
    /// path writes side by side within a call and wants enough to keep every lane busy to the
    /// end of the batch.
    fn batch_size(&self) -> usize {
        100
    }

    /// The mapping decisions that shape `record` on this path (agent match, attribute type, label
    /// slug, inbox, ...), as a hash; `None` when nothing but the record itself matters. The engine
    /// folds it into the ledger hash, so editing the mapping makes a re-run update exactly the
    /// records whose decisions changed. Must be cheap and deterministic.
    fn mapping_fingerprint(&self, record: &Record) -> Option<ContentHash> {
        let _ = record;
        None
    }

    /// Checks the target and neutralises side effects (notifications, automations,
    /// auto-assignment), or refuses naming the setting to change. Called once before any load.
    fn preflight(&self) -> impl Future<Output = Result<Preflight, Self::Error>> + Send;

    /// Loads `records`, all of `kind` (with [`Fidelity::threads`], conversations each followed by
    /// its messages), each new or changed since its ledger entry (see the trait docs). `refs` answers what records (these and the ones they reference) already are here.
    /// A ref may name an object that is gone (rolled back, or deleted by hand): then the record
    /// is created again and reported `loaded`, never failed for it.
    fn load(
        &self,
        kind: RecordKind,
        records: &[Record],
        refs: &impl Resolve,
    ) -> impl Future<Output = Result<Vec<LoadResult>, Self::Error>> + Send;

    /// Reads back what records became, in canonical terms, for `verify`. One record per ref that
    /// still exists (missing ones are left out); all refs are of `kind`.
    fn read_back(
        &self,
        kind: RecordKind,
        refs: &[TargetRef],
    ) -> impl Future<Output = Result<Vec<Record>, Self::Error>> + Send;

    /// Writes `aspect` again for `records` (conversations the ledger says are in this target),
    /// as the current records and mapping want it, and nothing else of them: no new records, no
    /// messages, no other field. Idempotent: a record whose aspect is already right is answered
    /// `skipped` with its target id and nothing is written. One [`LoadResult`] per record:
    /// `updated` when something was written, `failed` with a problem when it could not be.
    ///
    /// The default answers every record `skipped` with a problem saying this load path cannot
    /// re-sync the aspect.
    fn resync(
        &self,
        aspect: Aspect,
        records: &[Record],
        refs: &impl Resolve,
    ) -> impl Future<Output = Result<Vec<LoadResult>, Self::Error>> + Send {
        let _ = refs;
        let instance = self.instance();
        let out: Vec<LoadResult> = records
            .iter()
            .map(|r| {
                LoadResult::skipped(Problem::new(
                    r.key().clone(),
                    crate::problem::Stage::Load,
                    ErrorKind::Validation,
                    "resync_unsupported",
                    format!("The load path {instance} cannot re-sync {aspect}."),
                ))
            })
            .collect();
        async move { Ok(out) }
    }

    /// Removes what the ledger says this tool created (rollback); already gone counts as removed
    /// (`loaded` means "removed" here, `failed` carries the reason). Idempotent.
    fn remove(
        &self,
        created: &[TargetRef],
    ) -> impl Future<Output = Result<Vec<LoadResult>, Self::Error>> + Send;
}

/// Under this key of its `extra`, a conversation that [`Target::read_back`] returns may list the
/// source keys (`system:message:id`, as strings) of every message the target holds for it, in
/// the target's order, a key twice when the target holds two copies. `verify` uses it to find
/// messages the target has and should not, and messages out of order.
pub const READ_BACK_MESSAGES: &str = "read_back_messages";

/// Under this key of its `extra`, a conversation that [`Target::read_back`] returns may list the
/// target ids (as strings) of the labels it carries, for a target whose labels cannot name the
/// source tags they came from. `verify` then compares them with the target ids the ledger holds
/// for the staged tags, in place of the conversation's `tags`.
pub const READ_BACK_LABELS: &str = "read_back_labels";

/// The records `record` points at — its parents and the people and labels it names — which the
/// engine resolves through the ledger before handing it to a target.
pub fn references(record: &Record) -> Vec<&SourceKey> {
    let mut out = Vec::new();
    match record {
        Record::Agent(_) | Record::Tag(_) | Record::AttributeDefinition(_) | Record::Macro(_) => {}
        Record::Team(t) => out.extend(&t.members),
        Record::Company(c) => out.extend(&c.tags),
        Record::Contact(c) => {
            out.extend(&c.companies);
            out.extend(&c.tags);
        }
        Record::Collection(c) => out.extend(&c.parent),
        Record::Article(a) => {
            out.extend(&a.author);
            out.extend(&a.collection);
        }
        Record::Conversation(c) => {
            out.extend(&c.contacts);
            out.extend(&c.assignee);
            out.extend(&c.team);
            out.extend(&c.tags);
        }
        Record::Message(m) => {
            out.push(&m.conversation);
            out.extend(&m.author.key);
            if let Some(e) = &m.event {
                out.extend(&e.assigned_to);
            }
        }
        Record::Attachment(a) => out.push(&a.owner),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attachment, Tag};

    #[test]
    fn a_budget_sends_its_burst_at_once_then_keeps_its_pace() {
        let budget = CallBudget {
            calls_per_minute: 600,
            burst: 10,
        };
        assert_eq!(budget.seconds(10), 0.0);
        assert!((budget.seconds(110) - 10.0).abs() < 1e-9);
        assert_eq!(CallBudget::default().seconds(1_000), 0.0);
    }

    #[test]
    fn sink_error_kinds_decide_retries() {
        let e = SinkError::Store {
            kind: ErrorKind::Storage,
            message: "disk full".into(),
        };
        assert_eq!(e.kind(), ErrorKind::Storage);
        assert!(SinkError::Body("reset".into()).kind().is_transient());
        assert!(!SinkError::Aborted.kind().is_transient());
    }

    #[test]
    fn attachments_reference_their_owner_and_tags_nothing() {
        let owner = SourceKey::new("x", RecordKind::Message, "m1");
        let a = Record::Attachment(Attachment {
            key: SourceKey::new("x", RecordKind::Attachment, "a1"),
            owner: owner.clone(),
            file_name: "f.txt".into(),
            content_type: None,
            size: None,
            source_url: None,
            blob: None,
            extra: Default::default(),
        });
        assert_eq!(references(&a), vec![&owner]);
        let t = Record::Tag(Tag {
            key: SourceKey::new("x", RecordKind::Tag, "t"),
            name: "t".into(),
            extra: Default::default(),
        });
        assert!(references(&t).is_empty());
    }

    #[test]
    fn target_instance_lowercases_the_host() {
        let t = TargetInstance::new("chatwoot", "Chat.Example.COM", "1", "api");
        assert_eq!(t.to_string(), "chatwoot/chat.example.com/1/api");
    }
}
