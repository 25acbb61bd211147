//! Test helper for `tests/crash.rs`: writes a fixed sequence of batches to a SQLite store, two
//! streams concurrently, resuming from the stored cursors — so it can be SIGKILLed at any moment
//! and restarted until done. Batch `n` of a stream holds records `n*k .. n*k+k-1` (plus their raw
//! payloads and one problem) and sets the cursor to `n`, which makes the atomicity checkable.
//!
//! Usage: `deskmove-store-crash-writer <store.db> <batches per stream> <records per batch>`
//! Prints `ready` once the store is open and resumed, `ack <stream> <n>` after each batch is
//! committed, and `done` when everything is written.

use std::io::Write;
use std::sync::Arc;

use deskmove_core::model::{Agent, Tag};
use deskmove_core::{ErrorKind, Problem, Record, RecordKind, SourceKey, Stage};
use deskmove_store::{
    NewRun, RawPayload, RunId, RunStatus, SqliteStore, StagedBatch, Store, StoreError,
};

/// The two streams and the kind each writes (tests/crash.rs checks the same).
const STREAMS: [(&str, RecordKind); 2] =
    [("crash/a", RecordKind::Tag), ("crash/b", RecordKind::Agent)];

fn record(kind: RecordKind, i: u64) -> Record {
    let key = SourceKey::new("crashtest", kind, format!("{i:08}"));
    // Some bulk, so a batch spans several pages and a kill can land in the middle of writing it.
    let name = format!("record {i} {}", "lorem ipsum ".repeat(12));
    match kind {
        RecordKind::Tag => Record::Tag(Tag {
            key,
            name,
            extra: Default::default(),
        }),
        _ => Record::Agent(Agent {
            key,
            name: Some(name),
            email: Some(format!("agent{i}@example.com")),
            active: !i.is_multiple_of(3),
            extra: Default::default(),
        }),
    }
}

fn batch(run: RunId, stream: &str, kind: RecordKind, n: u64, k: u64) -> StagedBatch {
    let mut b = StagedBatch::new(run, stream);
    b.cursor = Some(n.to_string());
    b.records = (n * k..n * k + k).map(|i| record(kind, i)).collect();
    b.raw = b
        .records
        .iter()
        .map(|r| {
            RawPayload::new(
                r.key().clone(),
                format!(
                    "{{\"id\":\"{}\",\"pad\":\"{}\"}}",
                    r.key().id,
                    "x".repeat(200)
                ),
            )
        })
        .collect();
    b.problems = vec![Problem::new(
        b.records[0].key().clone(),
        Stage::Normalize,
        ErrorKind::Validation,
        "crash_test",
        format!("first record of batch {n}"),
    )];
    b
}

async fn write_stream(
    store: Arc<SqliteStore>,
    run: RunId,
    stream: &'static str,
    kind: RecordKind,
    batches: u64,
    k: u64,
) -> Result<(), StoreError> {
    let next = match store.cursor(stream).await? {
        Some(c) => c.parse::<u64>().map_err(|_| StoreError::Corrupt(c))? + 1,
        None => 0,
    };
    for n in next..batches {
        store.put_batch(batch(run, stream, kind, n, k)).await?;
        // Acknowledged: from here on the batch must survive a SIGKILL.
        writeln!(std::io::stdout().lock(), "ack {stream} {n}")
            .map_err(|e| StoreError::Internal(e.to_string()))?;
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, batches, k] = args.as_slice() else {
        return Err("usage: deskmove-store-crash-writer <store.db> <batches per stream> <records per batch>".into());
    };
    let (batches, k): (u64, u64) = (batches.parse()?, k.parse()?);
    let store = Arc::new(SqliteStore::open(path)?);
    // Resume the interrupted run, so the final state is the same as one uninterrupted run's.
    let runs = store.runs().await?;
    let run = match runs.first() {
        Some(r) if r.status == RunStatus::Succeeded => {
            println!("done");
            return Ok(());
        }
        Some(r) => r.id,
        None => {
            store
                .start_run(NewRun {
                    command: "crash-writer".into(),
                    source_system: Some("crashtest".into()),
                    target_system: None,
                    target: None,
                    started_at: "2026-01-01T00:00:00Z".parse()?,
                })
                .await?
        }
    };
    println!("ready");
    std::io::stdout().flush()?;
    let mut tasks = Vec::new();
    for (stream, kind) in STREAMS {
        tasks.push(tokio::spawn(write_stream(
            Arc::clone(&store),
            run,
            stream,
            kind,
            batches,
            k,
        )));
    }
    for t in tasks {
        t.await??;
    }
    store
        .finish_run(run, RunStatus::Succeeded, "2026-01-01T01:00:00Z".parse()?)
        .await?;
    Arc::into_inner(store)
        .ok_or("store still shared")?
        .close()?;
    println!("done");
    Ok(())
}
