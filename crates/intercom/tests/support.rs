//! Sandboxes, sources and staging areas for the export tests, and readers of what was staged.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use deskmove_core::{Problem, Record, RecordKind, SourceKey};
use deskmove_engine::testkit::Staging;
use deskmove_engine::{Engine, EngineOptions, ExtractReport};
use deskmove_intercom::{IntercomSource, SourceOptions};
use deskmove_intercom_sandbox::{RunningSandbox, Sandbox, SandboxArgs};
use deskmove_store::{BlobStore, NewRun, SqliteStore, Store};
use secrecy::SecretString;
use tempfile::TempDir;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A sandbox with `conversations` conversations and `contacts` contacts, limits on.
pub async fn sandbox(args: SandboxArgs) -> RunningSandbox {
    RunningSandbox::start(args)
        .await
        .expect("the sandbox starts")
}

/// The source pointed at `sandbox`, its file host allowed, `per_page` items a page.
pub fn source(sandbox: &RunningSandbox, per_page: u32) -> IntercomSource {
    IntercomSource::with_options(
        options(sandbox, per_page),
        &SecretString::from(sandbox.token().to_owned()),
    )
    .expect("the source builds")
}

/// The options [`source`] uses: the sandbox, its file host, quick retries.
pub fn options(sandbox: &RunningSandbox, per_page: u32) -> SourceOptions {
    let files = sandbox.files_url();
    let host = format!(
        "{}:{}",
        files.host_str().unwrap_or("127.0.0.1"),
        files.port().unwrap_or(80)
    );
    let mut options = SourceOptions::new(sandbox.base_url());
    options.file_hosts = vec![host];
    options.per_page = per_page;
    // Tests keep retries quick; the sandbox's windows are the real ones.
    options.policy.backoff_base = std::time::Duration::from_millis(50);
    options.policy.backoff_max = std::time::Duration::from_secs(2);
    options.policy.max_attempts = 10;
    options.file_policy.backoff_base = std::time::Duration::from_millis(50);
    options.file_policy.max_attempts = 10;
    options.file_policy.calls_per_minute = 60_000;
    options.file_policy.burst = 200;
    options
}

/// A fresh SQLite store and blob directory under `dir`.
pub fn sqlite(dir: &TempDir) -> Staging<SqliteStore> {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    Staging {
        store: SqliteStore::open(dir.path().join(format!("store-{n}.sqlite"))).unwrap(),
        blobs: BlobStore::local(dir.path().join(format!("blobs-{n}"))).unwrap(),
    }
}

/// One `export` run of `source` into `staging`.
pub async fn export(
    staging: &Staging<SqliteStore>,
    source: &IntercomSource,
) -> Result<ExtractReport, deskmove_engine::EngineError> {
    let run = staging
        .store
        .start_run(NewRun {
            command: "export".into(),
            source_system: Some("intercom".into()),
            target_system: None,
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await?;
    Engine::new(&staging.store, &staging.blobs)
        .with_options(EngineOptions {
            concurrency: 4,
            attempts: 8,
            batch_size: 100,
        })
        .extract(run, source)
        .await
}

/// Every staged record of `kind`, by key.
pub async fn records(store: &SqliteStore, kind: RecordKind) -> BTreeMap<SourceKey, Record> {
    let mut out = BTreeMap::new();
    let mut after: Option<SourceKey> = None;
    loop {
        let page = store.records(kind, after.as_ref(), 1_000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.record.key().clone());
        for r in page {
            out.insert(r.record.key().clone(), r.record);
        }
    }
    out
}

/// Every staged problem.
pub async fn problems(store: &SqliteStore) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut after: Option<Problem> = None;
    loop {
        let page = store.problems(after.as_ref(), 1_000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.problem.clone());
        out.extend(page.into_iter().map(|p| p.problem));
    }
    out
}

/// Calls to routes whose pattern contains `needle`, from the sandbox's call log.
pub fn calls(stats: &deskmove_sandbox::SandboxStats, needle: &str) -> u64 {
    stats
        .iter()
        .filter(|(route, _)| route.contains(needle))
        .map(|(_, s)| s.calls)
        .sum()
}
