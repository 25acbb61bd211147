//! The harness passes against the reference doubles, on the memory store and on SQLite.

use deskmove_engine::testkit::{
    MemoryTargetState, assert_source_compliance, assert_target_compliance,
};
use tempfile::TempDir;

use crate::support::{self, fixture, source, target};

#[tokio::test]
async fn memory_source_complies_on_the_memory_store() {
    let dir = TempDir::new().unwrap();
    let src = source();
    let expected = src.expected();
    let report =
        assert_source_compliance(|| src.clone(), || support::memory(&dir), &expected).await;
    // 11 pages: full run, re-run, 4 fault runs and a crash at each of the 12 boundaries.
    assert_eq!(report.pages, src.pages());
    assert_eq!(report.scenarios, 2 + 4 + src.pages() + 1);
}

#[tokio::test]
async fn memory_source_complies_on_sqlite() {
    let dir = TempDir::new().unwrap();
    let src = source();
    let expected = src.expected();
    let report =
        assert_source_compliance(|| src.clone(), || support::sqlite(&dir), &expected).await;
    assert_eq!(report.pages, src.pages());
}

#[tokio::test]
async fn memory_target_complies_on_the_memory_store() {
    let dir = TempDir::new().unwrap();
    let report = assert_target_compliance(
        || async { MemoryTargetState::new() },
        target,
        || support::memory(&dir),
        &fixture(),
        3,
    )
    .await;
    // 2 agents, 2 tags, 6 contacts, 6 conversations, 12 messages, 6 attachments in threes.
    assert_eq!(report.calls, 1 + 1 + 2 + 2 + 4 + 2);
}

#[tokio::test]
async fn memory_target_complies_on_sqlite() {
    let dir = TempDir::new().unwrap();
    let report = assert_target_compliance(
        || async { MemoryTargetState::new() },
        target,
        || support::sqlite(&dir),
        &fixture(),
        3,
    )
    .await;
    assert_eq!(report.calls, 12);
}
