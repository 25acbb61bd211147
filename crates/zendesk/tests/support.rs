//! Sandboxes, sources and staging areas for the export tests, and readers of what was staged.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use deskmove_core::{Problem, Record, RecordKind, SourceKey};
use deskmove_engine::testkit::Staging;
use deskmove_engine::{Engine, EngineOptions, ExtractReport};
use deskmove_store::{BlobStore, NewRun, SqliteStore, Store};
use deskmove_zendesk::{SourceOptions, ZendeskSource};
use deskmove_zendesk_sandbox::{RunningSandbox, Sandbox, SandboxArgs};
use secrecy::SecretString;
use tempfile::TempDir;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A sandbox started with `args`.
pub async fn sandbox(args: SandboxArgs) -> RunningSandbox {
    RunningSandbox::start(args)
        .await
        .expect("the sandbox starts")
}

/// The sandbox's file host as `host:port`.
pub fn files_host(sandbox: &RunningSandbox) -> String {
    let files = sandbox.files_url();
    format!(
        "{}:{}",
        files.host_str().unwrap_or("127.0.0.1"),
        files.port().unwrap_or(80)
    )
}

/// How fast the source may call.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// Far above any limit: for sandboxes whose limits are off.
    Unlimited,
    /// deskmove's own Zendesk budgets, as a user gets them.
    Zendesk,
    /// The account budget unlimited, the incremental one over Zendesk's 10/min, so the
    /// sandbox's incremental bucket answers 429s the source must ride out.
    OverIncremental,
    /// The account budget at exactly this many calls per minute (a plan's full limit), with
    /// this burst; the incremental one unlimited; tickets committed a quarter of an export
    /// page at a time, as the real export does (so comments are read ahead while files arrive).
    Plan { per_minute: u32, burst: u32 },
}

/// The source pointed at `sandbox` (Basic `email/token`), its file host allowed.
pub fn source(sandbox: &RunningSandbox, page: u32, pace: Pace) -> ZendeskSource {
    let mut options = SourceOptions::new(sandbox.base_url());
    options.email = Some(sandbox.email().to_owned());
    options.file_hosts = vec![files_host(sandbox)];
    options.export_page_size = page;
    options.tickets_per_commit = page as usize;
    let fast = |p: &mut deskmove_http::HostPolicy| {
        p.calls_per_minute = 120_000;
        p.burst = 500;
    };
    match pace {
        Pace::Unlimited => {
            fast(&mut options.policy);
            fast(&mut options.incremental_policy);
        }
        Pace::Zendesk => {}
        Pace::OverIncremental => {
            fast(&mut options.policy);
            options.incremental_policy.calls_per_minute = 60;
            options.incremental_policy.burst = 5;
        }
        Pace::Plan { per_minute, burst } => {
            options.policy.calls_per_minute = per_minute;
            options.policy.burst = burst;
            fast(&mut options.incremental_policy);
            options.tickets_per_commit = (page as usize / 4).max(1);
        }
    }
    for p in [
        &mut options.policy,
        &mut options.incremental_policy,
        &mut options.file_policy,
    ] {
        // Tests keep retries quick; the sandbox's windows are the real ones.
        p.backoff_base = Duration::from_millis(50);
        p.backoff_max = Duration::from_secs(2);
        p.max_attempts = 10;
    }
    fast(&mut options.file_policy);
    ZendeskSource::with_options(options, &SecretString::from(sandbox.token().to_owned()))
        .expect("the source builds")
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
    source: &ZendeskSource,
) -> Result<ExtractReport, deskmove_engine::EngineError> {
    let run = staging
        .store
        .start_run(NewRun {
            command: "export".into(),
            source_system: Some("zendesk".into()),
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

/// Every staged record of every kind, by key.
pub async fn all_records(store: &SqliteStore) -> BTreeMap<SourceKey, Record> {
    let mut out = BTreeMap::new();
    for kind in RecordKind::ALL {
        let mut after: Option<SourceKey> = None;
        loop {
            let page = store.records(kind, after.as_ref(), 1_000).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.record.key().clone());
            for r in page {
                out.insert(r.record.key().clone(), r.record);
            }
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
