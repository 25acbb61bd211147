//! The engine's error: what stopped a phase. Per-record trouble never ends up here; it becomes a
//! stored problem and the phase goes on.

use deskmove_core::{Classify, ErrorKind, RecordKind};
use deskmove_store::StoreError;

/// A connector error with its type erased, keeping its kind.
type Boxed = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why an engine phase stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The staging store or the blob store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A source stream failed (after every attempt the engine's retry budget allows).
    #[error("source stream `{stream}` failed ({kind}) after {attempts} attempt(s)")]
    Source {
        /// The stream.
        stream: String,
        /// The failure's kind.
        kind: ErrorKind,
        /// Attempts made.
        attempts: u32,
        /// The source's error.
        #[source]
        source: Boxed,
    },
    /// A target call failed for a whole batch (after every attempt allowed).
    #[error(
        "target {target}: loading {kind} records failed ({error_kind}) after {attempts} attempt(s)"
    )]
    Target {
        /// The target instance, as `vendor/host/account/path`.
        target: String,
        /// The record kind being loaded or removed.
        kind: RecordKind,
        /// The failure's kind.
        error_kind: ErrorKind,
        /// Attempts made.
        attempts: u32,
        /// The target's error.
        #[source]
        source: Boxed,
    },
    /// The source's stream list cannot be run: a duplicate name, an unknown dependency or a cycle.
    #[error("the source's streams cannot be ordered: {0}")]
    Plan(String),
}

impl Classify for EngineError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Store(e) => e.kind(),
            Self::Source { kind, .. } => *kind,
            Self::Target { error_kind, .. } => *error_kind,
            Self::Plan(_) => ErrorKind::Internal,
        }
    }
}
