//! Property: applying the same batch (or load batch) twice leaves the store byte-for-byte the
//! same, on top of any history — "byte-for-byte" meaning the deterministic full dump of every
//! row of every table (`Store::dump`). Also: the SQLite store and the reference memory store
//! hold identical dumps after every step of every generated history.

use crate::common::*;
use deskmove_core::connector::TargetInstance;
use deskmove_core::{ContentHash, ErrorKind, Problem, Record, RecordKind, SourceKey, Stage};
use deskmove_store::{
    LedgerEntry, LoadBatch, MemoryStore, Outcome, RawPayload, RunId, SqliteStore, StagedBatch,
    Store,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Stage(StagedBatch),
    Load(LoadBatch),
}

fn record_key() -> impl Strategy<Value = SourceKey> {
    (
        prop_oneof![
            Just(RecordKind::Tag),
            Just(RecordKind::Agent),
            Just(RecordKind::Contact)
        ],
        0..5u8,
    )
        .prop_map(|(kind, id)| key(kind, &id.to_string()))
}

/// Mostly from a small set, so later batches often repeat earlier content.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop_oneof![Just(String::new()), Just("VIP".to_owned()), Just("Zoë Müller".to_owned())],
        1 => "\\PC{0,12}",
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop_oneof![Just(b"{}".to_vec()), Just(b"{\"id\": 1}".to_vec())],
        1 => proptest::collection::vec(any::<u8>(), 0..16),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (record_key(), text(), 0..3u8).prop_map(|(k, text, day)| match k.kind {
        RecordKind::Tag => tag(&k.id, &text),
        RecordKind::Agent => agent(&k.id, &format!("{text}@example.com")),
        _ => contact(&k.id, &text, &format!("2024-01-0{}T00:00:00Z", day + 1)),
    })
}

fn problem_of() -> impl Strategy<Value = Problem> {
    (
        record_key(),
        prop_oneof![
            Just(Stage::Extract),
            Just(Stage::Normalize),
            Just(Stage::Map),
            Just(Stage::Load)
        ],
        prop_oneof![Just("invalid_email"), Just("truncated"), Just("conflict")],
        "\\PC{0,8}",
    )
        .prop_map(|(k, stage, code, reason)| {
            Problem::new(k, stage, ErrorKind::Validation, code, reason)
        })
}

/// Two load paths into one account, and the empty instance rows from schema 1 migrate to.
fn targets() -> [TargetInstance; 3] {
    [
        chatwoot(),
        TargetInstance::new("chatwoot", "chatwoot.example.com", "1", "postgres"),
        TargetInstance::new("chatwoot", "", "", ""),
    ]
}

fn run() -> impl Strategy<Value = RunId> {
    (1..=2i64).prop_map(RunId)
}

fn staged() -> impl Strategy<Value = Op> {
    (
        run(),
        prop_oneof![Just("intercom/a"), Just("intercom/b")],
        proptest::option::of("[0-9]{1,3}"),
        proptest::collection::vec(record(), 0..4),
        proptest::collection::vec((record_key(), body()), 0..3),
        proptest::collection::vec(problem_of(), 0..3),
    )
        .prop_map(|(run, stream, cursor, records, raw, problems)| {
            let mut b = StagedBatch::new(run, stream);
            b.cursor = cursor;
            b.records = records;
            b.raw = raw
                .into_iter()
                .map(|(k, body)| RawPayload::new(k, body))
                .collect();
            b.problems = problems;
            Op::Stage(b)
        })
}

fn loads() -> impl Strategy<Value = Op> {
    (
        run(),
        proptest::collection::vec(
            (
                record_key(),
                prop_oneof![
                    Just(Outcome::Loaded),
                    Just(Outcome::Updated),
                    Just(Outcome::Skipped),
                    Just(Outcome::Failed)
                ],
                0..3u8,
                any::<bool>(),
                0..targets().len(),
            ),
            0..4,
        ),
        proptest::collection::vec(problem_of(), 0..2),
    )
        .prop_map(|(run, entries, problems)| {
            let entries = entries
                .into_iter()
                .map(|(key, outcome, n, with_ids, target)| {
                    let ids = outcome != Outcome::Failed || with_ids;
                    LedgerEntry {
                        key,
                        target: targets()[target].clone(),
                        target_id: ids.then(|| format!("t{n}")),
                        content_hash: ids.then(|| ContentHash(format!("h{n}"))),
                        outcome,
                        run,
                    }
                })
                .collect();
            Op::Load(LoadBatch {
                run,
                entries,
                problems,
            })
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![3 => staged(), 1 => loads()]
}

async fn apply<S: Store>(s: &S, op: &Op) {
    match op {
        Op::Stage(b) => s.put_batch(b.clone()).await.unwrap(),
        Op::Load(b) => s.put_loads(b.clone()).await.unwrap(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn applying_a_batch_twice_is_byte_for_byte_a_no_op(
        history in proptest::collection::vec(op(), 0..6),
        last in op(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let sqlite = SqliteStore::open(dir.path().join("p.db")).unwrap();
            let memory = MemoryStore::new();
            for _ in 0..2 {
                sqlite.start_run(new_run("run")).await.unwrap();
                memory.start_run(new_run("run")).await.unwrap();
            }
            for op in &history {
                apply(&sqlite, op).await;
                apply(&memory, op).await;
                assert_eq!(sqlite.dump().await.unwrap(), memory.dump().await.unwrap());
            }
            apply(&sqlite, &last).await;
            apply(&memory, &last).await;
            let (s1, m1) = (sqlite.dump().await.unwrap(), memory.dump().await.unwrap());
            apply(&sqlite, &last).await;
            apply(&memory, &last).await;
            assert_eq!(sqlite.dump().await.unwrap(), s1, "SQLite changed on replay");
            assert_eq!(memory.dump().await.unwrap(), m1, "memory changed on replay");
            assert_eq!(s1, m1, "SQLite and memory disagree");
            assert_eq!(sqlite.status(2).await.unwrap(), memory.status(2).await.unwrap());
            assert_eq!(sqlite.problems(None, 500).await.unwrap(), memory.problems(None, 500).await.unwrap());
            for kind in [RecordKind::Tag, RecordKind::Agent, RecordKind::Contact] {
                let after = key(kind, "1");
                assert_eq!(
                    sqlite.records(kind, Some(&after), 2).await.unwrap(),
                    memory.records(kind, Some(&after), 2).await.unwrap()
                );
                for target in &targets() {
                    for run in [RunId(1), RunId(2)] {
                        assert_eq!(
                            sqlite.created_by(run, target, kind, None, 50).await.unwrap(),
                            memory.created_by(run, target, kind, None, 50).await.unwrap()
                        );
                    }
                    assert_eq!(
                        sqlite.ledger_page(target, kind, Some(&after), 2).await.unwrap(),
                        memory.ledger_page(target, kind, Some(&after), 2).await.unwrap()
                    );
                }
            }
            sqlite.close().unwrap();
        });
    }
}
