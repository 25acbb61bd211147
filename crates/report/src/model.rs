//! The report's data: what one run did, in plain serde types. `report.json` is exactly this.

use deskmove_core::connector::Keep;
use deskmove_core::{ErrorKind, RecordKind, SourceKey, Stage};
use deskmove_store::{RunId, RunStatus};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The version of the JSON layout; bumped when a field changes meaning or goes away.
pub const REPORT_FORMAT: u32 = 1;

/// Everything the report says about one run. Build it with [`Report::build`]; write it with
/// [`write`](crate::write) or render it with [`render_html`](crate::render_html).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_FORMAT`] when it was written.
    pub format: u32,
    /// When the report was built.
    pub generated_at: Timestamp,
    /// The run.
    pub run: RunInfo,
    /// Per phase the run went through (extract, load or rollback), per kind.
    pub phases: Vec<PhaseCounts>,
    /// The run's problems grouped by phase, record kind and code, most frequent first.
    pub problems: Vec<ProblemGroup>,
    /// Every record the run skipped or failed, with its reasons, in phase then key order.
    pub records: Vec<RecordIssue>,
    /// Records per time bucket, from the store's activity log.
    pub throughput: Throughput,
    /// What the target's load path could not keep, when the caller knew the target.
    pub fidelity: Option<FidelityReport>,
}

/// The run itself, as the store recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Its id.
    pub id: RunId,
    /// The command that ran, e.g. `run` or `rollback`.
    pub command: String,
    /// How it ended (or `running`).
    pub status: RunStatus,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished, if it did.
    pub finished_at: Option<Timestamp>,
    /// The source connector.
    pub source: Option<String>,
    /// The target instance, `vendor/host/account/path`, or the target connector's name for a
    /// run that recorded no instance.
    pub target: Option<String>,
}

/// One phase of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Reading the source into the staging store.
    Extract,
    /// Writing staged records into the target.
    Load,
    /// Removing what an earlier run created in the target.
    Rollback,
    /// Comparing the target with the source: only differences are counted (as failed).
    Verify,
}

impl Phase {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Extract => "extract",
            Phase::Load => "load",
            Phase::Rollback => "rollback",
            Phase::Verify => "verify",
        }
    }
}

/// What one phase did, per kind in load order (kinds it did nothing with are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseCounts {
    /// The phase.
    pub phase: Phase,
    /// Per kind.
    pub kinds: Vec<KindCounts>,
    /// The sum over every kind (its `kind` is `None`).
    pub total: KindCounts,
}

/// Outcome counts for one kind in one phase.
///
/// - extract: `loaded` = records whose content this run staged (new or changed), `failed` =
///   records the source could not give (a problem and nothing staged); `updated`/`skipped` are 0.
/// - load: the ledger outcomes this run recorded; `skipped` includes records the target skipped
///   without writing anything (they have a problem but no ledger entry).
/// - rollback: `loaded` = records removed from the target (or already gone), `failed` = records
///   the target could not remove.
/// - verify: `failed` = records whose copy in the target differs (a `verify` problem each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCounts {
    /// The kind; `None` for a total.
    pub kind: Option<RecordKind>,
    /// Created (extract: staged; rollback: removed).
    pub loaded: u64,
    /// Changed in place.
    pub updated: u64,
    /// Deliberately not written, with a reason.
    pub skipped: u64,
    /// Could not be taken, with a reason.
    pub failed: u64,
    /// Problems this phase recorded on records of this kind (including partial loads).
    pub problems: u64,
}

impl KindCounts {
    /// Adds `other`'s counts (not its kind).
    pub fn add(&mut self, other: &KindCounts) {
        self.loaded += other.loaded;
        self.updated += other.updated;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.problems += other.problems;
    }

    /// Whether every count is zero.
    pub fn is_empty(&self) -> bool {
        self.loaded + self.updated + self.skipped + self.failed + self.problems == 0
    }
}

/// Problems sharing a phase, record kind and code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemGroup {
    /// The phase that recorded them.
    pub phase: Phase,
    /// The record kind.
    pub kind: RecordKind,
    /// The stable code, e.g. `invalid_email`.
    pub code: String,
    /// How many records have it.
    pub count: u64,
    /// The reason of the first of them (in key order), for a person to read.
    pub example: String,
}

/// What happened to a record that was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueOutcome {
    /// Deliberately not written.
    Skipped,
    /// Could not be taken.
    Failed,
}

/// One record the run skipped or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordIssue {
    /// The phase.
    pub phase: Phase,
    /// The record.
    pub key: SourceKey,
    /// Skipped or failed.
    pub outcome: IssueOutcome,
    /// Why, one entry per problem the run recorded on it (at least one).
    pub reasons: Vec<Reason>,
}

/// One reason a record was not taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Where it was found.
    pub stage: Stage,
    /// The stable code.
    pub code: String,
    /// The sentence for a person.
    pub reason: String,
    /// The error kind, which says whether a later run may succeed on its own.
    pub error_kind: ErrorKind,
}

/// Records handled per time bucket, per phase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throughput {
    /// The first write's time; bucket `i` covers `[start + i·bucket_ms, start + (i+1)·bucket_ms)`.
    /// `None` when the run wrote nothing.
    pub start: Option<Timestamp>,
    /// The width of a bucket in milliseconds: a round value giving at most 60 buckets.
    pub bucket_ms: u64,
    /// One series per phase that wrote, each with a point for every bucket (zeros included).
    pub series: Vec<Series>,
}

/// One phase's records per bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    /// The phase.
    pub phase: Phase,
    /// One point per bucket, in time order.
    pub points: Vec<Point>,
}

/// One bucket of a [`Series`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// Milliseconds from [`Throughput::start`] to the bucket's start.
    pub offset_ms: u64,
    /// Records the phase committed in the bucket.
    pub records: u64,
    /// Problems among them.
    pub problems: u64,
}

/// What the target's load path could not keep, with how many of this run's records it touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FidelityReport {
    /// Aspects the path moves elsewhere or loses (those it keeps are left out).
    pub gaps: Vec<FidelityGap>,
    /// Kinds with staged records that this path cannot load at all.
    pub not_loadable: Vec<NotLoadable>,
}

/// One aspect the load path does not simply keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FidelityGap {
    /// The record kind.
    pub kind: RecordKind,
    /// The canonical field or aspect, e.g. `created_at`.
    pub aspect: String,
    /// Moved elsewhere or lost.
    pub keep: Keep,
    /// Where it goes or why it is lost.
    pub note: String,
    /// Records of the kind this run wrote (loaded or updated), each of which it concerns.
    pub records: u64,
}

/// A kind the load path cannot take at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotLoadable {
    /// The kind.
    pub kind: RecordKind,
    /// Records of it in the staging store, none of which reached the target.
    pub staged: u64,
}
