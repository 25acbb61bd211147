//! The extract and load phases, written once for every source/target pair.
//!
//! Connectors implement the seams of [`deskmove_core::connector`]; the [`Engine`] owns the
//! staging store, the order, the concurrency and the retry budget around them:
//!
//! - [`Engine::extract`] runs a [`Source`](deskmove_core::Source)'s streams in dependency order,
//!   several at once when nothing orders them, each resumed from its stored cursor, and commits
//!   every page (records, raw payloads, problems, cursor) in one store transaction.
//! - [`Engine::load`] walks the staged records kind by kind in [`RecordKind::ALL`] order, skips a
//!   record whose ledger hash is current, hands the rest to the
//!   [`Target`](deskmove_core::Target) with a [`Resolve`](deskmove_core::Resolve) over the ledger,
//!   and commits each batch's outcomes and problems in one transaction.
//! - [`Engine::rollback`] removes what a run created, in reverse load order.
//!
//! The engine never sleeps or paces itself: a transient failure that escaped the connector's
//! polite HTTP client is retried at once, and the client's shared budget does the waiting.
//!
//! [`RecordKind::ALL`]: deskmove_core::RecordKind::ALL

#![deny(missing_docs)]

mod error;
mod extract;
mod load;
mod progress;
mod resync;
mod rollback;
mod select;
mod verify;

#[cfg(feature = "testkit")]
pub mod testkit;

use deskmove_store::{BlobStore, Store};

pub use error::EngineError;
pub use extract::{ExtractReport, StreamReport};
pub use load::{LedgerRefs, LoadReport, ledger_hash};
pub use progress::{LoadCounts, Observer, Progress, Quiet, Recorder};
pub use resync::ResyncReport;
pub use rollback::RollbackReport;
pub use select::{Chosen, Selection, channel};
pub use verify::{
    Compared, DEFAULT_SAMPLE, DeepReport, Difference, Found, Mismatch, Staged, Truncated,
    Unresolved, VerifyOptions, compare, normalise_body, spread,
};

/// How hard the engine pushes and how long it persists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// Source streams extracted at once (at least 1). Their calls still share the per-host
    /// budget of the source's polite client, so this bounds work in flight, not the rate.
    pub concurrency: usize,
    /// Attempts per stream or target batch before a transient failure stops the phase (at
    /// least 1). A retried stream resumes from its last committed cursor.
    pub attempts: u32,
    /// Staged records handed to one [`Target::load`](deskmove_core::Target::load) call and
    /// committed in one ledger transaction (at least 1).
    pub batch_size: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            attempts: 5,
            batch_size: 100,
        }
    }
}

/// Drives connectors against one staging store and blob store.
///
/// Cheap to build; holds only references. Every phase takes the run it writes for, started by
/// the caller with [`Store::start_run`] (one run may cover an extract and a load), so a fresh
/// `Engine` over the same store after a crash simply continues.
pub struct Engine<'a, St: Store> {
    store: &'a St,
    blobs: &'a BlobStore,
    observer: &'a dyn Observer,
    options: EngineOptions,
}

// By hand: a derive would ask `St: Clone`, and an engine holds only references.
impl<St: Store> Clone for Engine<'_, St> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<St: Store> Copy for Engine<'_, St> {}

impl<St: Store> std::fmt::Debug for Engine<'_, St> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<'a, St: Store> Engine<'a, St> {
    /// An engine over `store` and `blobs`, with default options and no observer.
    pub fn new(store: &'a St, blobs: &'a BlobStore) -> Self {
        Self {
            store,
            blobs,
            observer: &Quiet,
            options: EngineOptions::default(),
        }
    }

    /// These options (values below 1 count as 1).
    pub fn with_options(mut self, options: EngineOptions) -> Self {
        self.options = EngineOptions {
            concurrency: options.concurrency.max(1),
            attempts: options.attempts.max(1),
            batch_size: options.batch_size.max(1),
        };
        self
    }

    /// Sends progress events to `observer`.
    pub fn with_observer(mut self, observer: &'a dyn Observer) -> Self {
        self.observer = observer;
        self
    }

    /// The options in use.
    pub fn options(&self) -> EngineOptions {
        self.options
    }
}
