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

use deskmove_core::RecordKind;
use deskmove_core::connector::Aspect;
use deskmove_core::model::ConversationState;
use deskmove_engine::{LoadReport, ResyncReport, Selection};

use crate::commands::import::{self, LoadOutput};
use crate::config::Config;
use crate::progress::{StderrProgress, plural};
use crate::workspace::{self, ReportFiles, Stopped, chain};
use crate::{EXIT_PROBLEMS, UsageError};

/// Arguments of `deskmove run`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The same as `deskmove export` followed by `deskmove import`, recorded as one run: the
target's safety check first (a refusal exits 2 and nothing is read or written), then every
stream of the source into the staging store, then every staged record into the target.

Re-running is the delta top-up: only what changed at the source is fetched, only what changed
is written. `deskmove rollback` removes what runs created.

Choosing what loads (everything is still exported; what is not chosen stays staged, and a
later run loads it without loading anything twice):
  --sample 50                 50 conversations spread over the lengths, for a batch test
  --closed-before 2024-06-01  the initial run of a cutover: conversations closed before the
                              date; a later plain `deskmove run` moves the rest and what changed
  --created-after/--created-before/--updated-after/--updated-before DATE, --state, --channel,
  --closed-older-than DAYS    the filters, over the staged conversations
Dates are a day (2024-06-01, midnight UTC) or a time with its offset (2024-06-01T09:00:00Z).
A chosen conversation brings its messages, files and contacts; the directory (agents, teams,
labels, attributes, companies, macros) always loads whole; help-center articles wait for a run
without a selection.

`--only attachments` loads only files (every file not in the target yet, or whose bytes
changed). `--only attribution` needs a database path: an API path cannot re-author a
message. `--only labels` (after loading the tags) and `--only states` write again only that
aspect of the conversations already in the target, under the current mapping.toml, where it
differs (no message, no other field; nobody notified); the export still runs first, so a fix at
the source comes along. Both need the API path for now.")]
pub struct RunArgs {
    /// Go ahead even when the target's safety check refuses (its reasons are still printed).
    #[arg(long)]
    pub force: bool,
    /// Print one JSON document on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Load only N conversations, spread over the length distribution (shortest to longest).
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Load only conversations closed before DATE (the initial run of a cutover).
    #[arg(long, value_name = "DATE")]
    pub closed_before: Option<String>,
    /// Load only conversations closed more than DAYS days ago.
    #[arg(long, value_name = "DAYS", conflicts_with = "closed_before")]
    pub closed_older_than: Option<u32>,
    /// Load only conversations created at or after DATE.
    #[arg(long, value_name = "DATE")]
    pub created_after: Option<String>,
    /// Load only conversations created before DATE.
    #[arg(long, value_name = "DATE")]
    pub created_before: Option<String>,
    /// Load only conversations last changed at or after DATE.
    #[arg(long, value_name = "DATE")]
    pub updated_after: Option<String>,
    /// Load only conversations last changed before DATE.
    #[arg(long, value_name = "DATE")]
    pub updated_before: Option<String>,
    /// Load only conversations in these states (open, closed, snoozed, pending).
    #[arg(long = "state", value_name = "STATE", value_delimiter = ',')]
    pub states: Vec<String>,
    /// Load only conversations from these channels, as the source names them (email, ...).
    #[arg(long = "channel", value_name = "CHANNEL", value_delimiter = ',')]
    pub channels: Vec<String>,
    /// Re-sync one aspect: `attachments` (files only), `attribution` (authors; database
    /// path only), `labels` or `states` (of conversations already in the target; API path).
    #[arg(long, value_name = "ASPECT", value_parser = ["attachments", "attribution", "labels", "states"])]
    pub only: Option<String>,
}

/// The load selection the flags describe; a bad date or state is a usage error naming the flag.
fn selection(args: &RunArgs) -> Result<Selection, UsageError> {
    let date = |flag: &str, v: &Option<String>| -> Result<Option<i64>, UsageError> {
        v.as_deref().map(|t| read_date(flag, t)).transpose()
    };
    let states = args
        .states
        .iter()
        .map(|s| match s.trim() {
            "open" => Ok(ConversationState::Open),
            "closed" => Ok(ConversationState::Closed),
            "snoozed" => Ok(ConversationState::Snoozed),
            "pending" => Ok(ConversationState::Pending),
            other => Err(UsageError(format!(
                "--state {other}: the states are open, closed, snoozed and pending"
            ))),
        })
        .collect::<Result<_, _>>()?;
    let closed_before = match (
        date("--closed-before", &args.closed_before)?,
        args.closed_older_than,
    ) {
        (Some(t), _) => Some(t),
        (None, Some(days)) => Some(jiff::Timestamp::now().as_second() - i64::from(days) * 86_400),
        (None, None) => None,
    };
    if args.sample == Some(0) {
        return Err(UsageError("--sample needs at least 1 conversation".into()));
    }
    Ok(Selection {
        created_after: date("--created-after", &args.created_after)?,
        created_before: date("--created-before", &args.created_before)?,
        updated_after: date("--updated-after", &args.updated_after)?,
        updated_before: date("--updated-before", &args.updated_before)?,
        states,
        channels: args.channels.iter().map(|c| c.trim().to_owned()).collect(),
        closed_before,
        sample: args.sample,
        kinds: match args.only.as_deref() {
            Some("attachments") => vec![RecordKind::Attachment],
            _ => Vec::new(),
        },
    })
}

/// A day (`2024-01-31`, midnight UTC) or a time with its offset, as UNIX seconds.
fn read_date(flag: &str, text: &str) -> Result<i64, UsageError> {
    if let Ok(day) = text.trim().parse::<jiff::civil::Date>() {
        return day
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_second())
            .map_err(|e| UsageError(format!("{flag} {text}: {e}")));
    }
    text.trim()
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|e| {
            UsageError(format!(
                "{flag} {text}: {e}; write a day like 2024-01-31 or a time like 2024-01-31T09:00:00Z"
            ))
        })
}

/// What the selection chose, for the summary.
#[derive(Debug, Serialize)]
struct SelectionLine {
    conversations: usize,
    left_out: u64,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    selection: Option<SelectionLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resync: Option<ResyncLine>,
}

/// What `--only labels|states` did, for the summary.
#[derive(Debug, Serialize)]
struct ResyncLine {
    aspect: &'static str,
    /// Conversations whose aspect was written again.
    resynced: u64,
    /// Conversations already right (nothing written).
    already_right: u64,
    failed: u64,
    /// Staged conversations not in the target (a plain run loads them).
    not_in_target: u64,
    problems: u64,
}

impl ResyncLine {
    fn new(r: &ResyncReport) -> Self {
        Self {
            aspect: r.aspect.map_or("", Aspect::as_str),
            resynced: r.resynced,
            already_right: r.current,
            failed: r.failed,
            not_in_target: r.not_in_target,
            problems: r.problems,
        }
    }
}

/// Re-syncs `aspect` for `run`, stopping on Ctrl-C; `Err` holds the reason and the advice.
async fn resync_phase(
    store: &deskmove_store::SqliteStore,
    blobs: &deskmove_store::BlobStore,
    target: &crate::registry::ImportTarget,
    run: RunId,
    aspect: Aspect,
) -> Result<ResyncReport, (String, String)> {
    let engine = Engine::new(store, blobs);
    let outcome = tokio::select! {
        result = target.resync(&engine, run, aspect) => Some(result),
        _ = tokio::signal::ctrl_c() => None,
    };
    match outcome {
        Some(Ok(report)) => Ok(report),
        Some(Err(e)) => Err((chain(&e), e.kind().solution().to_owned())),
        None => Err((
            "interrupted (Ctrl-C)".to_owned(),
            format!("Re-syncing is safe to repeat: `deskmove run --only {aspect}` again."),
        )),
    }
}

/// Runs the command; `Ok` holds 0, or 3 when problems were recorded in either half.
pub async fn run(dir: &Path, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(dir)?;
    let selection = selection(args)?;
    // Refused before anything is read or written, the preflight included.
    match args.only.as_deref() {
        Some("attribution") if config.target.needs_token() => {
            return Err(UsageError(
                format!("--only attribution: the {} API cannot re-author a message (every message is the token user's); use path = \"postgres\" in [target] to write original authors. Nothing was written.", config.target.connector().display_name()),
            )
            .into());
        }
        Some("attribution") => {
            return Err(UsageError(
                "--only attribution is not supported yet; a plain `deskmove run` updates what an edited mapping.toml changed. Nothing was written.".into(),
            )
            .into());
        }
        Some(aspect @ ("labels" | "states")) if !config.target.needs_token() => {
            return Err(UsageError(format!(
                "--only {aspect} needs the API path (path = \"api\" in [target]) for now; a plain `deskmove run` updates what an edited mapping.toml changed. Nothing was written."
            ))
            .into());
        }
        Some(aspect @ ("labels" | "states")) if !selection.is_empty() => {
            return Err(UsageError(format!(
                "--only {aspect} re-syncs every conversation already in the target; it takes no selection flags. Nothing was written."
            ))
            .into());
        }
        _ => {}
    }
    let resync_aspect = match args.only.as_deref() {
        Some("labels") => Some(Aspect::Labels),
        Some("states") => Some(Aspect::States),
        _ => None,
    };
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
    let mut chosen_line = None;
    let mut resynced = None;
    let loaded = match &extracted {
        Ok(_) if resync_aspect.is_some() => {
            let aspect = resync_aspect.expect("checked");
            match resync_phase(&store, &blobs, &target, run, aspect).await {
                Ok(r) => {
                    let kinds = r
                        .tags
                        .map(|c| vec![(RecordKind::Tag, c)])
                        .unwrap_or_default();
                    resynced = Some(ResyncLine::new(&r));
                    Some(Ok(LoadReport {
                        target: target.instance(),
                        kinds,
                        not_loadable: Vec::new(),
                    }))
                }
                Err(e) => Some(Err(e)),
            }
        }
        Ok(_) if !selection.is_empty() => {
            let engine = Engine::new(&store, &blobs);
            let chosen = engine.choose(&selection).await?;
            if selection.picks_conversations() {
                chosen_line = Some(SelectionLine {
                    conversations: chosen.conversations(),
                    left_out: chosen.left_out,
                });
            }
            Some(import::load_phase_chosen(&store, &blobs, &target, run, Some(chosen)).await)
        }
        Ok(_) => Some(import::load_phase(&store, &blobs, &target, run).await),
        Err(_) => None,
    };
    let failure = match (&extracted, &loaded) {
        (Err(e), _) => Some(("the export", e.clone())),
        (Ok(_), Some(Err(e))) => Some(("the import", e.clone())),
        _ => None,
    };
    let problems = match (&extracted, &loaded) {
        (Ok(x), Some(Ok(l))) => {
            x.problems() > 0
                || import::has_problems(l)
                || resynced
                    .as_ref()
                    .is_some_and(|r| r.failed > 0 || r.problems > 0)
        }
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
        selection: chosen_line,
        resync: resynced,
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
    if let Some(sel) = &out.selection {
        let _ = writeln!(
            s,
            "\nSelection: {} chosen; {} left staged for a later run.",
            plural(sel.conversations as u64, "conversation"),
            sel.left_out
        );
    }
    if let Some(r) = &out.resync {
        let _ = writeln!(
            s,
            "\nRe-sync of {}: {} re-synced, {} already right, {} failed, {} not in the target yet.",
            r.aspect,
            plural(r.resynced, "conversation"),
            r.already_right,
            r.failed,
            r.not_in_target
        );
    }
    let _ = writeln!(s, "\nImport:");
    import::render_load(&mut s, &out.import);
    import::render_report(&mut s, out.report.as_ref());
    let _ = writeln!(
        s,
        "\nRe-running `deskmove run` tops up what changed; `deskmove rollback` removes what runs created."
    );
    s
}
