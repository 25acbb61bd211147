//! `deskmove verify`: reconciles the staging store with the target. Per kind: how many records
//! are staged, how many the ledger says are in the target, and how many the target itself
//! returns when asked for them (`Target::read_back`), naming every record the ledger expects
//! and the target no longer has. Read-only in both places.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use deskmove_core::{RecordKind, SourceKey, TargetRef};
use deskmove_store::{Outcome, SqliteStore, Store};
use serde::Serialize;

use crate::config::Config;
use crate::registry::ImportTarget;
use crate::workspace;
use crate::{EXIT_PROBLEMS, progress::plural};

/// Ledger entries read, and refs read back, at once.
const PAGE: usize = 200;
/// Missing records named per kind (all are counted).
const NAMED: usize = 50;

/// Arguments of `deskmove verify`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
For every record kind: staged (in the staging store), loaded (the ledger says the target has
it) and found (the target returned it when asked). Exits 3 and names each record the target
should hold and does not (deleted by hand, or lost); writes nothing anywhere.")]
pub struct VerifyArgs {
    /// Print one JSON document on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// One kind's reconciliation.
#[derive(Debug, Clone, Serialize)]
pub struct KindCheck {
    /// The kind.
    pub kind: &'static str,
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
                .filter(|e| e.outcome != Outcome::Failed)
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
    target: String,
    ok: bool,
    kinds: Vec<KindCheck>,
}

/// Runs the command; `Ok` holds 0, or 3 when the target lacks records the ledger expects.
pub async fn run(dir: &Path, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(dir)?;
    let store = workspace::open_store(dir, &config, false)?;
    let blobs = workspace::open_blobs(dir, &config)?;
    let target = workspace::import_target(dir, &config, &blobs, false)?;
    let kinds = reconcile(&store, &target).await?;
    store.close()?;
    let output = VerifyOutput {
        target: target.instance().to_string(),
        ok: !kinds.iter().any(KindCheck::mismatch),
        kinds,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        let mut s = format!("Verified {}:\n", output.target);
        render(&mut s, &output.kinds);
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
        "  {:<22} {:>8} {:>8} {:>8}",
        "kind", "staged", "loaded", "found"
    );
    for k in kinds {
        let _ = write!(
            s,
            "  {:<22} {:>8} {:>8} {:>8}",
            k.kind, k.staged, k.loaded, k.found
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
