//! `deskmove import`: writes what the staging store holds into the target, one run of the
//! engine's load phase after the target's safety preflight. Every batch's outcomes commit to the
//! ledger together, so a re-run (after Ctrl-C, a kill or a failure) skips what is already there
//! and a later one writes only what changed.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use deskmove_core::Classify;
use deskmove_core::connector::Preflight;
use deskmove_engine::{Engine, LoadCounts, LoadReport};
use deskmove_store::{BlobStore, NewRun, RunId, RunStatus, SqliteStore, Store};
use serde::Serialize;

use crate::config::Config;
use crate::load_progress::{LoadProgress, Phase};
use crate::progress::plural;
use crate::registry::ImportTarget;
use crate::workspace::{self, ReportFiles, Stopped, chain};
use crate::{EXIT_PROBLEMS, UsageError};

/// Arguments of `deskmove import`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Runs the target's safety check first (webhooks, automations, auto-assignment, schema version);
a refusal exits 2 and says which setting to change, and nothing is written. Progress per record
kind goes to stderr; the summary (or `--json`) to stdout, and the run's report to
reports/run-<id>/report.{json,html}.

The mapping decisions in mapping.toml beside deskmove.toml are used when there is one.
Re-running is safe: records already in the target with the same content are not sent again,
and records that failed (say, held back by a limit) are tried again.
`deskmove rollback` removes what imports created.")]
pub struct ImportArgs {
    /// Go ahead even when the target's safety check refuses (its reasons are still printed).
    #[arg(long)]
    pub force: bool,
    /// Print one JSON document on stdout instead of the summary table.
    #[arg(long)]
    pub json: bool,
}

/// One kind's line of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct KindLine {
    /// The kind, or `total`.
    pub kind: &'static str,
    /// Created in the target.
    pub loaded: u64,
    /// Changed in the target.
    pub updated: u64,
    /// Not written, with a reason.
    pub skipped: u64,
    /// Could not be written, with a reason.
    pub failed: u64,
    /// Already in the target as they are.
    pub unchanged: u64,
    /// Problems recorded.
    pub problems: u64,
}

impl KindLine {
    fn new(kind: &'static str, c: &LoadCounts) -> Self {
        Self {
            kind,
            loaded: c.loaded,
            updated: c.updated,
            skipped: c.skipped,
            failed: c.failed,
            unchanged: c.unchanged,
            problems: c.problems,
        }
    }
}

/// What a load phase did, as the summary and `--json` show it.
#[derive(Debug, Serialize)]
pub struct LoadOutput {
    /// The target instance, `vendor/host/account/path`.
    pub target: String,
    /// What the safety check found.
    pub preflight: Preflight,
    /// Per kind in load order.
    pub kinds: Vec<KindLine>,
    /// Totals.
    pub total: KindLine,
    /// Staged kinds this load path cannot write at all.
    pub not_loadable: Vec<&'static str>,
}

impl LoadOutput {
    /// The summary of `report`, after `preflight`.
    pub fn new(preflight: Preflight, report: &LoadReport) -> Self {
        Self {
            target: report.target.to_string(),
            preflight,
            kinds: report
                .kinds
                .iter()
                .map(|(kind, c)| KindLine::new(kind.as_str(), c))
                .collect(),
            total: KindLine::new("total", &report.total()),
            not_loadable: report.not_loadable.iter().map(|k| k.as_str()).collect(),
        }
    }

    /// Records written into the target (created or changed).
    pub fn total_written(&self) -> u64 {
        self.total.loaded + self.total.updated
    }

    /// Whether records were skipped or failed with a reason (exit code 3).
    pub fn has_problems(&self) -> bool {
        self.total.failed > 0 || self.total.problems > 0
    }
}

/// Whether a load skipped or failed records with a reason (exit code 3).
pub fn has_problems(report: &LoadReport) -> bool {
    let total = report.total();
    total.failed > 0 || total.problems > 0
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct ImportOutput {
    run: RunId,
    status: &'static str,
    #[serde(flatten)]
    load: LoadOutput,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<ReportFiles>,
}

/// Builds the target from the settings and runs its safety check; a refusal is a usage error
/// (exit 2, nothing written) unless `force`. Prints what was neutralised and the warnings.
pub async fn prepare(
    dir: &Path,
    config: &Config,
    blobs: &BlobStore,
    force: bool,
) -> anyhow::Result<(ImportTarget, Preflight)> {
    let target = workspace::import_target(dir, config, blobs, force)?;
    let preflight = target.preflight().await.map_err(workspace::setup_error)?;
    for line in &preflight.neutralised {
        eprintln!("preflight: {line}");
    }
    for line in &preflight.warnings {
        eprintln!("preflight warning: {line}");
    }
    if !preflight.ok() {
        let reasons = preflight
            .refusals
            .iter()
            .map(|r| format!("  - {r}"))
            .collect::<Vec<_>>()
            .join("\n");
        if !force {
            return Err(UsageError(format!(
                "{} refuses the import; nothing was written:\n{reasons}\nChange these settings and run again, or pass `--force` to go ahead anyway.",
                target.instance()
            ))
            .into());
        }
        eprintln!(
            "preflight: going ahead (--force) although {} refuses:\n{reasons}",
            target.instance()
        );
    }
    Ok((target, preflight))
}

/// Runs the load phase for `run` with progress on stderr; stops on Ctrl-C (what committed
/// stays committed). `Err` holds the reason and the advice.
pub async fn load_phase(
    store: &SqliteStore,
    blobs: &BlobStore,
    target: &ImportTarget,
    run: RunId,
) -> Result<LoadReport, (String, String)> {
    load_phase_chosen(store, blobs, target, run, None).await
}

/// [`load_phase`] of only what `chosen` takes, when given.
pub async fn load_phase_chosen(
    store: &SqliteStore,
    blobs: &BlobStore,
    target: &ImportTarget,
    run: RunId,
    chosen: Option<deskmove_engine::Chosen>,
) -> Result<LoadReport, (String, String)> {
    let progress = LoadProgress::new(Phase::Load);
    let engine = Engine::new(store, blobs).with_observer(&progress);
    // Dropping the phase mid-batch is safe: the target is idempotent and the ledger commits
    // each batch whole.
    let outcome = tokio::select! {
        result = target.load_chosen(&engine, run, chosen) => Some(result),
        _ = tokio::signal::ctrl_c() => None,
    };
    progress.finish();
    match outcome {
        Some(Ok(report)) => Ok(report),
        Some(Err(e)) => Err((chain(&e), e.kind().solution().to_owned())),
        None => Err((
            "interrupted (Ctrl-C)".to_owned(),
            "What was written so far is in the ledger; `deskmove import` again continues without duplicates.".to_owned(),
        )),
    }
}

/// Runs the command; `Ok` holds 0, or 3 when records were skipped or failed.
pub async fn run(dir: &Path, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(dir)?;
    let store = workspace::open_store(dir, &config, false)?;
    let blobs = workspace::open_blobs(dir, &config)?;
    let (target, preflight) = prepare(dir, &config, &blobs, args.force).await?;
    let run = store
        .start_run(NewRun {
            command: "import".into(),
            source_system: None,
            target_system: Some(config.target.connector().name().to_owned()),
            target: Some(target.instance()),
            started_at: jiff::Timestamp::now(),
        })
        .await?;
    let outcome = load_phase(&store, &blobs, &target, run).await;
    let status = match &outcome {
        Ok(report) if has_problems(report) => RunStatus::CompletedWithProblems,
        Ok(_) => RunStatus::Succeeded,
        Err(_) => RunStatus::Failed,
    };
    store
        .finish_run(run, status, jiff::Timestamp::now())
        .await?;
    let report = workspace::write_report(&store, dir, run, Some(&target.fidelity())).await;
    store.close()?;
    let report_ = match outcome {
        Ok(report_) => report_,
        Err((message, advice)) => {
            return Err(Stopped {
                message: format!("the import (run #{run}) stopped: {message}"),
                advice,
            }
            .into());
        }
    };
    let output = ImportOutput {
        run,
        status: status.as_str(),
        load: LoadOutput::new(preflight, &report_),
        report,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        let mut s = format!(
            "Imported into {} (run #{}): {}.\n",
            output.load.target,
            run,
            status.as_str()
        );
        render_load(&mut s, &output.load);
        render_report(&mut s, output.report.as_ref());
        let _ = writeln!(
            s,
            "\nRe-running `deskmove import` writes only what changed; `deskmove rollback` removes what imports created."
        );
        print!("{s}");
    }
    Ok(if output.load.has_problems() {
        ExitCode::from(EXIT_PROBLEMS)
    } else {
        ExitCode::SUCCESS
    })
}

/// The per-kind table, the kinds this path cannot take and where the problems are listed.
pub fn render_load(s: &mut String, out: &LoadOutput) {
    let row = |s: &mut String, l: &KindLine| {
        let _ = writeln!(
            s,
            "  {:<22} {:>8} {:>8} {:>8} {:>8} {:>10} {:>9}",
            l.kind, l.loaded, l.updated, l.skipped, l.failed, l.unchanged, l.problems
        );
    };
    let _ = writeln!(
        s,
        "  {:<22} {:>8} {:>8} {:>8} {:>8} {:>10} {:>9}",
        "kind", "loaded", "updated", "skipped", "failed", "unchanged", "problems"
    );
    for l in out
        .kinds
        .iter()
        .filter(|l| l.loaded + l.updated + l.skipped + l.failed + l.unchanged + l.problems > 0)
    {
        row(s, l);
    }
    row(s, &out.total);
    if !out.not_loadable.is_empty() {
        let _ = writeln!(
            s,
            "\nThis load path cannot write {} records; they stay in the staging store (see docs/mapping).",
            out.not_loadable.join(", ")
        );
    }
    if out.has_problems() {
        let _ = writeln!(
            s,
            "\n{} recorded; `deskmove status` and the report list each with its reason.",
            plural(out.total.problems.max(out.total.failed), "problem")
        );
    }
}

/// Where the report is.
pub fn render_report(s: &mut String, files: Option<&ReportFiles>) {
    if let Some(files) = files {
        let _ = writeln!(s, "\nReport: {}", files.html.display());
    }
}
