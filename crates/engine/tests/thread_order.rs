//! Messages reach the target in the order they were written, whatever order the source's ids
//! have and however batches split a conversation; a thread target gets each conversation with
//! its messages in one call. Regression: a source's comment ids need not follow time, and a target
//! that numbers what it receives showed a conversation's messages out of order.

use std::collections::BTreeMap;

use deskmove_core::{Record, RecordKind, SourceKey};
use deskmove_engine::testkit::{MemoryTargetState, Write, assert_target_compliance};
use deskmove_engine::{Engine, EngineOptions};
use deskmove_store::{NewRun, Store};
use jiff::{SignedDuration, Timestamp};
use tempfile::TempDir;

use crate::support::{self, fixture, small_world, target};

fn new_run() -> NewRun {
    NewRun {
        command: "run".into(),
        source_system: Some("memory".into()),
        target_system: Some("memory".into()),
        target: None,
        started_at: Timestamp::now(),
    }
}

/// The small world with each conversation's messages written in the reverse of their id order.
fn world_with_ids_against_time() -> Vec<Record> {
    let mut records = small_world().records;
    let base = Timestamp::from_second(1_700_000_000).unwrap();
    let mut n: BTreeMap<SourceKey, i64> = BTreeMap::new();
    for r in records.iter_mut().rev() {
        if let Record::Message(m) = r {
            let i = n.entry(m.conversation.clone()).or_default();
            *i += 1;
            m.created_at = base + SignedDuration::from_secs(*i * 60);
        }
    }
    records
}

/// Per conversation, the messages as the target created them.
fn created_order(state: &MemoryTargetState) -> BTreeMap<SourceKey, Vec<SourceKey>> {
    let mut out: BTreeMap<SourceKey, Vec<SourceKey>> = BTreeMap::new();
    for w in state.writes() {
        if let Write::Create(key, id) = w
            && let Some(Record::Message(m)) = state.record(&id)
        {
            out.entry(m.conversation.clone()).or_default().push(key);
        }
    }
    out
}

/// Per conversation, the messages in the order they were written.
fn time_order(records: &[Record]) -> BTreeMap<SourceKey, Vec<SourceKey>> {
    let mut messages: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Message(m) => Some((m.conversation.clone(), m.created_at, m.key.clone())),
            _ => None,
        })
        .collect();
    messages.sort();
    let mut out: BTreeMap<SourceKey, Vec<SourceKey>> = BTreeMap::new();
    for (c, _, k) in messages {
        out.entry(c).or_default().push(k);
    }
    out
}

async fn load_in_batches_of_one<St: Store>(
    staging: &deskmove_engine::testkit::Staging<St>,
    records: Vec<Record>,
    threads: bool,
) -> (MemoryTargetState, deskmove_engine::LoadReport) {
    let run = staging.store.start_run(new_run()).await.unwrap();
    let mut batch = deskmove_store::StagedBatch::new(run, "test/fixture");
    batch.records = records;
    staging.store.put_batch(batch).await.unwrap();
    let engine = Engine::new(&staging.store, &staging.blobs).with_options(EngineOptions {
        batch_size: 1,
        ..EngineOptions::default()
    });
    let state = MemoryTargetState::new();
    let t = if threads {
        target(&state).with_threads()
    } else {
        target(&state)
    };
    let report = engine.load(run, &t).await.unwrap();
    (state, report)
}

#[tokio::test]
async fn messages_load_in_the_order_they_were_written_on_both_stores() {
    let records = world_with_ids_against_time();
    let want = time_order(&records);
    assert!(
        want.values().any(|ks| ks.windows(2).any(|w| w[0] > w[1])),
        "the fixture must put some ids against time"
    );
    let dir = TempDir::new().unwrap();
    let (state, _) = load_in_batches_of_one(&support::memory(&dir), records.clone(), false).await;
    assert_eq!(created_order(&state), want, "memory store");
    let (state, _) = load_in_batches_of_one(&support::sqlite(&dir), records, false).await;
    assert_eq!(created_order(&state), want, "SQLite store");
}

#[tokio::test]
async fn a_thread_target_gets_each_conversation_with_its_messages_in_one_call() {
    let records = world_with_ids_against_time();
    let want = time_order(&records);
    let messages = want.values().map(Vec::len).sum::<usize>() as u64;
    let dir = TempDir::new().unwrap();
    let staging = support::sqlite(&dir);
    let (state, report) = load_in_batches_of_one(&staging, records, true).await;
    assert_eq!(created_order(&state), want);
    let counts: BTreeMap<RecordKind, _> = report.kinds.iter().copied().collect();
    assert_eq!(counts[&RecordKind::Message].loaded, messages, "{report:?}");
    assert_eq!(counts[&RecordKind::Message].unchanged, 0, "{report:?}");
    // One call per conversation (batches of one) and none in the message pass: the calls are
    // those of the other kinds plus one per conversation.
    let conversations = want.len() as u64;
    let others = report
        .kinds
        .iter()
        .filter(|(k, _)| !matches!(k, RecordKind::Conversation | RecordKind::Message))
        .map(|(_, c)| c.loaded + c.failed + c.skipped + c.updated)
        .sum::<u64>();
    assert_eq!(state.load_calls(), others + conversations);
}

#[tokio::test]
async fn a_later_message_of_a_loaded_conversation_goes_in_the_message_pass() {
    let mut records = world_with_ids_against_time();
    let dir = TempDir::new().unwrap();
    let staging = support::sqlite(&dir);
    let (state, _) = load_in_batches_of_one(&staging, records.clone(), true).await;
    let before = state.writes().len();

    // The source gains one reply in a conversation already in the target.
    let mut reply = records
        .iter()
        .find_map(|r| match r {
            Record::Message(m) => Some(m.clone()),
            _ => None,
        })
        .unwrap();
    reply.key.id = "late-reply".into();
    reply.created_at = Timestamp::from_second(1_800_000_000).unwrap();
    records.push(Record::Message(reply.clone()));
    let run = staging.store.start_run(new_run()).await.unwrap();
    let mut batch = deskmove_store::StagedBatch::new(run, "test/delta");
    batch.records = vec![Record::Message(reply.clone())];
    staging.store.put_batch(batch).await.unwrap();
    let engine = Engine::new(&staging.store, &staging.blobs);
    let report = engine
        .load(run, &target(&state).with_threads())
        .await
        .unwrap();
    let counts: BTreeMap<RecordKind, _> = report.kinds.iter().copied().collect();
    assert_eq!(counts[&RecordKind::Message].loaded, 1, "{report:?}");
    assert_eq!(counts[&RecordKind::Conversation].loaded, 0, "{report:?}");
    let new: Vec<Write> = state.writes()[before..].to_vec();
    assert!(
        matches!(new.as_slice(), [Write::Create(k, _)] if *k == reply.key),
        "only the new reply is written: {new:?}"
    );
}

#[tokio::test]
async fn the_memory_thread_target_complies_on_sqlite() {
    let dir = TempDir::new().unwrap();
    let report = assert_target_compliance(
        || async { MemoryTargetState::new() },
        |s| target(s).with_threads(),
        || support::sqlite(&dir),
        &fixture(),
        3,
    )
    .await;
    // As for the plain target, without the message pass's 4 calls: messages ride with their
    // conversations.
    assert_eq!(report.calls, 12 - 4);
}
