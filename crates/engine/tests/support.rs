//! Staging areas on both stores, and the world every test uses.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use deskmove_core::{ErrorKind, Problem, Record, RecordKind, SourceKey, Stage};
use deskmove_engine::testkit::world::{World, world};
use deskmove_engine::testkit::{
    MemorySource, MemoryTarget, MemoryTargetState, Staging, TargetFixture,
};
use deskmove_store::{BlobStore, MemoryStore, SqliteStore};
use tempfile::TempDir;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh memory store with blobs under `dir`.
pub fn memory(dir: &TempDir) -> Staging<MemoryStore> {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    Staging {
        store: MemoryStore::new(),
        blobs: BlobStore::local(dir.path().join(format!("blobs-{n}"))).unwrap(),
    }
}

/// A fresh SQLite store file and blob directory under `dir`.
pub fn sqlite(dir: &TempDir) -> Staging<SqliteStore> {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    Staging {
        store: SqliteStore::open(dir.path().join(format!("store-{n}.sqlite"))).unwrap(),
        blobs: BlobStore::local(dir.path().join(format!("blobs-{n}"))).unwrap(),
    }
}

pub fn small_world() -> World {
    world("memory", 6)
}

pub fn key(kind: RecordKind, id: &str) -> SourceKey {
    SourceKey::new("memory", kind, id)
}

/// The world in pages of 4, with one problem on a staged contact and one on a conversation
/// that could not be read at all.
pub fn source() -> MemorySource {
    MemorySource::from_world(&small_world(), 4)
        .plant_problem(Problem::new(
            key(RecordKind::Contact, "p001"),
            Stage::Normalize,
            ErrorKind::Validation,
            "invalid_email",
            "The email `c1@` is not valid; kept as the original.",
        ))
        .plant_problem(Problem::new(
            key(RecordKind::Conversation, "c999"),
            Stage::Extract,
            ErrorKind::NotFound,
            "not_found",
            "The conversation was listed but could not be retrieved.",
        ))
}

/// The contact every target test refuses.
pub fn refused() -> SourceKey {
    key(RecordKind::Contact, "p002")
}

pub fn fixture() -> TargetFixture {
    TargetFixture {
        records: small_world().records,
        refused: BTreeSet::from([refused()]),
    }
}

pub fn target(state: &MemoryTargetState) -> MemoryTarget {
    MemoryTarget::new(state.clone(), "1", "api").refusing([refused()])
}

pub fn records_of(kind: RecordKind) -> Vec<Record> {
    small_world()
        .records
        .into_iter()
        .filter(|r| r.kind() == kind)
        .collect()
}
