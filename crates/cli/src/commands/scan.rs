//! `deskmove scan`: what a migration will meet and cost, before anything is written anywhere.
//! It reads the source (list totals, search counts, a sample of conversations retrieved in
//! full) and the target's agents, and predicts the calls and time of the export and of each
//! target path under the configured budgets. It opens no staging store and creates no file,
//! except the run book `--runbook` asks for.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use deskmove_core::RecordKind;
use deskmove_core::connector::{ConversationSample, SourceScan};
use serde::Serialize;

use crate::UsageError;
use crate::config::{Config, read_token};
use crate::progress::plural;
use crate::registry::{AttributeDecision, ExportSource, Prediction, TargetScan};
use crate::workspace::{self, Stopped};

/// Arguments of `deskmove scan`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Reads only: list totals, search counts and a sample of conversations from the source, the
agents of the target. Nothing is written, in either system or on this machine (no staging
store is created), except the run book `--runbook` asks for.

Predictions assume the run is paced by the call budgets in deskmove.toml (`[source.http]`,
`[target.http]`); files are downloaded besides, outside the API's budget.")]
pub struct ScanArgs {
    /// Print one JSON document on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write the migration's run book (Markdown) to FILE: the steps in order with their
    /// predicted durations, the delta date, the checks and each step's rollback.
    #[arg(long, value_name = "FILE")]
    pub runbook: Option<PathBuf>,
    /// The delta date of the cutover (YYYY-MM-DD): the first run moves what was closed before
    /// it. Defaults to 30 days before today.
    #[arg(long, value_name = "DATE")]
    pub delta_date: Option<jiff::civil::Date>,
}

/// One kind's count.
#[derive(Debug, Serialize)]
struct KindLine {
    kind: RecordKind,
    count: u64,
    exact: bool,
}

/// Sampled conversations by length (messages staged).
#[derive(Debug, Serialize)]
struct LengthBucket {
    messages: &'static str,
    conversations: u64,
}

/// The source's own cost.
#[derive(Debug, Serialize)]
struct ExportLine {
    calls: u64,
    downloads: u64,
    calls_per_minute: u64,
    seconds: f64,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct ScanOutput {
    source: &'static str,
    target: &'static str,
    /// The target path deskmove.toml names.
    path: &'static str,
    kinds: Vec<KindLine>,
    attachment_bytes: Option<u64>,
    sampled_conversations: u64,
    conversation_lengths: Vec<LengthBucket>,
    truncated_expected: u64,
    /// `None` when the target's agents could not be read (say why in `notes`).
    unmatched_agents: Option<Vec<String>>,
    attributes_needing_decision: Vec<AttributeDecision>,
    export: Option<ExportLine>,
    targets: Vec<Prediction>,
    /// Source and configured target together.
    total_calls: u64,
    total_seconds: f64,
    notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runbook: Option<PathBuf>,
}

const BUCKETS: &[(&str, u64, u64)] = &[
    ("1", 1, 1),
    ("2-5", 2, 5),
    ("6-10", 6, 10),
    ("11-20", 11, 20),
    ("21-50", 21, 50),
    ("51-100", 51, 100),
    ("101-500", 101, 500),
    ("over 500", 501, u64::MAX),
];

fn lengths(sample: &[ConversationSample]) -> Vec<LengthBucket> {
    BUCKETS
        .iter()
        .map(|&(messages, low, high)| LengthBucket {
            messages,
            conversations: sample
                .iter()
                .filter(|s| {
                    let n = s.source_parts.unwrap_or(s.messages).max(s.messages);
                    (low..=high).contains(&n)
                })
                .count() as u64,
        })
        .collect()
}

/// The source's scan, whichever connector it is.
async fn scan_source(source: &ExportSource) -> anyhow::Result<SourceScan> {
    source.scan().await.map_err(|(message, advice)| {
        Stopped {
            message: format!("the scan of the source stopped: {message}"),
            advice: advice.to_owned(),
        }
        .into()
    })
}

/// Runs the command.
pub async fn run(dir: &Path, args: &ScanArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let config = Config::load(dir)?;
    let source_name = config.source.connector().name();
    let source = if config.source.needs_token() {
        workspace::export_source(dir, &config)?
    } else {
        config
            .source
            .export_source_in(dir, None, &config.normalize)
            .map_err(workspace::setup_error)?
    };
    let scan = scan_source(&source).await?;
    let mut notes = scan.notes.clone();

    let target_name = config.target.connector().name();
    // The target's agents: one read, when a token is at hand.
    let token = config
        .target
        .token_source()
        .and_then(|place| read_token(&place, dir, config.target.connector().display_name()));
    let TargetScan {
        unmatched,
        predictions,
        attributes,
    } = config
        .target
        .scan(&scan, token, &mut notes)
        .await
        .map_err(UsageError)?;
    let mut predictions = predictions.into_iter();
    let (Some(configured), other) = (predictions.next(), predictions) else {
        anyhow::bail!("the target predicted no load path");
    };

    let conversations = scan
        .kinds
        .get(&RecordKind::Conversation)
        .map_or(0, |c| c.count);
    let sampled = scan.conversation_sample.len() as u64;
    let truncated = scan
        .conversation_sample
        .iter()
        .filter(|s| s.truncated)
        .count() as u64;
    let export = scan.export.map(|e| ExportLine {
        calls: e.calls,
        downloads: e.downloads,
        calls_per_minute: e.budget.calls_per_minute,
        seconds: e.budget.seconds(e.calls),
    });
    let export_calls = export.as_ref().map_or(0, |e| e.calls);
    let export_seconds = export.as_ref().map_or(0.0, |e| e.seconds);
    let mut output = ScanOutput {
        source: source_name,
        target: target_name,
        path: configured.path,
        kinds: scan
            .kinds
            .iter()
            .map(|(&kind, c)| KindLine {
                kind,
                count: c.count,
                exact: c.exact,
            })
            .collect(),
        attachment_bytes: scan.attachment_bytes,
        sampled_conversations: sampled,
        conversation_lengths: lengths(&scan.conversation_sample),
        truncated_expected: if sampled == 0 {
            0
        } else {
            (truncated * conversations).div_ceil(sampled)
        },
        unmatched_agents: unmatched,
        attributes_needing_decision: attributes,
        total_calls: export_calls + configured.total_calls,
        total_seconds: export_seconds + configured.seconds,
        export,
        targets: std::iter::once(configured).chain(other).collect(),
        notes,
        runbook: None,
    };
    if let Some(file) = &args.runbook {
        let delta = match args.delta_date {
            Some(d) => d,
            None => jiff::Zoned::now()
                .date()
                .checked_sub(jiff::Span::new().days(30))
                .map_err(|e| anyhow::anyhow!("cannot compute the delta date: {e}"))?,
        };
        let text = runbook(&output, &scan, delta, started.elapsed().as_secs_f64());
        let path = dir.join(file);
        std::fs::write(&path, text)
            .map_err(|e| anyhow::anyhow!("cannot write the run book {}: {e}", path.display()))?;
        output.runbook = Some(file.clone());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        print!("{}", render(&output));
    }
    Ok(())
}

/// `12.3 s`, `4 min 5 s`, `2 h 3 min`.
fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else if s < 3_600 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{} h {} min", s / 3_600, (s % 3_600) / 60)
    }
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1_000.0 && unit < UNITS.len() - 1 {
        value /= 1_000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn render(out: &ScanOutput) -> String {
    let mut s = format!(
        "Scan: {} → {} (path \"{}\"). Nothing was written.\n\n",
        out.source, out.target, out.path
    );
    let _ = writeln!(s, "{:<24} {:>10}", "kind", "count");
    for k in &out.kinds {
        let _ = writeln!(
            s,
            "{:<24} {:>10}{}",
            k.kind.to_string(),
            k.count,
            if k.exact { "" } else { " (estimate)" }
        );
    }
    if let Some(b) = out.attachment_bytes {
        let _ = writeln!(s, "{:<24} {:>10} (estimate)", "attachment bytes", bytes(b));
    }
    if out.sampled_conversations > 0 {
        let _ = writeln!(
            s,
            "\nConversation length, {} sampled (messages: conversations):",
            plural(out.sampled_conversations, "conversation")
        );
        let line: Vec<String> = out
            .conversation_lengths
            .iter()
            .filter(|b| b.conversations > 0)
            .map(|b| format!("{}: {}", b.messages, b.conversations))
            .collect();
        let _ = writeln!(s, "  {}", line.join(", "));
        let _ = writeln!(
            s,
            "Truncated conversations expected (over 500 parts): {}",
            out.truncated_expected
        );
    }
    match &out.unmatched_agents {
        Some(a) if a.is_empty() => {
            let _ = writeln!(s, "\nEvery agent has a match in {} by email.", out.target);
        }
        Some(a) => {
            let _ = writeln!(
                s,
                "\nAgents with no match in {} (kept as attribution only; map them in mapping.toml): {}",
                out.target,
                a.join(", ")
            );
        }
        None => {}
    }
    if !out.attributes_needing_decision.is_empty() {
        let _ = writeln!(s, "\nAttributes that need a type decision:");
        for a in &out.attributes_needing_decision {
            let _ = writeln!(s, "  {} ({:?}): {}", a.name, a.model, a.decision);
        }
    }
    let _ = writeln!(
        s,
        "\n{:<28} {:>10} {:>16}",
        "predicted", "API calls", "time"
    );
    if let Some(e) = &out.export {
        let _ = writeln!(
            s,
            "{:<28} {:>10} {:>16}   (+{} file downloads; {}/min)",
            format!("export from {}", out.source),
            e.calls,
            duration(e.seconds),
            e.downloads,
            e.calls_per_minute
        );
    }
    for (i, t) in out.targets.iter().enumerate() {
        let label = format!(
            "import, path \"{}\"{}",
            t.path,
            if i == 0 { " (configured)" } else { "" }
        );
        let calls = match t.rows {
            Some(rows) if t.total_calls == 0 => format!("{rows} rows"),
            _ => t.total_calls.to_string(),
        };
        let _ = writeln!(s, "{label:<28} {calls:>10} {:>16}", duration(t.seconds));
    }
    let _ = writeln!(
        s,
        "{:<28} {:>10} {:>16}",
        "run (configured path)",
        out.total_calls,
        duration(out.total_seconds)
    );
    for n in out
        .notes
        .iter()
        .chain(out.targets.iter().flat_map(|t| &t.notes))
    {
        let _ = writeln!(s, "- {n}");
    }
    if let Some(r) = &out.runbook {
        let _ = writeln!(s, "\nRun book written to {}.", r.display());
    }
    s
}

/// The run book a vendor's own migration process asks for (../shared/seeds/004): the first run of
/// everything closed before the delta date, then the cutover run; each step with its predicted
/// duration, its checks and its rollback.
fn runbook(out: &ScanOutput, scan: &SourceScan, delta: jiff::civil::Date, scanned: f64) -> String {
    let conversations = scan
        .kinds
        .get(&RecordKind::Conversation)
        .map_or(0, |c| c.count)
        .max(1);
    let sample = &scan.conversation_sample;
    // The share closed now; the sample cannot tell when, so the first run is taken as all of it
    // (conversations closed since the delta date move with the cutover instead).
    let closed = if sample.is_empty() {
        1.0
    } else {
        sample
            .iter()
            .filter(|s| matches!(s.state.as_str(), "closed" | "resolved"))
            .count() as f64
            / sample.len() as f64
    };
    let full = out.total_seconds;
    let sample_run = full * (50.0_f64 / conversations as f64).min(1.0);
    let first = full * closed;
    let cutover = full - first;
    let verify = (out.total_seconds * 0.05).max(10.0);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Run book: {} → {} (path \"{}\")\n",
        out.source, out.target, out.path
    );
    let _ = writeln!(
        s,
        "Delta date: **{delta}**. The first run moves the conversations closed before it into the launch-ready, not yet live {target}; the cutover run moves everything closed since, and every open, pending or snoozed conversation.\n",
        target = out.target
    );
    let _ = writeln!(
        s,
        "Predicted from `deskmove scan` ({} conversations, {} API calls, {} for a whole run at the configured budgets). Every step is safe to re-run: it continues where it stopped and writes only what changed.\n",
        conversations,
        out.total_calls,
        duration(full)
    );
    let steps: [(&str, String, f64, &str, &str); 8] = [
        (
            "Scan",
            "deskmove scan --runbook runbook.md".into(),
            scanned,
            "Counts, unmatched agents and attributes above look right; no call wrote anything.",
            "Nothing to roll back: the scan writes nothing.",
        ),
        (
            "Map",
            "deskmove map".into(),
            5.0,
            "Review mapping.toml: every agent mapped or left as attribution, attribute types decided, tags → labels, channels → inboxes.",
            "Delete or edit mapping.toml; nothing else changed.",
        ),
        (
            "Batch test into a test account",
            "deskmove run --sample 50".into(),
            sample_run,
            "Point [target] at a TEST account first. Open a few conversations: authors, times, notes, files, states; nobody notified.",
            "deskmove rollback --run <id of this run>",
        ),
        (
            "Verify the batch test",
            "deskmove verify".into(),
            verify,
            "Exit 0: every staged record is found in the target.",
            "Nothing to roll back: verify reads only.",
        ),
        (
            "First run (closed before the delta date)",
            format!("deskmove run --closed-before {delta}"),
            first,
            "Point [target] at the production account (not live yet). `deskmove status` shows no failed record, or each with its reason.",
            "deskmove rollback --run <id of this run>",
        ),
        (
            "Verify the first run",
            "deskmove verify".into(),
            verify,
            "Exit 0; spot-check conversations closed just before the delta date.",
            "Nothing to roll back: verify reads only.",
        ),
        (
            "Cutover run (delta top-up)",
            "deskmove run".into(),
            cutover,
            "Switch support email and the messenger to the new helpdesk first; then this run moves what changed since the delta date and every open conversation.",
            "deskmove rollback --run <id of this run>",
        ),
        (
            "Verify the cutover",
            "deskmove verify".into(),
            verify,
            "Exit 0; counts per kind match the scan; open conversations are assigned as before.",
            "Nothing to roll back: verify reads only. To undo the whole migration: deskmove rollback",
        ),
    ];
    let _ = writeln!(s, "| # | step | command | predicted |");
    let _ = writeln!(s, "|---|---|---|---|");
    for (i, (name, command, seconds, _, _)) in steps.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} | {name} | `{command}` | {} |",
            i + 1,
            duration(*seconds)
        );
    }
    for (i, (name, command, seconds, check, rollback)) in steps.iter().enumerate() {
        let _ = writeln!(s, "\n## {}. {name}\n", i + 1);
        let _ = writeln!(s, "```sh\n{command}\n```\n");
        let _ = writeln!(s, "- Predicted: {}", duration(*seconds));
        let _ = writeln!(s, "- Check: {check}");
        let _ = writeln!(s, "- Rollback: `{rollback}`");
    }
    if let Some(a) = &out.unmatched_agents
        && !a.is_empty()
    {
        let _ = writeln!(
            s,
            "\n## Before the first run\n\n- Agents with no match in the target: {}",
            a.join(", ")
        );
    }
    s
}
