//! The demo's migration: export the source sandbox's company into a fresh staging store in
//! `deskmove-demo/`, import it into the target sandbox, count every kind three ways and write
//! the report. The same engine calls as `deskmove run` and `deskmove verify`.

use std::path::{Path, PathBuf};

use deskmove_core::{Classify, ErrorKind, RecordKind, Stage};
use deskmove_engine::{DEFAULT_SAMPLE, DeepReport, Engine, VerifyOptions};
use deskmove_store::{BlobStore, NewRun, RunId, RunStatus, SqliteStore, Store};
use serde::Serialize;

use crate::commands::import::{self, LoadOutput};
use crate::commands::init::template;
use crate::commands::verify::{self, KindCheck};
use crate::config::{CONFIG_FILE, NormalizeConfig};
use crate::load_progress::{LoadProgress, Phase};
use crate::progress::StderrProgress;
use crate::registry::{LocalSandbox, SourceName, TargetName};
use crate::workspace::MAPPING_FILE;
use crate::workspace::{self, ReportFiles, chain};

/// The demo's folder inside the working directory.
pub const DEMO_DIR: &str = "deskmove-demo";

/// One kind counted three ways.
#[derive(Debug, Serialize)]
pub struct CountLine {
    /// The kind.
    pub kind: &'static str,
    /// What the source world holds, when the sandbox knows.
    pub source: Option<u64>,
    /// Staged in the store, loaded per the ledger, found in the target.
    #[serde(flatten)]
    pub check: KindCheck,
}

impl CountLine {
    /// The store holds what the source has, and the target what the ledger says.
    pub fn ok(&self) -> bool {
        self.source.is_none_or(|n| n == self.check.staged) && !self.check.mismatch()
    }
}

/// What the demo's proposed mapping decided.
#[derive(Debug, Serialize)]
pub struct MapLine {
    /// Source agents matched by email to an agent of the target.
    pub agents_matched: usize,
    /// Source agents with no agent of the same email there (kept as attribution).
    pub agents_unmatched: usize,
    /// Label titles two or more tags became.
    pub collisions: usize,
}

/// What the demo's migration did.
#[derive(Debug, Serialize)]
pub struct Migration {
    /// The folder holding its store, files and report.
    pub folder: PathBuf,
    /// The run.
    pub run: RunId,
    /// Records the export staged.
    pub exported: u64,
    /// The import's summary.
    pub import: LoadOutput,
    /// Of its failures, records held back by the target's limits for a later run.
    pub held_back: u64,
    /// Per kind: source, staged, loaded, found.
    pub counts: Vec<CountLine>,
    /// The source's scan before the export: (kind, count, exact), when it answered.
    pub scanned: Option<Vec<(&'static str, u64, bool)>>,
    /// What the proposed mapping.toml matched.
    pub mapped: MapLine,
    /// The deep comparison of a sample read back from the target.
    pub deep: DeepReport,
    /// Whether every count agrees and the sample compared equal.
    pub verified: bool,
    /// The report's files.
    pub report: Option<ReportFiles>,
}

/// Why the demo could not migrate.
#[derive(Debug)]
pub enum Unavailable {
    /// The target's load path is not built: the demo shows the checks only.
    NotBuilt(String),
}

/// Records whose load failed for a limit that passes with time (a transient kind, such as a
/// per-conversation message limit per minute): a later `deskmove import` writes them.
async fn waiting_for_limits(store: &SqliteStore) -> anyhow::Result<u64> {
    let mut waiting = 0;
    let mut after = None;
    loop {
        let page = store.problems(after.as_ref(), 1_000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.problem.clone());
        waiting += page
            .iter()
            .filter(|p| p.problem.stage == Stage::Load && p.problem.kind.is_transient())
            .count() as u64;
    }
    Ok(waiting)
}

/// Removes what an earlier demo left in `folder` (only the files the demo writes).
fn fresh(folder: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder)?;
    for name in [
        MAPPING_FILE,
        "deskmove.sqlite",
        "deskmove.sqlite-wal",
        "deskmove.sqlite-shm",
    ] {
        let path = folder.join(name);
        if path.exists() {
            std::fs::remove_file(path)?;
        }
    }
    for name in ["blobs", "reports"] {
        let path = folder.join(name);
        if path.exists() {
            std::fs::remove_dir_all(path)?;
        }
    }
    Ok(())
}

/// Migrates `source`'s company into `target`, both running sandboxes.
pub async fn migrate(
    dir: &Path,
    source: &LocalSandbox,
    target: &LocalSandbox,
) -> anyhow::Result<Result<Migration, Unavailable>> {
    let name = |s: &LocalSandbox| s.connector().display_name();
    let source_section = source
        .source_section()
        .ok_or_else(|| anyhow::anyhow!("{} has no source settings", name(source)))?;
    let target_section = target
        .target_section()
        .ok_or_else(|| anyhow::anyhow!("{} has no target settings", name(target)))?;
    let folder = dir.join(DEMO_DIR);
    fresh(&folder)?;
    // So `status` and `archive` work on the demo's store afterwards (they read [store] from it).
    let config = folder.join(CONFIG_FILE);
    if !config.exists() {
        std::fs::write(
            &config,
            template(
                SourceName(source.connector()),
                TargetName(target.connector()),
            ),
        )?;
    }
    let store = SqliteStore::open(folder.join("deskmove.sqlite"))?;
    let blobs = BlobStore::local(folder.join("blobs"))?;
    let import_target = match target_section.import_target(Some(&target.token()), blobs.clone()) {
        Ok(t) => t,
        Err(e) if e.kind == ErrorKind::Config => {
            store.close()?;
            return Ok(Err(Unavailable::NotBuilt(e.message)));
        }
        Err(e) => anyhow::bail!("{}: {}", name(target), e.message),
    };
    let export_source = source_section
        .export_source(&source.token(), &NormalizeConfig::default())
        .map_err(|e| anyhow::anyhow!("{}: {}", name(source), e.message))?;
    let preflight = import_target
        .preflight()
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", name(target), e.message))?;
    if !preflight.ok() {
        anyhow::bail!(
            "the {} sandbox refused the import: {}",
            name(target),
            preflight.refusals.join("; ")
        );
    }

    let run = store
        .start_run(NewRun {
            command: "demo".into(),
            source_system: Some(source.connector().name().to_owned()),
            target_system: Some(target.connector().name().to_owned()),
            target: Some(import_target.instance()),
            started_at: jiff::Timestamp::now(),
        })
        .await?;
    // What `deskmove scan` shows first: the source's counts, read-only.
    let scanned = export_source.scan().await.ok().map(|scan| {
        scan.kinds
            .iter()
            .map(|(kind, count)| (kind.as_str(), count.count, count.exact))
            .collect::<Vec<_>>()
    });
    let progress = StderrProgress::new();
    let extracted = export_source
        .extract(&Engine::new(&store, &blobs).with_observer(&progress), run)
        .await;
    progress.finish();
    let extracted = match extracted {
        Ok(report) => report,
        Err(e) => {
            store
                .finish_run(run, RunStatus::Failed, jiff::Timestamp::now())
                .await?;
            anyhow::bail!(
                "the demo's export stopped: {}. {}",
                chain(&e),
                e.kind().solution()
            );
        }
    };
    // What `deskmove map` does next: a mapping.toml proposed from what was staged, agents
    // matched by email against the target's; the demo loads with it, as a user would after
    // reviewing it.
    let (facts, _) = crate::commands::map::staged_facts(&store).await?;
    let agents = target_section.agent_emails(&target.token()).await?;
    let proposal = target_section
        .propose_mapping(None, &facts, &agents)
        .map_err(|e| anyhow::anyhow!("the demo's mapping proposal failed: {e}"))?;
    std::fs::write(folder.join(MAPPING_FILE), &proposal.text)?;
    let import_target = import_target
        .with_mapping_toml(&proposal.text)
        .map_err(|e| anyhow::anyhow!("{}: {}", name(target), e.message))?;
    let mapped = MapLine {
        agents_matched: proposal.agents_matched.len(),
        agents_unmatched: proposal.agents_unmatched.len(),
        collisions: proposal.collisions.len(),
    };
    let progress = LoadProgress::new(Phase::Load);
    let loaded = import_target
        .load(&Engine::new(&store, &blobs).with_observer(&progress), run)
        .await;
    progress.finish();
    let loaded = match loaded {
        Ok(report) => report,
        Err(e) => {
            store
                .finish_run(run, RunStatus::Failed, jiff::Timestamp::now())
                .await?;
            anyhow::bail!(
                "the demo's import stopped: {}. {}",
                chain(&e),
                e.kind().solution()
            );
        }
    };
    let held_back = waiting_for_limits(&store).await?;
    let status = if extracted.problems() > 0 || import::has_problems(&loaded) {
        RunStatus::CompletedWithProblems
    } else {
        RunStatus::Succeeded
    };
    store
        .finish_run(run, status, jiff::Timestamp::now())
        .await?;

    let world = source.world_counts();
    let counts: Vec<CountLine> = verify::reconcile(&store, &import_target)
        .await?
        .into_iter()
        .map(|check| {
            let kind: Option<RecordKind> = check.kind.parse().ok();
            CountLine {
                kind: check.kind,
                source: world
                    .iter()
                    .find(|(k, _)| Some(*k) == kind)
                    .map(|(_, n)| *n),
                check,
            }
        })
        .collect();
    // What `deskmove verify` does after the counts: a sample read back and compared in depth.
    let deep = import_target
        .verify_deep(
            &Engine::new(&store, &blobs),
            VerifyOptions {
                sample: Some(DEFAULT_SAMPLE),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("the demo's deep verify stopped: {}", chain(&e)))?;
    let report =
        workspace::write_report(&store, &folder, run, Some(&import_target.fidelity())).await;
    store.close()?;
    Ok(Ok(Migration {
        folder,
        run,
        exported: extracted.records(),
        import: LoadOutput::new(preflight, &loaded),
        held_back,
        verified: counts.iter().all(CountLine::ok) && deep.ok(),
        counts,
        scanned,
        mapped,
        deep,
        report,
    }))
}
