//! Progress events, so the CLI can draw bars and the report can chart throughput without the
//! engine knowing about terminals. Events are sent synchronously from the phase's own task: an
//! observer must return quickly (push to a channel, bump counters) and never block.

use deskmove_core::{ErrorKind, RecordKind};

/// Outcome counts of loading (or removing) one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadCounts {
    /// Created in the target.
    pub loaded: u64,
    /// Changed in the target.
    pub updated: u64,
    /// Not written by the target's choice, with a reason.
    pub skipped: u64,
    /// Could not be written; a problem says why.
    pub failed: u64,
    /// Not handed to the target at all: the ledger hash says the target already holds this
    /// content under this mapping.
    pub unchanged: u64,
    /// Problems recorded (failures, skips and partial loads).
    pub problems: u64,
}

impl LoadCounts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: &LoadCounts) {
        self.loaded += other.loaded;
        self.updated += other.updated;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.unchanged += other.unchanged;
        self.problems += other.problems;
    }

    /// Records written to the target (loaded + updated).
    pub fn written(&self) -> u64 {
        self.loaded + self.updated
    }
}

/// Something a phase did that a progress display or report may show.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// A source stream started; `resumed` when it continues from a stored cursor.
    StreamStarted {
        /// The stream.
        stream: String,
        /// Whether a stored cursor was found.
        resumed: bool,
    },
    /// One page of a stream is committed.
    PageCommitted {
        /// The stream.
        stream: String,
        /// Canonical records in the page.
        records: usize,
        /// Raw payloads in the page.
        raw: usize,
        /// Problems in the page.
        problems: usize,
    },
    /// A file's bytes are in the blob store.
    BlobStored {
        /// The stream that fetched it.
        stream: String,
        /// Its size.
        bytes: u64,
    },
    /// A stream failed with a transient error and resumes from its last committed cursor.
    StreamRetrying {
        /// The stream.
        stream: String,
        /// The attempt about to start (2 for the first retry).
        attempt: u32,
        /// Why the previous attempt failed.
        kind: ErrorKind,
    },
    /// A stream reached its end.
    StreamFinished {
        /// The stream.
        stream: String,
        /// Pages committed by this run.
        pages: u64,
        /// Records committed by this run.
        records: u64,
        /// Problems committed by this run.
        problems: u64,
    },
    /// Loading (or removing) a kind started.
    KindStarted {
        /// The kind.
        kind: RecordKind,
    },
    /// One load batch is committed to the ledger.
    BatchCommitted {
        /// The kind.
        kind: RecordKind,
        /// What the batch did.
        counts: LoadCounts,
    },
    /// A target batch failed with a transient error and is attempted again.
    BatchRetrying {
        /// The kind.
        kind: RecordKind,
        /// The attempt about to start.
        attempt: u32,
        /// Why the previous attempt failed.
        error: ErrorKind,
    },
    /// Loading (or removing) a kind finished.
    KindFinished {
        /// The kind.
        kind: RecordKind,
        /// Totals for the kind.
        counts: LoadCounts,
    },
}

/// Receives [`Progress`] events. Called from the engine's task; must not block.
pub trait Observer: Send + Sync {
    /// One event.
    fn event(&self, event: &Progress);
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {
    fn event(&self, _: &Progress) {}
}

/// Sends each event down a channel (e.g. to the CLI's rendering thread); a closed channel is
/// ignored, since progress must never stop a run.
impl Observer for std::sync::mpsc::Sender<Progress> {
    fn event(&self, event: &Progress) {
        let _ = self.send(event.clone());
    }
}

/// Collects every event, for tests and reports.
#[derive(Debug, Default)]
pub struct Recorder {
    events: std::sync::Mutex<Vec<Progress>>,
}

impl Recorder {
    /// Every event so far, in order.
    pub fn events(&self) -> Vec<Progress> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Observer for Recorder {
    fn event(&self, event: &Progress) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event.clone());
    }
}
