//! The store's error type. Every failure maps onto a core [`ErrorKind`] so the engine decides what
//! to do without matching variants; messages never contain record bodies or credentials.

use std::sync::Arc;

use deskmove_core::{Classify, ErrorKind};

use crate::types::RunId;

/// Why a store operation failed.
///
/// `Clone` so the SQLite writer can report one failed group commit to every caller in the group.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("staging store: SQLite failed while {op}")]
    Sqlite {
        /// What the store was doing.
        op: &'static str,
        /// The SQLite error.
        #[source]
        source: Arc<rusqlite::Error>,
    },
    /// The schema migrations could not be applied.
    #[error("staging store: schema migration failed: {0}")]
    Migration(String),
    /// A file-system operation on the store's files failed.
    #[error("staging store: {op} `{path}` failed")]
    Io {
        /// What the store was doing.
        op: &'static str,
        /// The file concerned.
        path: String,
        /// The OS error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A record could not be (de)serialised.
    #[error("staging store: record {key} could not be (de)serialised")]
    Serde {
        /// The record's source key, as `system:kind:id`.
        key: String,
        /// The serde error.
        #[source]
        source: Arc<serde_json::Error>,
    },
    /// A write named a run that the store does not hold.
    #[error("staging store: run {0} does not exist (start it with `start_run` first)")]
    UnknownRun(RunId),
    /// The caller passed something the contract forbids.
    #[error("staging store: invalid input: {0}")]
    Invalid(String),
    /// The store holds a value it did not write (damaged file, foreign writer, newer schema).
    #[error("staging store: unexpected stored value: {0}")]
    Corrupt(String),
    /// The blob store (object storage) failed.
    #[error("blob store: {op} failed")]
    Blob {
        /// What the blob store was doing.
        op: &'static str,
        /// The object_store error.
        #[source]
        source: Arc<object_store::Error>,
    },
    /// A bug inside the store (a worker task died).
    #[error("staging store: internal error: {0}")]
    Internal(String),
    /// The store was closed, or its writer thread stopped.
    #[error("staging store: the store is closed")]
    Closed,
}

impl StoreError {
    pub(crate) fn sqlite(op: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
        move |source| StoreError::Sqlite {
            op,
            source: Arc::new(source),
        }
    }

    pub(crate) fn io(
        op: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.display().to_string();
        move |source| StoreError::Io {
            op,
            path,
            source: Arc::new(source),
        }
    }

    pub(crate) fn serde(key: &deskmove_core::SourceKey) -> impl FnOnce(serde_json::Error) -> Self {
        let key = key.to_string();
        move |source| StoreError::Serde {
            key,
            source: Arc::new(source),
        }
    }

    pub(crate) fn blob(op: &'static str) -> impl FnOnce(object_store::Error) -> Self {
        move |source| StoreError::Blob {
            op,
            source: Arc::new(source),
        }
    }
}

impl Classify for StoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Io { .. } => ErrorKind::Io,
            Self::Invalid(_) | Self::UnknownRun(_) | Self::Serde { .. } | Self::Internal(_) => {
                ErrorKind::Internal
            }
            Self::Blob { .. } => ErrorKind::Io,
            Self::Sqlite { .. } | Self::Migration(_) | Self::Corrupt(_) | Self::Closed => {
                ErrorKind::Storage
            }
        }
    }
}
