//! The engine's own rules: stream order, retry budget, progress events, and what it does when
//! a target breaks the outcome contract.

use deskmove_core::connector::{
    Cursor, Fidelity, LoadResult, Page, PageSink, Preflight, Resolve, SinkError, SourceScan,
    StreamSpec, TargetRef,
};
use deskmove_core::{
    Classify, ErrorKind, Problem, Record, RecordKind, Source, Stage, Target, TargetInstance,
};
use deskmove_engine::testkit::{FaultySource, MemoryError};
use deskmove_engine::{Engine, EngineError, EngineOptions, Progress, Recorder};
use deskmove_store::{NewRun, Store};
use tempfile::TempDir;

use crate::support::{self, records_of, source};

fn new_run() -> NewRun {
    NewRun {
        command: "run".into(),
        source_system: None,
        target_system: None,
        target: None,
        started_at: jiff::Timestamp::now(),
    }
}

#[tokio::test]
async fn streams_wait_for_their_dependencies_and_report_progress() {
    let dir = TempDir::new().unwrap();
    let staging = support::memory(&dir);
    let src = source();
    let recorder = Recorder::default();
    let run = staging.store.start_run(new_run()).await.unwrap();
    let report = Engine::new(&staging.store, &staging.blobs)
        .with_observer(&recorder)
        .with_options(EngineOptions {
            concurrency: 3,
            ..EngineOptions::default()
        })
        .extract(run, &src)
        .await
        .unwrap();
    let events = recorder.events();
    let position = |want: &Progress| events.iter().position(|e| e == want).unwrap();
    let conversations_done = events
        .iter()
        .position(|e| matches!(e, Progress::StreamFinished { stream, .. } if stream == "memory/conversation"))
        .unwrap();
    let messages_started = position(&Progress::StreamStarted {
        stream: "memory/message".into(),
        resumed: false,
    });
    assert!(messages_started > conversations_done);
    let committed: usize = events
        .iter()
        .map(|e| match e {
            Progress::PageCommitted { records, .. } => *records,
            _ => 0,
        })
        .sum();
    assert_eq!(committed as u64, report.records());
    assert_eq!(report.records(), src.expected().records.len() as u64);
    assert_eq!(report.problems(), 2);
    // Never more streams in flight than allowed.
    let mut in_flight = 0i32;
    for e in &events {
        match e {
            Progress::StreamStarted { .. } => in_flight += 1,
            Progress::StreamFinished { .. } => in_flight -= 1,
            _ => {}
        }
        assert!(in_flight <= 3, "{events:?}");
    }
    let blobs = events
        .iter()
        .filter(|e| matches!(e, Progress::BlobStored { .. }))
        .count();
    assert_eq!(blobs, 6);
}

#[tokio::test]
async fn a_permanent_failure_stops_at_once_and_a_transient_one_within_the_budget() {
    let dir = TempDir::new().unwrap();
    let staging = support::memory(&dir);
    let options = EngineOptions {
        concurrency: 1,
        attempts: 3,
        batch_size: 10,
    };
    let engine = Engine::new(&staging.store, &staging.blobs).with_options(options);
    let run = staging.store.start_run(new_run()).await.unwrap();

    let auth = FaultySource::new(source()).fail_page(2, ErrorKind::Auth);
    match engine.extract(run, &auth).await {
        Err(EngineError::Source {
            kind: ErrorKind::Auth,
            attempts: 1,
            ..
        }) => {}
        other => panic!("expected an auth failure after one attempt, got {other:?}"),
    }
    // What was committed before the failure stays, with its cursor.
    assert_eq!(auth.committed(), 2);

    let storm = FaultySource::new(source()).storm(0, 5);
    let err = engine.extract(run, &storm).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(
        matches!(err, EngineError::Source { attempts: 3, .. }),
        "{err:?}"
    );
}

/// A source whose streams cannot be ordered.
struct Tangled(Vec<StreamSpec>);

impl Source for Tangled {
    type Error = MemoryError;
    fn streams(&self) -> Vec<StreamSpec> {
        self.0.clone()
    }
    async fn scan(&self) -> Result<SourceScan, MemoryError> {
        Ok(SourceScan::default())
    }
    async fn extract(
        &self,
        _: &StreamSpec,
        _: Option<Cursor>,
        _: &mut impl PageSink,
    ) -> Result<(), MemoryError> {
        Ok(())
    }
}

#[tokio::test]
async fn streams_that_cannot_be_ordered_are_refused() {
    let dir = TempDir::new().unwrap();
    let staging = support::memory(&dir);
    let engine = Engine::new(&staging.store, &staging.blobs);
    let run = staging.store.start_run(new_run()).await.unwrap();
    let unknown = Tangled(vec![
        StreamSpec::new("x/a", [RecordKind::Tag]).after("x/missing"),
    ]);
    assert!(
        matches!(engine.extract(run, &unknown).await, Err(EngineError::Plan(m)) if m.contains("x/missing"))
    );
    let cycle = Tangled(vec![
        StreamSpec::new("x/a", [RecordKind::Tag]).after("x/b"),
        StreamSpec::new("x/b", [RecordKind::Tag]).after("x/a"),
    ]);
    assert!(
        matches!(engine.extract(run, &cycle).await, Err(EngineError::Plan(m)) if m.contains("cycle"))
    );
    let twice = Tangled(vec![
        StreamSpec::new("x/a", [RecordKind::Tag]),
        StreamSpec::new("x/a", [RecordKind::Tag]),
    ]);
    assert!(matches!(
        engine.extract(run, &twice).await,
        Err(EngineError::Plan(_))
    ));
}

/// A target that loads only agents and answers for none of them.
struct Mute;

impl Target for Mute {
    type Error = MemoryError;
    fn instance(&self) -> TargetInstance {
        TargetInstance::new("mute", "mute.test", "1", "api")
    }
    fn fidelity(&self) -> Fidelity {
        Fidelity {
            threads: false,
            kinds: vec![RecordKind::Agent],
            items: vec![],
        }
    }
    async fn preflight(&self) -> Result<Preflight, MemoryError> {
        Ok(Preflight::default())
    }
    async fn load(
        &self,
        _: RecordKind,
        _: &[Record],
        _: &impl Resolve,
    ) -> Result<Vec<LoadResult>, MemoryError> {
        Ok(vec![])
    }
    async fn read_back(&self, _: RecordKind, _: &[TargetRef]) -> Result<Vec<Record>, MemoryError> {
        Ok(vec![])
    }
    async fn remove(&self, _: &[TargetRef]) -> Result<Vec<LoadResult>, MemoryError> {
        Ok(vec![])
    }
}

#[tokio::test]
async fn a_missing_outcome_becomes_a_problem_and_unloadable_kinds_are_reported() {
    let dir = TempDir::new().unwrap();
    let staging = support::memory(&dir);
    let run = staging.store.start_run(new_run()).await.unwrap();
    let mut batch = deskmove_store::StagedBatch::new(run, "test/fixture");
    batch.records = [records_of(RecordKind::Agent), records_of(RecordKind::Tag)].concat();
    staging.store.put_batch(batch).await.unwrap();

    let report = Engine::new(&staging.store, &staging.blobs)
        .load(run, &Mute)
        .await
        .unwrap();
    let total = report.total();
    assert_eq!((total.failed, total.problems), (2, 2));
    assert_eq!(report.not_loadable, vec![RecordKind::Tag]);
    let problems = staging.store.problems(None, 10).await.unwrap();
    assert_eq!(problems.len(), 2);
    assert!(problems.iter().all(|p| p.problem.code == "no_outcome"));
}

/// A source whose only file breaks off mid-download, and which reports that as a problem.
struct BrokenDownload;

impl Source for BrokenDownload {
    type Error = MemoryError;
    fn streams(&self) -> Vec<StreamSpec> {
        vec![StreamSpec::new("x/files", [RecordKind::Attachment])]
    }
    async fn scan(&self) -> Result<SourceScan, MemoryError> {
        Ok(SourceScan::default())
    }
    async fn extract(
        &self,
        _: &StreamSpec,
        _: Option<Cursor>,
        out: &mut impl PageSink,
    ) -> Result<(), MemoryError> {
        let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
            Ok(bytes::Bytes::from_static(b"first half")),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "reset by peer",
            )),
        ];
        let err = out
            .blob(Box::pin(futures::stream::iter(chunks)), Some("text/plain"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SinkError::Body(m) if m.contains("reset by peer")),
            "{err:?}"
        );
        assert!(err.kind().is_transient());
        let key = deskmove_core::SourceKey::new("x", RecordKind::Attachment, "f1");
        out.page(Page {
            problems: vec![Problem::new(
                key,
                Stage::Extract,
                err.kind(),
                "download_failed",
                err.to_string(),
            )],
            cursor: Some(Cursor("done".into())),
            ..Page::default()
        })
        .await?;
        Ok(())
    }
}

#[tokio::test]
async fn a_broken_download_is_the_sources_to_report_and_does_not_poison_the_store() {
    let dir = TempDir::new().unwrap();
    let staging = support::memory(&dir);
    let run = staging.store.start_run(new_run()).await.unwrap();
    let report = Engine::new(&staging.store, &staging.blobs)
        .extract(run, &BrokenDownload)
        .await
        .unwrap();
    assert_eq!((report.pages(), report.problems()), (1, 1));
    assert_eq!(
        staging.store.cursor("x/files").await.unwrap().as_deref(),
        Some("done")
    );
    let problems = staging.store.problems(None, 10).await.unwrap();
    assert_eq!(problems[0].problem.code, "download_failed");
    // Nothing half-written reached the blob index.
    let half = deskmove_store::blob_hash(b"first half");
    assert!(staging.store.blob(&half).await.unwrap().is_none());
}
