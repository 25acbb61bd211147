//! Why a report could not be built or written.

use std::path::PathBuf;

use deskmove_core::{Classify, ErrorKind};
use deskmove_store::{RunId, StoreError};

/// Why a report could not be built or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Reading the staging store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store has no such run.
    #[error("the staging store has no run {0}; `deskmove status` lists the runs")]
    UnknownRun(RunId),
    /// Writing a report file failed.
    #[error("cannot write the report file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The report could not be serialised (a bug).
    #[error("cannot serialise the report: {0}")]
    Json(#[from] serde_json::Error),
}

impl Classify for ReportError {
    fn kind(&self) -> ErrorKind {
        match self {
            ReportError::Store(e) => e.kind(),
            ReportError::UnknownRun(_) => ErrorKind::Config,
            ReportError::Io { .. } => ErrorKind::Io,
            ReportError::Json(_) => ErrorKind::Internal,
        }
    }
}
