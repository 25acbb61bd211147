//! `deskmove verify`: reconciles the staging store with the target. Per kind: how many records
//! are staged, how many the ledger says are in the target, and how many the target itself
//! returns when asked for them (`Target::read_back`), naming every record the ledger expects
//! and the target no longer has. Then a deep comparison of a sample of conversations (the
//! engine's `verify_deep`): messages, order, kinds, authors, bodies, file bytes, state and
//! labels. Read-only in the target; in the store it only records its findings as a `verify`
//! run, for the run's report.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use deskmove_core::{ErrorKind, Problem, RecordKind, SourceKey, Stage, TargetRef};
use deskmove_engine::{DEFAULT_SAMPLE, DeepReport, Engine, VerifyOptions};
use deskmove_store::{LoadBatch, NewRun, Outcome, RunStatus, SqliteStore, Store};
use serde::Serialize;

use crate::config::Config;
use crate::registry::ImportTarget;
use crate::workspace::{self, ReportFiles};
use crate::{EXIT_PROBLEMS, progress::plural};

/// Ledger entries read, and refs read back, at once.
const PAGE: usize = 200;
/// Missing records named per kind (all are counted).
const NAMED: usize = 50;

/// Arguments of `deskmove verify`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
For every record kind: in the source (its scan: list totals, `~` where estimated; --no-source
skips it, e.g. after the cutover), staged (in the staging store), loaded (the ledger says the
target has it) and found (the target returned it when asked). Then a sample of conversations (200, spread
evenly, the same each time; --all for every one) is read back from the target and compared
with what was staged: each message (missing, extra, order, kind, author, body), each file's
bytes, the state and the labels — what the load path keeps. Conversations the source truncated
are listed, not counted as differences. Exits 3 naming each difference (source id, target id,
what differs). Changes nothing in the target; the findings are the run's report,
reports/run-<id>/report.html.")]
pub struct VerifyArgs {
    /// How many conversations to compare in depth.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SAMPLE, conflicts_with = "all")]
    pub sample: usize,
    /// Compare every conversation in depth.
    #[arg(long)]
    pub all: bool,
    /// Print one JSON document on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Do not ask the source for its counts (for a source that is gone or not reachable).
    #[arg(long)]
    pub no_source: bool,
}

/// One kind's reconciliation.
#[derive(Debug, Clone, Serialize)]
pub struct KindCheck {
    /// The kind.
    pub kind: &'static str,
    /// What the source's scan counts (read-only list totals), when it was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<u64>,
    /// Whether [`source`](Self::source) is an exact total, not an estimate from a sample.
    pub source_exact: bool,
    /// Records in the staging store.
    pub staged: u64,
    /// Ledger entries saying the target holds the record.
    pub loaded: u64,
    /// Of those, what the target returned.
    pub found: u64,
    /// Up to [`NAMED`] records the ledger expects and the target did not return.
    pub missing: Vec<String>,
    /// Why the kind could not be read back, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchecked: Option<String>,
}

impl KindCheck {
    /// Whether the target holds less than the ledger says.
    pub fn mismatch(&self) -> bool {
        self.unchecked.is_none() && self.found < self.loaded
    }
}

/// Staged, loaded and found per kind in load order (kinds with nothing staged or loaded are
/// left out).
pub async fn reconcile(
    store: &SqliteStore,
    target: &ImportTarget,
) -> anyhow::Result<Vec<KindCheck>> {
    let instance = target.instance();
    let status = store.status(0).await?;
    let mut out = Vec::new();
    for kind in RecordKind::ALL {
        let staged = status
            .kinds
            .iter()
            .find(|k| k.kind == kind)
            .map_or(0, |k| k.staged);
        let mut check = KindCheck {
            kind: kind.as_str(),
            source: None,
            source_exact: false,
            staged,
            loaded: 0,
            found: 0,
            missing: Vec::new(),
            unchecked: None,
        };
        let mut after: Option<SourceKey> = None;
        loop {
            let page = store
                .ledger_page(&instance, kind, after.as_ref(), PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.key.clone());
            let refs: Vec<TargetRef> = page
                .iter()
                .filter(|e| !matches!(e.outcome, Outcome::Failed | Outcome::Removed))
                .filter_map(|e| {
                    e.target_id.as_ref().map(|id| TargetRef {
                        key: e.key.clone(),
                        id: id.clone(),
                    })
                })
                .collect();
            check.loaded += refs.len() as u64;
            if refs.is_empty() || check.unchecked.is_some() {
                continue;
            }
            match target.read_back(kind, &refs).await {
                Ok(records) => {
                    let back: HashSet<&SourceKey> = records.iter().map(|r| r.key()).collect();
                    for r in &refs {
                        if back.contains(&r.key) {
                            check.found += 1;
                        } else if check.missing.len() < NAMED {
                            check
                                .missing
                                .push(format!("{} (target id {})", r.key, r.id));
                        }
                    }
                }
                Err(e) => check.unchecked = Some(e.message),
            }
        }
        if check.staged > 0 || check.loaded > 0 {
            out.push(check);
        }
    }
    Ok(out)
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct VerifyOutput {
    /// This verify's run (its report), when it could be recorded.
    run: Option<deskmove_store::RunId>,
    target: String,
    ok: bool,
    /// Why the source was not counted, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    source_unchecked: Option<String>,
    kinds: Vec<KindCheck>,
    deep: DeepReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<ReportFiles>,
}

/// The findings as `verify`-stage problems, one per difference, on the record concerned.
fn findings(deep: &DeepReport) -> Vec<Problem> {
    let mut out: Vec<Problem> = deep
        .mismatches
        .iter()
        .map(|m| {
            Problem::new(
                m.record.clone().unwrap_or_else(|| m.conversation.clone()),
                Stage::Verify,
                ErrorKind::NotFound,
                m.what.as_str(),
                format!(
                    "conversation {} (target {}): {}",
                    m.conversation, m.target_id, m.detail
                ),
            )
        })
        .collect();
    out.extend(deep.unresolved.iter().map(|u| {
        Problem::new(
            u.conversation.clone(),
            Stage::Verify,
            ErrorKind::NotFound,
            "conversation_unresolved",
            format!("no target conversation: {}", u.detail),
        )
    }));
    out
}

/// Fills each kind's source count from the source's scan (read-only). A kind the source counts
/// and nothing staged gets a line of its own, so what was never exported shows. The source may
/// have changed since the export, so a difference is shown, never failed on.
async fn count_source(
    dir: &Path,
    config: &Config,
    kinds: &mut Vec<KindCheck>,
) -> Result<(), String> {
    let source = if config.source.needs_token() {
        workspace::export_source(dir, config).map_err(|e| format!("{e:#}"))?
    } else {
        config
            .source
            .export_source_in(dir, None, &config.normalize)
            .map_err(|e| format!("{e:#}"))?
    };
    let scan = source.scan().await.map_err(|(message, _)| message)?;
    for (kind, count) in &scan.kinds {
        match kinds.iter_mut().find(|k| k.kind == kind.as_str()) {
            Some(k) => {
                k.source = Some(count.count);
                k.source_exact = count.exact;
            }
            None if count.count > 0 => kinds.push(KindCheck {
                kind: kind.as_str(),
                source: Some(count.count),
                source_exact: count.exact,
                staged: 0,
                loaded: 0,
                found: 0,
                missing: Vec::new(),
                unchecked: None,
            }),
            None => {}
        }
    }
    kinds.sort_by_key(|k| {
        RecordKind::ALL
            .iter()
            .position(|r| r.as_str() == k.kind)
            .unwrap_or(usize::MAX)
    });
    Ok(())
}

/// Records the findings as a `verify` run and writes its report.
async fn record(
    store: &SqliteStore,
    dir: &Path,
    config: &Config,
    target: &ImportTarget,
    deep: &DeepReport,
    ok: bool,
) -> anyhow::Result<(deskmove_store::RunId, Option<ReportFiles>)> {
    let run = store
        .start_run(NewRun {
            command: "verify".into(),
            source_system: None,
            target_system: Some(config.target.connector().name().to_owned()),
            target: Some(target.instance()),
            started_at: jiff::Timestamp::now(),
        })
        .await?;
    let problems = findings(deep);
    if !problems.is_empty() {
        store
            .put_loads(LoadBatch {
                run,
                entries: Vec::new(),
                problems,
            })
            .await?;
    }
    let status = if ok {
        RunStatus::Succeeded
    } else {
        RunStatus::CompletedWithProblems
    };
    store
        .finish_run(run, status, jiff::Timestamp::now())
        .await?;
    let report = workspace::write_report(store, dir, run, Some(&target.fidelity())).await;
    Ok((run, report))
}

/// Runs the command; `Ok` holds 0, or 3 when the target lacks records the ledger expects or a
/// compared conversation differs.
pub async fn run(dir: &Path, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(dir)?;
    let store = workspace::open_store(dir, &config, false)?;
    let blobs = workspace::open_blobs(dir, &config)?;
    let target = workspace::import_target(dir, &config, &blobs, false)?;
    let mut kinds = reconcile(&store, &target).await?;
    let source_unchecked = if args.no_source {
        None
    } else {
        count_source(dir, &config, &mut kinds).await.err()
    };
    let engine = Engine::new(&store, &blobs);
    let options = VerifyOptions {
        sample: (!args.all).then_some(args.sample),
    };
    let deep = target.verify_deep(&engine, options).await?;
    let ok = !kinds.iter().any(KindCheck::mismatch) && deep.ok();
    let (run, report) = match record(&store, dir, &config, &target, &deep, ok).await {
        Ok((run, report)) => (Some(run), report),
        Err(e) => {
            eprintln!("warning: the findings could not be recorded: {e:#}");
            (None, None)
        }
    };
    store.close()?;
    let output = VerifyOutput {
        run,
        target: target.instance().to_string(),
        ok,
        source_unchecked,
        kinds,
        deep,
        report,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        let mut s = format!("Verified {}:\n", output.target);
        render(&mut s, &output.kinds);
        if let Some(why) = &output.source_unchecked {
            let _ = writeln!(s, "  (the source was not counted: {why})");
        }
        render_deep(&mut s, &output.deep);
        if let Some(files) = &output.report {
            let _ = writeln!(s, "\nReport: {}", files.html.display());
        }
        print!("{s}");
    }
    Ok(if output.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PROBLEMS)
    })
}

/// The table, then each missing record by kind.
pub fn render(s: &mut String, kinds: &[KindCheck]) {
    let _ = writeln!(
        s,
        "  {:<22} {:>9} {:>8} {:>8} {:>8}",
        "kind", "source", "staged", "loaded", "found"
    );
    for k in kinds {
        let source = match (k.source, k.source_exact) {
            (Some(n), true) => n.to_string(),
            (Some(n), false) => format!("~{n}"),
            (None, _) => "-".to_owned(),
        };
        let _ = write!(
            s,
            "  {:<22} {:>9} {:>8} {:>8} {:>8}",
            k.kind, source, k.staged, k.loaded, k.found
        );
        if let Some(why) = &k.unchecked {
            let _ = write!(s, "  (not read back: {why})");
        }
        s.push('\n');
    }
    for k in kinds.iter().filter(|k| k.mismatch()) {
        let _ = writeln!(
            s,
            "\n{} {} the ledger expects {} not in the target:",
            plural(k.loaded - k.found, "record"),
            k.kind,
            if k.loaded - k.found == 1 { "is" } else { "are" }
        );
        for m in &k.missing {
            let _ = writeln!(s, "  {m}");
        }
    }
    if !kinds.iter().any(KindCheck::mismatch) {
        let _ = writeln!(
            s,
            "\nEvery record the ledger says was loaded is in the target."
        );
    }
}

/// The deep comparison: what was compared, then every difference, unresolved and truncated
/// conversation.
pub fn render_deep(s: &mut String, deep: &DeepReport) {
    let _ = writeln!(
        s,
        "\nCompared in depth: {} of {} ({}, {}).",
        plural(deep.compared, "conversation"),
        deep.conversations,
        plural(deep.messages_compared, "message"),
        plural(deep.attachments_compared, "file"),
    );
    if !deep.mismatches.is_empty() {
        let _ = writeln!(
            s,
            "\n{} found:",
            plural(deep.mismatches.len() as u64, "difference")
        );
        for m in &deep.mismatches {
            let _ = write!(
                s,
                "  {:<20} {} (target {})",
                m.what.as_str(),
                m.conversation,
                m.target_id
            );
            if let Some(r) = &m.record {
                let _ = write!(s, " {r}");
                if let Some(id) = &m.record_target_id {
                    let _ = write!(s, " (target {id})");
                }
            }
            let _ = writeln!(s, ": {}", m.detail);
        }
    }
    if !deep.unresolved.is_empty() {
        let _ = writeln!(
            s,
            "\n{} with no target conversation:",
            plural(deep.unresolved.len() as u64, "staged conversation")
        );
        for u in &deep.unresolved {
            let _ = writeln!(s, "  {}: {}", u.conversation, u.detail);
        }
    }
    if !deep.truncated.is_empty() {
        let _ = writeln!(
            s,
            "\n{} the source returned only in part (not differences):",
            plural(deep.truncated.len() as u64, "conversation")
        );
        for t in &deep.truncated {
            let _ = writeln!(s, "  {}: {}", t.conversation, t.reason);
        }
    }
    if deep.ok() {
        let _ = writeln!(s, "Every compared conversation matches what was staged.");
    }
}
