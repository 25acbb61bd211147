//! `deskmove run`: the whole migration in one command, `export` then `import` as one run. The
//! target's safety check goes first, so a refusal changes nothing anywhere. Resumable like both
//! halves: a re-run continues where the last stopped, and a later one is the delta top-up.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use deskmove_core::Classify;
use deskmove_engine::Engine;
use deskmove_store::{NewRun, RunId, RunStatus, Store};
use serde::Serialize;

use crate::EXIT_PROBLEMS;
use crate::commands::import::{self, LoadOutput};
use crate::config::Config;
use crate::progress::{StderrProgress, plural};
use crate::workspace::{self, ReportFiles, Stopped, chain};

/// Arguments of `deskmove run`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The same as `deskmove export` followed by `deskmove import`, recorded as one run: the
target's safety check first (a refusal exits 2 and nothing is read or written), then every
stream of the source into the staging store, then every staged record into the target.

Re-running is the delta top-up: only what changed at the source is fetched, only what changed
is written. `deskmove rollback` removes what runs created.")]
pub struct RunArgs {
    /// Go ahead even when the target's safety check refuses (its reasons are still printed).
    #[arg(long)]
    pub force: bool,
    /// Print one JSON document on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// The export half's totals.
#[derive(Debug, Serialize)]
struct ExtractLine {
    records: u64,
    pages: u64,
    problems: u64,
    files: u64,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct RunOutput {
    run: RunId,
    source: &'static str,
    status: &'static str,
    export: ExtractLine,
    import: LoadOutput,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<ReportFiles>,
}

/// Runs the command; `Ok` holds 0, or 3 when problems were recorded in either half.
pub async fn run(dir: &Path, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(dir)?;
    let connector = config.source.connector();
    // Every setting and token is checked before anything is touched.
    let source = if config.source.needs_token() {
        workspace::export_source(dir, &config)?
    } else {
        config
            .source
            .export_source_in(dir, None, &config.normalize)
            .map_err(workspace::setup_error)?
    };
    let store = workspace::open_store(dir, &config, true)?;
    let blobs = workspace::open_blobs(dir, &config)?;
    let (target, preflight) = import::prepare(dir, &config, &blobs, args.force).await?;
    let run = store
        .start_run(NewRun {
            command: "run".into(),
            source_system: Some(connector.name().to_owned()),
            target_system: Some(config.target.connector().name().to_owned()),
            target: Some(target.instance()),
            started_at: jiff::Timestamp::now(),
        })
        .await?;

    let progress = StderrProgress::new();
    let engine = Engine::new(&store, &blobs).with_observer(&progress);
    let extracted = tokio::select! {
        result = source.extract(&engine, run) => Some(result),
        _ = tokio::signal::ctrl_c() => None,
    };
    progress.finish();
    let extracted = match extracted {
        Some(Ok(report)) => Ok(report),
        Some(Err(e)) => Err((chain(&e), e.kind().solution().to_owned())),
        None => Err((
            "interrupted (Ctrl-C)".to_owned(),
            "What was read so far is kept; `deskmove run` again resumes where it stopped."
                .to_owned(),
        )),
    };
    let loaded = match &extracted {
        Ok(_) => Some(import::load_phase(&store, &blobs, &target, run).await),
        Err(_) => None,
    };
    let failure = match (&extracted, &loaded) {
        (Err(e), _) => Some(("the export", e.clone())),
        (Ok(_), Some(Err(e))) => Some(("the import", e.clone())),
        _ => None,
    };
    let problems = match (&extracted, &loaded) {
        (Ok(x), Some(Ok(l))) => x.problems() > 0 || import::has_problems(l),
        _ => false,
    };
    let status = match (&failure, problems) {
        (Some(_), _) => RunStatus::Failed,
        (None, true) => RunStatus::CompletedWithProblems,
        (None, false) => RunStatus::Succeeded,
    };
    store
        .finish_run(run, status, jiff::Timestamp::now())
        .await?;
    let report = workspace::write_report(&store, dir, run, Some(&target.fidelity())).await;
    store.close()?;
    if let Some((half, (message, advice))) = failure {
        return Err(Stopped {
            message: format!("{half} of run #{run} stopped: {message}"),
            advice,
        }
        .into());
    }
    let (Ok(extracted), Some(Ok(loaded))) = (extracted, loaded) else {
        unreachable!("a failure of either half returned above");
    };
    let output = RunOutput {
        run,
        source: connector.name(),
        status: status.as_str(),
        export: ExtractLine {
            records: extracted.records(),
            pages: extracted.pages(),
            problems: extracted.problems(),
            files: extracted.streams.iter().map(|s| s.blobs).sum(),
        },
        import: LoadOutput::new(preflight, &loaded),
        report,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        print!("{}", render(&output));
    }
    Ok(if problems {
        ExitCode::from(EXIT_PROBLEMS)
    } else {
        ExitCode::SUCCESS
    })
}

fn render(out: &RunOutput) -> String {
    let mut s = format!(
        "Run #{}: {} → {}: {}.\n",
        out.run, out.source, out.import.target, out.status
    );
    let _ = writeln!(
        s,
        "\nExport: {}, {}, {}, {}.",
        plural(out.export.records, "record"),
        plural(out.export.pages, "page"),
        plural(out.export.files, "file"),
        plural(out.export.problems, "problem")
    );
    let _ = writeln!(s, "\nImport:");
    import::render_load(&mut s, &out.import);
    import::render_report(&mut s, out.report.as_ref());
    let _ = writeln!(
        s,
        "\nRe-running `deskmove run` tops up what changed; `deskmove rollback` removes what runs created."
    );
    s
}
