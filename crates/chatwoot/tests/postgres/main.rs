//! The Chatwoot PostgreSQL load path against a real PostgreSQL holding Chatwoot's schema
//! (`specs/chatwoot/schema.sql`, one fresh database per test; see `support`).

mod compliance;
mod load;
mod rollback;
mod schema;
mod support;
mod world;

use deskmove_chatwoot::load::PostgresTarget;
use deskmove_core::{Record, Target};
use deskmove_engine::{Engine, EngineOptions, LoadReport};
use deskmove_store::{BlobStore, MemoryStore, NewRun, RunId, StagedBatch, Store};

/// Stages `records` in a fresh memory store and loads them through the engine, as `deskmove
/// import` does: preflight, then the load phase.
pub async fn stage(records: &[Record]) -> (MemoryStore, RunId) {
    let store = MemoryStore::new();
    let run = start(&store, "export").await;
    for chunk in records.chunks(500) {
        let mut batch = StagedBatch::new(run, "test/world");
        batch.records = chunk.to_vec();
        store.put_batch(batch).await.unwrap();
    }
    (store, run)
}

pub async fn start(store: &MemoryStore, command: &str) -> RunId {
    store
        .start_run(NewRun {
            command: command.into(),
            source_system: Some("synth".into()),
            target_system: Some("chatwoot".into()),
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap()
}

pub async fn load(
    store: &MemoryStore,
    staging: &BlobStore,
    target: &PostgresTarget,
    batch_size: usize,
) -> (RunId, LoadReport) {
    let pre = target.preflight().await.unwrap();
    assert!(pre.ok(), "preflight refused: {:?}", pre.refusals);
    let run = start(store, "import").await;
    let engine = Engine::new(store, staging).with_options(EngineOptions {
        concurrency: 1,
        attempts: 3,
        batch_size,
    });
    let report = engine.load(run, target).await.unwrap();
    (run, report)
}

pub async fn rollback(
    store: &MemoryStore,
    staging: &BlobStore,
    target: &PostgresTarget,
    of: RunId,
) {
    let run = start(store, "rollback").await;
    Engine::new(store, staging)
        .rollback(run, of, target)
        .await
        .unwrap();
}
