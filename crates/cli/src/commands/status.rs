//! `deskmove status`: is the set-up complete, what does the staging store hold, what went wrong
//! and what to do next. Read-only: it never creates the store.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use deskmove_core::config::TokenSource;
use deskmove_store::{SqliteStore, StatusReport, Store};
use serde::Serialize;

use crate::commands::init::practise_hint;
use crate::config::Config;
use crate::registry::Connector;

/// How many examples to show per problem code.
const EXAMPLES_PER_PROBLEM: usize = 3;

/// Arguments of `deskmove status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Print one JSON document on stdout instead of the text report.
    #[arg(long)]
    pub json: bool,
}

/// One set-up check.
#[derive(Debug, Serialize)]
struct Check {
    ok: bool,
    message: String,
}

#[derive(Debug, Serialize)]
struct StatusOutput {
    source: &'static str,
    target: &'static str,
    store_path: String,
    blob_dir: String,
    default_phone_region: String,
    checks: Vec<Check>,
    /// `None` when nothing has been staged yet (the store file does not exist).
    store: Option<StatusReport>,
    /// Which sandboxes to practise on (text output only).
    #[serde(skip)]
    practise: String,
}

/// Runs the command.
pub async fn run(dir: &Path, args: &StatusArgs) -> anyhow::Result<()> {
    let config = Config::load(dir)?;
    let (source, target) = (config.source.connector(), config.target.connector());
    let checks = vec![
        if config.source.needs_token() {
            token_check("source", source, config.source.token_source(), dir)
        } else {
            Check {
                ok: true,
                message: "source: it reads a folder of saved answers; no token needed".to_owned(),
            }
        },
        if config.target.needs_token() {
            token_check("target", target, config.target.token_source(), dir)
        } else {
            Check {
                ok: true,
                message: "target: this load path writes the database directly; no token needed"
                    .to_owned(),
            }
        },
    ];
    let store_path = dir.join(&config.store.path);
    let store = if store_path.exists() {
        let store = SqliteStore::open(&store_path)
            .with_context(|| format!("cannot open the staging store {}", store_path.display()))?;
        let report = store.status(EXAMPLES_PER_PROBLEM).await?;
        store.close()?;
        Some(report)
    } else {
        None
    };
    let output = StatusOutput {
        source: source.name(),
        target: target.name(),
        practise: practise_hint(source, target),
        store_path: config.store.path.display().to_string(),
        blob_dir: config.store.blobs.display().to_string(),
        default_phone_region: config.normalize.default_phone_region.clone(),
        checks,
        store,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        print!("{}", render(&output));
    }
    Ok(())
}

fn token_check(
    side: &str,
    connector: Connector,
    place: Result<TokenSource, String>,
    dir: &Path,
) -> Check {
    let found = place.and_then(|place| place.locate(dir, connector.display_name()));
    match found {
        Ok(message) => Check {
            ok: true,
            message: format!("{side}: {message}"),
        },
        Err(message) => Check {
            ok: false,
            message: format!("{side}: {message}"),
        },
    }
}

fn render(out: &StatusOutput) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "deskmove: {} → {}", out.source, out.target);
    let _ = writeln!(
        s,
        "Store {}, attachments in {}/, phones without a country prefix read as {}.",
        out.store_path, out.blob_dir, out.default_phone_region
    );
    let _ = writeln!(s, "\nSet-up:");
    for check in &out.checks {
        let mark = if check.ok { "ok  " } else { "TODO" };
        let _ = writeln!(s, "  {mark} {}", check.message);
    }
    match &out.store {
        None => {
            let _ = writeln!(
                s,
                "\nStaging store: {} does not exist yet; nothing has been read or written.",
                out.store_path
            );
        }
        Some(report) => render_store(&mut s, &out.store_path, report),
    }
    let _ = writeln!(s, "\nNext:");
    if out.checks.iter().all(|c| c.ok) {
        let _ = writeln!(s, "  The set-up is complete.");
        if !out.practise.is_empty() {
            let _ = writeln!(s, "  {}", out.practise.trim_start());
        }
    } else {
        let _ = writeln!(
            s,
            "  Do the TODO items above, then run `deskmove status` again. Tokens go in the\n  environment (or a 0600 file), never in deskmove.toml."
        );
    }
    s
}

fn render_store(s: &mut String, path: &str, report: &StatusReport) {
    let _ = writeln!(s, "\nStaging store {path}:");
    if report.kinds.is_empty() {
        let _ = writeln!(s, "  empty");
    } else {
        let _ = writeln!(
            s,
            "  {:<22} {:>10} {:>10} {:>10} {:>10}",
            "kind", "staged", "loaded", "failed", "problems"
        );
        for k in &report.kinds {
            let _ = writeln!(
                s,
                "  {:<22} {:>10} {:>10} {:>10} {:>10}",
                k.kind.as_str(),
                k.staged,
                k.loaded,
                k.failed,
                k.problems
            );
        }
    }
    if !report.problems.is_empty() {
        let _ = writeln!(s, "\nProblems, by reason:");
        for group in &report.problems {
            let _ = writeln!(s, "  {} × {}", group.count, group.code);
            for example in &group.examples {
                let p = &example.problem;
                let _ = writeln!(s, "      {} ({}): {}", p.key, p.stage.as_str(), p.reason);
            }
        }
    }
    if !report.cursors.is_empty() {
        let _ = writeln!(s, "\nStreams:");
        for c in &report.cursors {
            let _ = writeln!(s, "  {:<30} at {}", c.stream, c.cursor);
        }
    }
    if let Some(last) = report.runs.last() {
        let _ = writeln!(
            s,
            "\nRuns: {} in all; the last, #{} `{}`, started {} and is {}.",
            report.runs.len(),
            last.id.0,
            last.command,
            last.started_at,
            last.status.as_str()
        );
        if let Some(target) = &last.target {
            let _ = writeln!(s, "  It wrote to {target}.");
        }
        if let Some(finished) = last.finished_at {
            let _ = writeln!(s, "  It finished {finished}.");
        }
        let loads = report
            .runs
            .iter()
            .filter(|r| r.target.is_some() && r.command != "rollback")
            .count();
        let _ = writeln!(
            s,
            "  {}",
            match loads {
                0 =>
                    "Nothing was imported yet: `deskmove import` writes the staged records into the target.",
                _ =>
                    "`deskmove rollback` removes what the imports created; `deskmove import` again writes only what changed.",
            }
        );
    }
}
