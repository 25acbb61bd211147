//! Staging throughput: how fast extraction can commit pages of messages (the bulk of a helpdesk:
//! ~10 per conversation) with their raw payloads, and how fast load can page them back.
//! `cargo bench -p deskmove-store` prints one line per configuration and writes them all to
//! `bench/results/store-staging.json`.

use std::sync::Arc;
use std::time::Instant;

use deskmove_core::model::{Author, AuthorKind, Message, MessageKind};
use deskmove_core::{Record, RecordKind, SourceKey};
use deskmove_store::{
    Durability, MemoryStore, NewRun, RawPayload, SqliteOptions, SqliteStore, StagedBatch, Store,
};

const MESSAGES: u64 = 60_000;
const PAGE: u64 = 100;

fn message(i: u64) -> Record {
    let key = SourceKey::new("intercom", RecordKind::Message, format!("{i:010}"));
    let body = format!(
        "<p>Hello, order #{i} is delayed. {}</p>",
        "We are sorry about that. ".repeat(12)
    );
    Record::Message(Message {
        key,
        conversation: SourceKey::new("intercom", RecordKind::Conversation, (i / 10).to_string()),
        kind: MessageKind::Reply,
        author: Author {
            kind: AuthorKind::Agent,
            key: Some(SourceKey::new("intercom", RecordKind::Agent, "42")),
            name: Some("Ana".into()),
            email: Some("ana@example.com".into()),
        },
        body_markdown: Some(body.replace("<p>", "").replace("</p>", "")),
        body_html: Some(body),
        inline_images: vec![],
        event: None,
        attachments: vec![],
        created_at: jiff::Timestamp::from_second(1_600_000_000 + i as i64).unwrap_or_default(),
        updated_at: None,
        extra: Default::default(),
    })
}

fn page(run: deskmove_store::RunId, stream: &str, n: u64) -> StagedBatch {
    let mut b = StagedBatch::new(run, stream);
    b.cursor = Some(n.to_string());
    b.records = (n * PAGE..(n + 1) * PAGE).map(message).collect();
    b.raw = b
        .records
        .iter()
        .map(|r| {
            let json = serde_json::to_vec(r).unwrap_or_default();
            RawPayload::new(r.key().clone(), json)
        })
        .collect();
    b
}

async fn stage<S: Store>(name: &str, store: Arc<S>, streams: u64) -> serde_json::Value {
    let run = store
        .start_run(NewRun {
            command: "bench".into(),
            source_system: None,
            target_system: None,
            target: None,
            started_at: jiff::Timestamp::UNIX_EPOCH,
        })
        .await
        .unwrap();
    let pages = MESSAGES / PAGE;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..streams {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for n in (s..pages).step_by(streams as usize) {
                store
                    .put_batch(page(run, &format!("bench/{s}"), n))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let staged = started.elapsed();
    let started = Instant::now();
    let (mut after, mut read) = (None, 0u64);
    loop {
        let got = store
            .records(RecordKind::Message, after.as_ref(), 500)
            .await
            .unwrap();
        let Some(last) = got.last() else { break };
        after = Some(last.record.key().clone());
        read += got.len() as u64;
    }
    assert_eq!(read, MESSAGES);
    let paged = started.elapsed();
    println!(
        "{name:<28} {streams} stream(s): stage {:>7.0} msg/s ({:.2} s), page back {:>7.0} msg/s",
        MESSAGES as f64 / staged.as_secs_f64(),
        staged.as_secs_f64(),
        MESSAGES as f64 / paged.as_secs_f64(),
    );
    serde_json::json!({
        "store": name,
        "streams": streams,
        "messages": MESSAGES,
        "stage_msgs_per_sec": (MESSAGES as f64 / staged.as_secs_f64()).round(),
        "page_back_msgs_per_sec": (MESSAGES as f64 / paged.as_secs_f64()).round(),
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("{MESSAGES} messages (~1 KB canonical + ~1 KB raw each), pages of {PAGE}");
    let mut results = vec![stage("memory", Arc::new(MemoryStore::new()), 1).await];
    for (label, durability) in [
        ("sqlite synchronous=NORMAL", Durability::Normal),
        ("sqlite synchronous=FULL", Durability::Full),
    ] {
        for streams in [1, 4] {
            let dir = tempfile::tempdir().unwrap();
            let options = SqliteOptions {
                durability,
                ..SqliteOptions::default()
            };
            let store = SqliteStore::open_with(dir.path().join("bench.db"), options).unwrap();
            results.push(stage(label, Arc::new(store), streams).await);
        }
    }
    let doc = serde_json::json!({
        "benchmark": "store-staging",
        "page_size": PAGE,
        "machine_cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "date": jiff::Timestamp::now().to_string(),
        "results": results,
    });
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../bench/results/store-staging.json"
    );
    std::fs::write(
        path,
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n",
    )
    .unwrap();
    println!("wrote bench/results/store-staging.json");
}
