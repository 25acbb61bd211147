//! The load phase over a selection: only the chosen conversations and what they need go to the
//! target; a later full load adds the rest and writes none of the chosen again.

use std::collections::BTreeSet;

use deskmove_core::model::ConversationState;
use deskmove_core::{Record, RecordKind, SourceKey};
use deskmove_engine::testkit::{MemoryTargetState, Write};
use deskmove_engine::{Engine, Selection};
use deskmove_store::{NewRun, Store};
use tempfile::TempDir;

use crate::support::{self, key, small_world, target};

fn new_run() -> NewRun {
    NewRun {
        command: "run".into(),
        source_system: Some("memory".into()),
        target_system: Some("memory".into()),
        target: None,
        started_at: jiff::Timestamp::now(),
    }
}

fn of_kind(state: &MemoryTargetState, kind: RecordKind) -> Vec<SourceKey> {
    state
        .objects()
        .into_iter()
        .map(|r| r.key)
        .filter(|k| k.kind == kind)
        .collect()
}

#[tokio::test]
async fn a_selection_loads_its_conversations_and_a_full_load_the_rest_once() {
    let dir = TempDir::new().unwrap();
    let staging = support::memory(&dir);
    let run = staging.store.start_run(new_run()).await.unwrap();
    let mut batch = deskmove_store::StagedBatch::new(run, "test/fixture");
    batch.records = small_world().records;
    staging.store.put_batch(batch).await.unwrap();
    let engine = Engine::new(&staging.store, &staging.blobs);
    let state = MemoryTargetState::new();
    let target = target(&state);

    // The world closes every third conversation: c000 and c003.
    let closed = Selection {
        states: vec![ConversationState::Closed],
        ..Selection::default()
    };
    let chosen = engine.choose(&closed).await.unwrap();
    assert_eq!(chosen.conversations(), 2);
    assert_eq!(chosen.left_out, 4);
    engine
        .load_chosen(run, &target, Some(chosen))
        .await
        .unwrap();
    let wanted = BTreeSet::from([
        key(RecordKind::Conversation, "c000"),
        key(RecordKind::Conversation, "c003"),
    ]);
    let loaded: BTreeSet<_> = of_kind(&state, RecordKind::Conversation)
        .into_iter()
        .collect();
    assert_eq!(loaded, wanted);
    let messages = of_kind(&state, RecordKind::Message);
    assert_eq!(messages.len(), 4, "two messages each: {messages:?}");
    assert!(
        messages
            .iter()
            .all(|m| m.id.starts_with("c000") || m.id.starts_with("c003"))
    );
    let contacts: BTreeSet<_> = of_kind(&state, RecordKind::Contact).into_iter().collect();
    let named: BTreeSet<_> = small_world()
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Conversation(c) if wanted.contains(&c.key) => Some(c.contacts.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(
        contacts, named,
        "only the contacts the chosen conversations name"
    );
    assert!(
        of_kind(&state, RecordKind::Article).is_empty(),
        "the help center waits"
    );
    assert!(
        !of_kind(&state, RecordKind::Agent).is_empty(),
        "the directory loads whole"
    );

    let full = engine.load(run, &target).await.unwrap();
    assert!(full.total().unchanged >= 4);
    let all = of_kind(&state, RecordKind::Conversation);
    assert_eq!(all.len(), 6);
    let creates = |k: &SourceKey| {
        state
            .writes()
            .iter()
            .filter(|w| matches!(w, Write::Create(key, _) | Write::Update(key, _) if key == k))
            .count()
    };
    for k in &wanted {
        assert_eq!(creates(k), 1, "{k} written once");
    }
}

#[tokio::test]
async fn a_sample_spans_the_lengths_and_is_the_same_every_time() {
    let dir = TempDir::new().unwrap();
    let staging = support::memory(&dir);
    let run = staging.store.start_run(new_run()).await.unwrap();
    let mut batch = deskmove_store::StagedBatch::new(run, "test/fixture");
    batch.records = small_world().records;
    // Lengths 1..=6 by conversation, so the sample's ends are known.
    for (i, r) in batch.records.iter_mut().enumerate() {
        if let Record::Conversation(c) = r {
            c.source_message_count = Some(u64::try_from(i % 7).unwrap() + 1);
        }
    }
    let lengths: Vec<(u64, SourceKey)> = batch
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Conversation(c) => Some((c.source_message_count.unwrap(), c.key.clone())),
            _ => None,
        })
        .collect();
    staging.store.put_batch(batch).await.unwrap();
    let engine = Engine::new(&staging.store, &staging.blobs);
    let sample = Selection {
        sample: Some(2),
        ..Selection::default()
    };
    let state = MemoryTargetState::new();
    let chosen = engine.choose(&sample).await.unwrap();
    assert_eq!(chosen.conversations(), 2);
    engine
        .load_chosen(run, &target(&state), Some(chosen))
        .await
        .unwrap();
    let loaded: BTreeSet<_> = of_kind(&state, RecordKind::Conversation)
        .into_iter()
        .collect();
    let shortest = lengths.iter().min().unwrap().1.clone();
    let longest = lengths.iter().max().unwrap().1.clone();
    assert_eq!(loaded, BTreeSet::from([shortest, longest]));
    let again = engine.choose(&sample).await.unwrap();
    assert_eq!(again.conversations(), 2);
}
