//! A real SQLite store filled by the engine with the testkit doubles, so a run has loaded,
//! partially kept, skipped and failed records, retried batches and source problems.

use std::collections::BTreeSet;

use deskmove_core::connector::{
    Fidelity, FidelityItem, Keep, LoadResult, Outcome, Preflight, Resolve, TargetRef,
};
use deskmove_core::{
    ContentHash, ErrorKind, Problem, Record, RecordKind, SourceKey, Stage, Target, TargetInstance,
};
use deskmove_engine::testkit::world::world;
use deskmove_engine::testkit::{
    FaultyTarget, MemorySource, MemoryTarget, MemoryTargetState, Write,
};
use deskmove_engine::{Engine, ExtractReport, LoadReport, RollbackReport};
use deskmove_store::{BlobStore, NewRun, RunId, RunStatus, SqliteStore, Store};
use tempfile::TempDir;

/// Conversations in the world: 2 agents, 2 tags, then per conversation a contact, the
/// conversation, two messages and an attachment.
pub const CONVERSATIONS: usize = 6;

/// The reason planted on the skipped tag: markup the report must show as text.
pub const PLANTED: &str = "<script>document.title='pwned'</script> skipped by the mapping";

pub fn key(kind: RecordKind, id: &str) -> SourceKey {
    SourceKey::new("memory", kind, id)
}

/// The conversation the target refuses (so its messages and attachment fail too).
pub fn refused() -> SourceKey {
    key(RecordKind::Conversation, "c001")
}

/// The records the target skips without writing: the tag (with [`PLANTED`]) and an agent.
pub fn skipped() -> Vec<SourceKey> {
    vec![key(RecordKind::Agent, "a2"), key(RecordKind::Tag, "t2")]
}

/// The contact loaded with a `partially_kept` problem.
pub fn partial() -> SourceKey {
    key(RecordKind::Contact, "p003")
}

/// What the test path says it cannot keep.
pub fn fidelity() -> Fidelity {
    Fidelity {
        threads: false,
        kinds: RecordKind::ALL.to_vec(),
        items: vec![
            FidelityItem {
                kind: RecordKind::Message,
                aspect: "created_at".into(),
                keep: Keep::Moved,
                note: "Kept in an attribute; the message shows the import time.".into(),
            },
            FidelityItem {
                kind: RecordKind::Attachment,
                aspect: "content_type".into(),
                keep: Keep::Lost,
                note: "The test path stores every file as application/octet-stream.".into(),
            },
            FidelityItem {
                kind: RecordKind::Contact,
                aspect: "email".into(),
                keep: Keep::Kept,
                note: "As it is.".into(),
            },
        ],
    }
}

/// A target that skips some records (no write, a problem saying why) and hands the rest to
/// its inner target, as a mapping that skips an agent would.
#[derive(Debug)]
pub struct Skipping<T> {
    inner: T,
    skip: BTreeSet<SourceKey>,
}

impl<T: Target> Target for Skipping<T> {
    type Error = T::Error;

    fn instance(&self) -> TargetInstance {
        self.inner.instance()
    }

    fn fidelity(&self) -> Fidelity {
        fidelity()
    }

    fn mapping_fingerprint(&self, record: &Record) -> Option<ContentHash> {
        self.inner.mapping_fingerprint(record)
    }

    async fn preflight(&self) -> Result<Preflight, Self::Error> {
        self.inner.preflight().await
    }

    async fn load(
        &self,
        kind: RecordKind,
        records: &[Record],
        refs: &impl Resolve,
    ) -> Result<Vec<LoadResult>, Self::Error> {
        let (skip, pass): (Vec<Record>, Vec<Record>) = records
            .iter()
            .cloned()
            .partition(|r| self.skip.contains(r.key()));
        let mut out = self.inner.load(kind, &pass, refs).await?;
        for r in skip {
            let reason = if r.kind() == RecordKind::Tag {
                PLANTED.to_owned()
            } else {
                "The mapping says to skip this agent.".to_owned()
            };
            out.push(LoadResult {
                key: r.key().clone(),
                outcome: Outcome::Skipped,
                target_id: None,
                problem: Some(Problem::new(
                    r.key().clone(),
                    Stage::Map,
                    ErrorKind::Validation,
                    "skipped_by_mapping",
                    reason,
                )),
            });
        }
        Ok(out)
    }

    async fn read_back(
        &self,
        kind: RecordKind,
        refs: &[TargetRef],
    ) -> Result<Vec<Record>, Self::Error> {
        self.inner.read_back(kind, refs).await
    }

    async fn remove(&self, created: &[TargetRef]) -> Result<Vec<LoadResult>, Self::Error> {
        self.inner.remove(created).await
    }
}

pub type TestTarget = FaultyTarget<Skipping<MemoryTarget>>;

/// The staging area and the target account of one test.
pub struct Fixture {
    pub dir: TempDir,
    pub store: SqliteStore,
    pub blobs: BlobStore,
    pub state: MemoryTargetState,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("staging.sqlite")).unwrap();
        let blobs = BlobStore::local(dir.path().join("blobs")).unwrap();
        Self {
            dir,
            store,
            blobs,
            state: MemoryTargetState::new(),
        }
    }

    /// The source: the world in pages of 4, with an invalid email kept on a staged contact and a
    /// conversation the source listed but could not give.
    pub fn source(&self) -> MemorySource {
        MemorySource::from_world(&world("memory", CONVERSATIONS), 4)
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

    /// The target: refuses [`refused`], skips [`skipped`], partially keeps [`partial`], and
    /// answers its first two load calls with a 429 storm the engine retries through.
    pub fn target(&self) -> TestTarget {
        let inner = MemoryTarget::new(self.state.clone(), "1", "api")
            .refusing([refused()])
            .partially([partial()]);
        FaultyTarget::new(Skipping {
            inner,
            skip: skipped().into_iter().collect(),
        })
        .storm(0, 2)
    }

    pub async fn start(&self, command: &str, target: &TestTarget) -> RunId {
        self.store
            .start_run(NewRun {
                command: command.into(),
                source_system: Some("memory".into()),
                target_system: Some("memory".into()),
                target: Some(target.instance()),
                started_at: jiff::Timestamp::now(),
            })
            .await
            .unwrap()
    }

    async fn finish(&self, run: RunId) {
        self.store
            .finish_run(
                run,
                RunStatus::CompletedWithProblems,
                jiff::Timestamp::now(),
            )
            .await
            .unwrap();
    }

    /// `run`: extract then load, as the CLI's run command does.
    pub async fn run(&self, target: &TestTarget) -> (RunId, ExtractReport, LoadReport) {
        let run = self.start("run", target).await;
        let engine = Engine::new(&self.store, &self.blobs);
        let extracted = engine.extract(run, &self.source()).await.unwrap();
        let loaded = engine.load(run, target).await.unwrap();
        self.finish(run).await;
        (run, extracted, loaded)
    }

    /// `rollback` of `of`.
    pub async fn rollback(&self, target: &TestTarget, of: RunId) -> (RunId, RollbackReport) {
        let run = self.start(deskmove_report::ROLLBACK_COMMAND, target).await;
        let engine = Engine::new(&self.store, &self.blobs);
        let report = engine.rollback(run, of, target).await.unwrap();
        self.finish(run).await;
        (run, report)
    }

    /// Writes the target account recorded, per kind: (created, removed).
    pub fn writes(&self, kind: RecordKind) -> (u64, u64) {
        let (mut created, mut removed) = (0, 0);
        for w in self.state.writes() {
            match w {
                Write::Create(k, _) if k.kind == kind => created += 1,
                Write::Remove(k, _) if k.kind == kind => removed += 1,
                _ => {}
            }
        }
        (created, removed)
    }
}
