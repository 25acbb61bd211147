//! `deskmove export`: reads everything the source holds into the staging store, one run of the
//! engine's extract phase. Every page is committed with its cursor, so a re-run (after Ctrl-C, a
//! kill or a failure) continues where the last one stopped, and a later one tops up what changed.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use deskmove_core::{Classify, ErrorKind};
use deskmove_engine::{Engine, ExtractReport};
use deskmove_store::{BlobStore, NewRun, RunId, RunStatus, SqliteStore, Store};
use serde::Serialize;

use crate::config::{Config, read_token};
use crate::progress::{StderrProgress, plural};
use crate::{EXIT_PROBLEMS, UsageError};

/// Arguments of `deskmove export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Print one JSON document on stdout instead of the summary table.
    #[arg(long)]
    pub json: bool,
}

/// One stream's line of the summary.
#[derive(Debug, Serialize)]
struct StreamLine {
    stream: String,
    resumed: bool,
    attempts: u32,
    records: u64,
    pages: u64,
    problems: u64,
    files: u64,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct ExportOutput {
    source: &'static str,
    run: RunId,
    status: &'static str,
    records: u64,
    pages: u64,
    problems: u64,
    /// Current problems of every run so far, this one included.
    problems_in_store: u64,
    streams: Vec<StreamLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    advice: Option<&'static str>,
}

/// Why an export stopped, with what to do about it (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{message}\n{advice}")]
struct Stopped {
    message: String,
    advice: String,
}

/// Runs the command; `Ok` holds 0, or 3 when problems were recorded.
pub async fn run(dir: &Path, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(dir)?;
    let connector = config.source.connector();
    let token = if config.source.needs_token() {
        let place = config.source.token_source().map_err(UsageError)?;
        let token = read_token(&place, dir, connector.display_name())
            .map_err(|message| UsageError(format!("[source]: {message}")))?;
        Some(token)
    } else {
        None
    };
    // Before the store is touched: a setting that cannot work changes nothing.
    let source = config
        .source
        .export_source_in(dir, token.as_ref(), &config.normalize)
        .map_err(|e| {
            if e.kind == ErrorKind::Config {
                anyhow::Error::new(UsageError(e.message))
            } else {
                anyhow::Error::new(Stopped {
                    message: e.message,
                    advice: e.kind.solution().to_owned(),
                })
            }
        })?;

    let store_path = dir.join(&config.store.path);
    if let Some(parent) = store_path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    }
    let store = SqliteStore::open(&store_path)
        .with_context(|| format!("cannot open the staging store {}", store_path.display()))?;
    let blob_dir = dir.join(&config.store.blobs);
    let blobs = BlobStore::local(&blob_dir)
        .with_context(|| format!("cannot open the blob folder {}", blob_dir.display()))?;
    let run = store
        .start_run(NewRun {
            command: "export".into(),
            source_system: Some(connector.name().to_owned()),
            target_system: None,
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await?;

    let mut progress = StderrProgress::new();
    // The estimate costs a few counting calls: spent only when someone watches the live lines
    // (logged runs, and the kill tests' request accounting, stay call-for-call the same).
    if progress.is_live() {
        progress = progress.with_expected(source.expected_records().await);
    }
    if let Some(budget) = source.budget_reader() {
        progress = progress.with_budget(budget);
    }
    let engine = Engine::new(&store, &blobs).with_observer(&progress);
    // Dropping the phase mid-page is safe: each page commits in one transaction with its cursor.
    let outcome = tokio::select! {
        result = source.extract(&engine, run) => Some(result),
        _ = tokio::signal::ctrl_c() => None,
    };
    progress.finish();

    let (report, status, failure) = match outcome {
        Some(Ok(report)) => {
            let status = if report.problems() > 0 {
                RunStatus::CompletedWithProblems
            } else {
                RunStatus::Succeeded
            };
            (report, status, None)
        }
        Some(Err(e)) => {
            let kind = e.kind();
            (
                ExtractReport::default(),
                RunStatus::Failed,
                Some((chain(&e), kind.solution())),
            )
        }
        None => (
            ExtractReport::default(),
            RunStatus::Failed,
            Some((
                "interrupted (Ctrl-C)".to_owned(),
                "What was read so far is kept; `deskmove export` again resumes where it stopped.",
            )),
        ),
    };
    store
        .finish_run(run, status, jiff::Timestamp::now())
        .await?;
    let stored = store.status(0).await?;
    store.close()?;

    let output = ExportOutput {
        source: connector.name(),
        run,
        status: status.as_str(),
        records: report.records(),
        pages: report.pages(),
        problems: report.problems(),
        problems_in_store: stored.problems.iter().map(|g| g.count).sum(),
        streams: report
            .streams
            .iter()
            .map(|s| StreamLine {
                stream: s.stream.clone(),
                resumed: s.resumed,
                attempts: s.attempts,
                records: s.records,
                pages: s.pages,
                problems: s.problems,
                files: s.blobs,
            })
            .collect(),
        error: failure.as_ref().map(|(message, _)| message.clone()),
        advice: failure.as_ref().map(|(_, advice)| *advice),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else if failure.is_none() {
        print!("{}", render(&output));
    }
    if let Some((message, advice)) = failure {
        return Err(Stopped {
            message: format!("the export (run #{run}) stopped: {message}"),
            advice: advice.to_owned(),
        }
        .into());
    }
    Ok(match status {
        RunStatus::CompletedWithProblems => ExitCode::from(EXIT_PROBLEMS),
        _ => ExitCode::SUCCESS,
    })
}

/// An error and its causes on one line (the engine's error names the stream, its cause the call).
fn chain(error: &dyn std::error::Error) -> String {
    let mut s = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !s.contains(&text) {
            let _ = write!(s, ": {text}");
        }
        cause = e.source();
    }
    s
}

fn render(out: &ExportOutput) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Exported from {} (run #{}): {}.",
        out.source, out.run, out.status
    );
    let _ = writeln!(
        s,
        "  {:<36} {:>10} {:>8} {:>9} {:>7}",
        "stream", "records", "pages", "problems", "files"
    );
    for l in &out.streams {
        let _ = writeln!(
            s,
            "  {:<36} {:>10} {:>8} {:>9} {:>7}",
            l.stream, l.records, l.pages, l.problems, l.files
        );
    }
    let files: u64 = out.streams.iter().map(|l| l.files).sum();
    let _ = writeln!(
        s,
        "  {:<36} {:>10} {:>8} {:>9} {:>7}",
        "total", out.records, out.pages, out.problems, files
    );
    if out.problems > 0 {
        let _ = writeln!(
            s,
            "\n{} recorded; `deskmove status` lists each with its reason.",
            plural(out.problems, "problem")
        );
    } else if out.problems_in_store > 0 {
        let _ = writeln!(
            s,
            "\nNo new problems; the store holds {} from earlier runs (`deskmove status` lists them).",
            plural(out.problems_in_store, "problem")
        );
    }
    let _ = writeln!(
        s,
        "\nRe-running `deskmove export` fetches only what changed; `deskmove status` shows what is staged."
    );
    s
}
