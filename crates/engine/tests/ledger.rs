//! The ledger hash covers the mapping; target instances keep separate ledgers; failures retry.

use deskmove_core::{ContentHash, RecordKind, Target};
use deskmove_engine::testkit::{MemoryTarget, MemoryTargetState, Staging, Write};
use deskmove_engine::{Engine, LoadReport, ledger_hash};
use deskmove_store::{MemoryStore, NewRun, Outcome, Store};
use tempfile::TempDir;

use crate::support::{self, key, refused, small_world, target};

async fn staged(dir: &TempDir) -> Staging<MemoryStore> {
    let staging = support::memory(dir);
    let run = staging.store.start_run(new_run("stage")).await.unwrap();
    let mut batch = deskmove_store::StagedBatch::new(run, "test/fixture");
    batch.records = small_world().records;
    staging.store.put_batch(batch).await.unwrap();
    staging
}

fn new_run(command: &str) -> NewRun {
    NewRun {
        command: command.into(),
        source_system: Some("memory".into()),
        target_system: Some("memory".into()),
        target: None,
        started_at: jiff::Timestamp::now(),
    }
}

async fn load(staging: &Staging<MemoryStore>, target: &impl Target) -> LoadReport {
    let run = staging.store.start_run(new_run("import")).await.unwrap();
    Engine::new(&staging.store, &staging.blobs)
        .load(run, target)
        .await
        .unwrap()
}

#[test]
fn the_ledger_hash_follows_the_fingerprint() {
    let record = ContentHash("aa".into());
    let v1 = ContentHash("01".into());
    let v2 = ContentHash("02".into());
    assert_eq!(ledger_hash(&record, None), record);
    assert_ne!(ledger_hash(&record, Some(&v1)), record);
    assert_ne!(
        ledger_hash(&record, Some(&v1)),
        ledger_hash(&record, Some(&v2))
    );
    assert_eq!(
        ledger_hash(&record, Some(&v1)),
        ledger_hash(&record, Some(&v1))
    );
}

#[tokio::test]
async fn editing_the_mapping_makes_a_rerun_update_what_it_shaped() {
    let dir = TempDir::new().unwrap();
    let staging = staged(&dir).await;
    let state = MemoryTargetState::new();
    let n = small_world().records.len() as u64;

    let first = load(&staging, &target(&state).with_mapping("v1"))
        .await
        .total();
    assert_eq!((first.loaded, first.failed), (n - 1, 1));

    let same = load(&staging, &target(&state).with_mapping("v1"))
        .await
        .total();
    assert_eq!((same.written(), same.unchanged), (0, n - 1), "{same:?}");

    let writes_before = state.writes().len();
    let edited = load(&staging, &target(&state).with_mapping("v2"))
        .await
        .total();
    assert_eq!(
        (edited.updated, edited.loaded, edited.unchanged),
        (n - 1, 0, 0),
        "{edited:?}"
    );
    let updates = state.writes()[writes_before..]
        .iter()
        .filter(|w| matches!(w, Write::Update(..)))
        .count() as u64;
    assert_eq!(updates, n - 1);
    // Still one object per record.
    assert_eq!(state.objects().len() as u64, n - 1);
}

#[tokio::test]
async fn two_target_instances_keep_separate_ledgers() {
    let dir = TempDir::new().unwrap();
    let staging = staged(&dir).await;
    let n = small_world().records.len() as u64;
    let (a_state, b_state) = (MemoryTargetState::new(), MemoryTargetState::new());
    let a = target(&a_state);
    let b = MemoryTarget::new(b_state.clone(), "2", "api").refusing([refused()]);

    assert_eq!(load(&staging, &a).await.total().loaded, n - 1);
    // Account 2 is not "already loaded" because account 1 is.
    let into_b = load(&staging, &b).await.total();
    assert_eq!((into_b.loaded, into_b.unchanged), (n - 1, 0), "{into_b:?}");
    assert_eq!(b_state.objects().len() as u64, n - 1);

    let contact = key(RecordKind::Contact, "p000");
    let in_a = staging
        .store
        .ledger(&contact, &a.instance())
        .await
        .unwrap()
        .unwrap();
    let in_b = staging
        .store
        .ledger(&contact, &b.instance())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(in_a.target, a.instance());
    assert_eq!(in_b.target, b.instance());
    assert!(
        in_b.run > in_a.run,
        "loading into b must not touch a's entry"
    );
    assert_eq!(in_a.outcome, Outcome::Loaded);

    // Switching load path over the same account is not "already loaded" either.
    let other_path = MemoryTarget::new(a_state.clone(), "1", "postgres").refusing([refused()]);
    let switched = load(&staging, &other_path).await.total();
    assert_eq!(switched.unchanged, 0, "{switched:?}");
    assert_eq!(switched.loaded, n - 1);
    // The path found what the other path created (by source key) instead of duplicating it.
    assert_eq!(a_state.objects().len() as u64, n - 1);
}

#[tokio::test]
async fn a_failed_record_keeps_its_problem_and_is_retried_next_run() {
    let dir = TempDir::new().unwrap();
    let staging = staged(&dir).await;
    let state = MemoryTargetState::new();
    let first = load(&staging, &target(&state)).await.total();
    assert_eq!((first.failed, first.problems), (1, 1));
    let entry = staging
        .store
        .ledger(&refused(), &target(&state).instance())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.outcome, Outcome::Failed);
    let problems = staging.store.problems(None, 100).await.unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.problem.key == refused() && p.problem.code == "refused")
    );

    // The refusal is fixed: only the failed record is handed over again, and it loads.
    let fixed = MemoryTarget::new(state.clone(), "1", "api");
    let again = load(&staging, &fixed).await.total();
    assert_eq!((again.loaded, again.failed), (1, 0), "{again:?}");
    let problems = staging.store.problems(None, 100).await.unwrap();
    assert!(
        !problems.iter().any(|p| p.problem.key == refused()),
        "a success clears the problem"
    );
}

#[tokio::test]
async fn a_partial_load_is_loaded_and_keeps_its_problem() {
    let dir = TempDir::new().unwrap();
    let staging = staged(&dir).await;
    let state = MemoryTargetState::new();
    let contact = key(RecordKind::Contact, "p003");
    let partial = target(&state).partially([contact.clone()]);
    let total = load(&staging, &partial).await.total();
    assert_eq!((total.failed, total.problems), (1, 2), "{total:?}");
    let entry = staging
        .store
        .ledger(&contact, &partial.instance())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.outcome, Outcome::Loaded);
    let problems = staging.store.problems(None, 100).await.unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.problem.key == contact && p.problem.code == "partially_kept"),
        "the success must not clear the problem it came with"
    );
}

#[tokio::test]
async fn rollback_removes_what_a_run_created_and_a_later_load_restores_it() {
    let dir = TempDir::new().unwrap();
    let staging = staged(&dir).await;
    let state = MemoryTargetState::new();
    let n = small_world().records.len() as u64;
    // Something that was in the target before deskmove: never touched.
    let before = MemoryTarget::new(state.clone(), "1", "api");
    let outsider = key(RecordKind::Tag, "outsider");
    let outsider_record = deskmove_core::Record::Tag(deskmove_core::model::Tag {
        key: outsider.clone(),
        name: "pre-existing".into(),
        extra: Default::default(),
    });
    let refs = deskmove_engine::LedgerRefs::default();
    before
        .load(RecordKind::Tag, &[outsider_record], &refs)
        .await
        .unwrap();

    let run = staging.store.start_run(new_run("import")).await.unwrap();
    let engine = Engine::new(&staging.store, &staging.blobs);
    engine.load(run, &target(&state)).await.unwrap();
    assert_eq!(state.objects().len() as u64, n);

    let undo = staging.store.start_run(new_run("rollback")).await.unwrap();
    let report = engine.rollback(undo, run, &target(&state)).await.unwrap();
    let removed: u64 = report.kinds.iter().map(|(_, c)| c.loaded).sum();
    assert_eq!(removed, n - 1);
    // Reverse load order: attachments first, agents last.
    assert_eq!(
        report.kinds.first().map(|k| k.0),
        Some(RecordKind::Attachment)
    );
    assert_eq!(report.kinds.last().map(|k| k.0), Some(RecordKind::Agent));
    let left: Vec<_> = state.objects().into_iter().map(|r| r.key).collect();
    assert_eq!(left, vec![outsider]);

    let writes = state.writes().len();
    let undo_again = staging.store.start_run(new_run("rollback")).await.unwrap();
    engine
        .rollback(undo_again, run, &target(&state))
        .await
        .unwrap();
    assert_eq!(
        state.writes().len(),
        writes,
        "a second rollback writes nothing"
    );

    let reload = staging.store.start_run(new_run("import")).await.unwrap();
    let again = engine.load(reload, &target(&state)).await.unwrap().total();
    assert_eq!((again.loaded, again.unchanged), (n - 1, 0), "{again:?}");
    assert_eq!(state.objects().len() as u64, n);
}
