//! deskmove's staging store and blob store.
//!
//! Everything a migration reads is staged here before anything is written to the target: runs,
//! raw payloads as received, canonical records, stream cursors, the ledger (what each source
//! record became in the target), per-record problems and the attachment blob index. The
//! [`Store`] trait states the contract; [`MemoryStore`] is the reference implementation and
//! [`SqliteStore`] the embedded durable one. [`BlobStore`] keeps attachment bytes, addressed by
//! their blake3 hash. See `../shared/DESIGN.md` §3.

#![deny(missing_docs)]

mod blob;
mod error;
mod memory;
mod rows;
mod sqlite;
mod store;
mod types;

pub use blob::{BlobStore, S3Config, blob_hash};
pub use error::StoreError;
pub use memory::MemoryStore;
pub use sqlite::{ArchiveHit, Durability, SqliteOptions, SqliteStore};
pub use store::Store;
pub use types::{
    Activity, ActivityPhase, BlobMeta, CursorState, Dump, KindStatus, LedgerEntry, LoadBatch,
    NewRun, Outcome, ProblemGroup, RawPayload, Run, RunId, RunStatus, StagedBatch, StatusReport,
    StoredProblem, StoredRaw, StoredRecord, ThreadPosition,
};
