//! `deskmove rollback`: removes from the target what imports created there, as the ledger
//! records it, in reverse dependency order (messages before their conversations, conversations
//! before their contacts). Records that were in the target before deskmove are never touched.
//! Idempotent: what is already gone counts as removed, and a second rollback finds nothing.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use deskmove_core::{Classify, RecordKind, SourceKey, TargetInstance};
use deskmove_engine::{Engine, LoadCounts};
use deskmove_store::{NewRun, Run, RunId, RunStatus, SqliteStore, Store};
use serde::Serialize;

use crate::config::Config;
use crate::load_progress::{LoadProgress, Phase};
use crate::progress::plural;
use crate::workspace::{self, ReportFiles, Stopped, chain};
use crate::{EXIT_PROBLEMS, UsageError};

/// Arguments of `deskmove rollback`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Without --run, removes what every import into the configured target created (newest run
first); with --run, only what that run created (`deskmove status` lists the runs). Contacts,
conversations and messages that were in the target before are left exactly as they were.

Safe to repeat and to resume after an interruption: a second rollback removes nothing. A later
`deskmove import` creates the removed records again.")]
pub struct RollbackArgs {
    /// Remove only what this run created (its number from `deskmove status`).
    #[arg(long = "run", value_name = "ID")]
    pub run: Option<i64>,
    /// Print one JSON document on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// One rolled-back run's line of the summary.
#[derive(Debug, Serialize)]
struct RunLine {
    run: RunId,
    command: String,
    removed: u64,
    failed: u64,
    kinds: Vec<KindLine>,
}

#[derive(Debug, Serialize)]
struct KindLine {
    kind: &'static str,
    removed: u64,
    failed: u64,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct RollbackOutput {
    /// This rollback's own run; none when there was nothing to do (nothing is recorded then).
    run: Option<RunId>,
    target: String,
    status: &'static str,
    removed: u64,
    failed: u64,
    rolled_back: Vec<RunLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<ReportFiles>,
}

/// The runs to undo: `--run`, or every run that loaded into `target`, newest first.
fn chosen(runs: &[Run], target: &str, wanted: Option<i64>) -> anyhow::Result<Vec<Run>> {
    let into_target = |r: &&Run| {
        r.command != "rollback" && r.target.as_ref().is_some_and(|t| t.to_string() == target)
    };
    match wanted {
        Some(id) => {
            let Some(run) = runs.iter().find(|r| r.id.0 == id) else {
                return Err(UsageError(format!(
                    "there is no run #{id}; `deskmove status` lists the runs."
                ))
                .into());
            };
            if !into_target(&run) {
                return Err(UsageError(format!(
                    "run #{id} (`{}`) did not load into {target}, so it has nothing to roll back there; `deskmove status` lists the runs.",
                    run.command
                ))
                .into());
            }
            Ok(vec![run.clone()])
        }
        None => Ok(runs.iter().rev().filter(into_target).cloned().collect()),
    }
}

/// Whether run `of` created anything in `target` that no rollback has removed yet.
///
/// The engine records a removal as a ledger entry written by the rollback's run and keeps the
/// old target id, while a failed removal writes only a problem; so an entry whose last writer
/// is a rollback run is gone, and a run all of whose entries are is skipped instead of being
/// "removed" a second time.
async fn has_anything_left(
    store: &SqliteStore,
    of: RunId,
    target: &TargetInstance,
    rollbacks: &HashSet<RunId>,
) -> anyhow::Result<bool> {
    for kind in RecordKind::ALL {
        let mut after: Option<SourceKey> = None;
        loop {
            let page = store
                .created_by(of, target, kind, after.as_ref(), PAGE)
                .await?;
            if page.iter().any(|e| !rollbacks.contains(&e.run)) {
                return Ok(true);
            }
            match page.last() {
                Some(last) if page.len() == PAGE => after = Some(last.key.clone()),
                _ => break,
            }
        }
    }
    Ok(false)
}

/// Ledger entries read at once while looking for what is left.
const PAGE: usize = 1_000;

/// Runs the command; `Ok` holds 0, or 3 when some records could not be removed.
pub async fn run(dir: &Path, args: &RollbackArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(dir)?;
    let store = workspace::open_store(dir, &config, false)?;
    let blobs = workspace::open_blobs(dir, &config)?;
    let target = workspace::import_target(dir, &config, &blobs, false)?;
    let instance = target.instance();
    let runs = store.runs().await?;
    let rollbacks: HashSet<RunId> = runs
        .iter()
        .filter(|r| r.command == "rollback")
        .map(|r| r.id)
        .collect();
    let mut undo = Vec::new();
    for of in chosen(&runs, &instance.to_string(), args.run)? {
        if has_anything_left(&store, of.id, &instance, &rollbacks).await? {
            undo.push(of);
        }
    }
    if undo.is_empty() {
        let output = RollbackOutput {
            run: None,
            target: instance.to_string(),
            status: "nothing_to_do",
            removed: 0,
            failed: 0,
            rolled_back: Vec::new(),
            report: None,
        };
        store.close()?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&output)?);
        } else {
            print!("{}", render(&output));
        }
        return Ok(ExitCode::SUCCESS);
    }
    // The check opens the connection and confirms the schema; removing needs no side effect
    // switched off, so a refusal is only shown.
    let preflight = target.preflight().await.map_err(workspace::setup_error)?;
    for line in &preflight.refusals {
        eprintln!("preflight: {line}");
    }

    let run = store
        .start_run(NewRun {
            command: "rollback".into(),
            source_system: None,
            target_system: Some(config.target.connector().name().to_owned()),
            target: Some(instance.clone()),
            started_at: jiff::Timestamp::now(),
        })
        .await?;
    let progress = LoadProgress::new(Phase::Rollback);
    let engine = Engine::new(&store, &blobs).with_observer(&progress);
    let mut lines = Vec::new();
    let mut failure = None;
    for of in &undo {
        eprintln!("Rolling back run #{} (`{}`)…", of.id, of.command);
        let outcome = tokio::select! {
            result = target.rollback(&engine, run, of.id) => Some(result),
            _ = tokio::signal::ctrl_c() => None,
        };
        match outcome {
            Some(Ok(report)) => {
                let mut total = LoadCounts::default();
                for (_, c) in &report.kinds {
                    total.add(c);
                }
                lines.push(RunLine {
                    run: of.id,
                    command: of.command.clone(),
                    removed: total.loaded,
                    failed: total.failed,
                    kinds: report
                        .kinds
                        .iter()
                        .filter(|(_, c)| c.loaded + c.failed > 0)
                        .map(|(kind, c)| KindLine {
                            kind: kind.as_str(),
                            removed: c.loaded,
                            failed: c.failed,
                        })
                        .collect(),
                });
            }
            Some(Err(e)) => {
                failure = Some((chain(&e), e.kind().solution().to_owned()));
                break;
            }
            None => {
                failure = Some((
                    "interrupted (Ctrl-C)".to_owned(),
                    "What was removed so far is recorded; `deskmove rollback` again continues."
                        .to_owned(),
                ));
                break;
            }
        }
    }
    progress.finish();
    let removed: u64 = lines.iter().map(|l| l.removed).sum();
    let failed: u64 = lines.iter().map(|l| l.failed).sum();
    let status = match (&failure, failed) {
        (Some(_), _) => RunStatus::Failed,
        (None, 0) => RunStatus::Succeeded,
        (None, _) => RunStatus::CompletedWithProblems,
    };
    store
        .finish_run(run, status, jiff::Timestamp::now())
        .await?;
    let report = workspace::write_report(&store, dir, run, None).await;
    store.close()?;
    if let Some((message, advice)) = failure {
        return Err(Stopped {
            message: format!("the rollback (run #{run}) stopped: {message}"),
            advice,
        }
        .into());
    }
    let output = RollbackOutput {
        run: Some(run),
        target: instance.to_string(),
        status: status.as_str(),
        removed,
        failed,
        rolled_back: lines,
        report,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        print!("{}", render(&output));
    }
    Ok(if failed > 0 {
        ExitCode::from(EXIT_PROBLEMS)
    } else {
        ExitCode::SUCCESS
    })
}

fn render(out: &RollbackOutput) -> String {
    let mut s = String::new();
    if out.removed == 0 && out.failed == 0 {
        let _ = writeln!(
            s,
            "Nothing to roll back in {}: nothing deskmove created there is left.",
            out.target
        );
        return s;
    }
    let _ = writeln!(
        s,
        "Rolled back in {} (run #{}): {} removed.",
        out.target,
        out.run.map_or(0, |r| r.0),
        plural(out.removed, "record")
    );
    for line in &out.rolled_back {
        let _ = writeln!(s, "  run #{} `{}`:", line.run, line.command);
        for k in &line.kinds {
            let _ = write!(s, "    {:<22} {:>8} removed", k.kind, k.removed);
            if k.failed > 0 {
                let _ = write!(s, ", {} failed", k.failed);
            }
            s.push('\n');
        }
    }
    if out.failed > 0 {
        let _ = writeln!(
            s,
            "\n{} could not be removed; `deskmove status` lists why, and `deskmove rollback` again retries them.",
            plural(out.failed, "record")
        );
    }
    if let Some(files) = &out.report {
        let _ = writeln!(s, "\nReport: {}", files.html.display());
    }
    s
}
