//! What the commands that read or write share: the staging store and blob folder of the working
//! directory, the source and target built from `deskmove.toml` with their tokens, the run report,
//! and how a setup error becomes an exit code (a setting to change is 2, anything else 1).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use deskmove_core::ErrorKind;
use deskmove_core::connector::Fidelity;
use deskmove_store::{BlobStore, RunId, SqliteStore};
use serde::Serialize;

use crate::UsageError;
use crate::config::{Config, read_token};
use crate::registry::{ExportSource, ImportTarget, SetupError};

/// Why a command stopped, with what to do about it (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{message}\n{advice}")]
pub struct Stopped {
    /// What happened.
    pub message: String,
    /// What to do.
    pub advice: String,
}

/// A setup error as the binary reports it: settings to change are usage errors (exit 2).
pub fn setup_error(e: SetupError) -> anyhow::Error {
    if e.kind == ErrorKind::Config {
        anyhow::Error::new(UsageError(e.message))
    } else {
        anyhow::Error::new(Stopped {
            message: e.message,
            advice: e.kind.solution().to_owned(),
        })
    }
}

/// An error and its causes on one line (the engine's error names the stream or kind, its cause
/// the call).
pub fn chain(error: &dyn std::error::Error) -> String {
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

/// The staging store of `dir`. With `create` false a missing store is a usage error saying what
/// to run first, and nothing is created.
pub fn open_store(dir: &Path, config: &Config, create: bool) -> anyhow::Result<SqliteStore> {
    let path = dir.join(&config.store.path);
    if !create && !path.exists() {
        return Err(UsageError(format!(
            "the staging store {} does not exist yet: run `deskmove export` first (or `deskmove run`, which exports and imports).",
            config.store.path.display()
        ))
        .into());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    }
    SqliteStore::open(&path)
        .with_context(|| format!("cannot open the staging store {}", path.display()))
}

/// The blob folder of `dir`.
pub fn open_blobs(dir: &Path, config: &Config) -> anyhow::Result<BlobStore> {
    let path = dir.join(&config.store.blobs);
    BlobStore::local(&path)
        .with_context(|| format!("cannot open the blob folder {}", path.display()))
}

/// The source `[source]` describes, with its token read now. Touches nothing.
pub fn export_source(dir: &Path, config: &Config) -> anyhow::Result<ExportSource> {
    let connector = config.source.connector();
    let place = config.source.token_source().map_err(UsageError)?;
    let token = read_token(&place, dir, connector.display_name())
        .map_err(|message| UsageError(format!("[source]: {message}")))?;
    config
        .source
        .export_source(&token, &config.normalize)
        .map_err(setup_error)
}

/// The mapping file `deskmove map` proposes and the user reviews; optional.
pub const MAPPING_FILE: &str = "mapping.toml";

/// The target `[target]` describes, with its token read now when its path needs one, the
/// decisions of [`MAPPING_FILE`] when `dir` has one, and `force` (go ahead where the preflight
/// would refuse). Connects to nothing yet.
pub fn import_target(
    dir: &Path,
    config: &Config,
    blobs: &BlobStore,
    force: bool,
) -> anyhow::Result<ImportTarget> {
    let token = if config.target.needs_token() {
        let connector = config.target.connector();
        let place = config.target.token_source().map_err(UsageError)?;
        let token = read_token(&place, dir, connector.display_name())
            .map_err(|message| UsageError(format!("[target]: {message}")))?;
        Some(token)
    } else {
        None
    };
    let target = config
        .target
        .import_target(token.as_ref(), blobs.clone())
        .map_err(setup_error)?
        .with_force(force);
    let mapping = dir.join(MAPPING_FILE);
    match std::fs::read_to_string(&mapping) {
        Ok(text) => target.with_mapping_toml(&text).map_err(setup_error),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(target),
        Err(e) => Err(UsageError(format!("cannot read {}: {e}", mapping.display())).into()),
    }
}

/// Where a run's report files were written.
#[derive(Debug, Clone, Serialize)]
pub struct ReportFiles {
    /// The JSON document.
    pub json: PathBuf,
    /// The self-contained HTML page.
    pub html: PathBuf,
}

/// The folder a run's report goes into, inside the working directory.
pub fn report_dir(dir: &Path, run: RunId) -> PathBuf {
    dir.join("reports").join(format!("run-{run}"))
}

/// Builds run `run`'s report from the store (call after the run is finished) and writes it into
/// [`report_dir`]. A report that cannot be written is a warning, never the run's failure.
pub async fn write_report(
    store: &SqliteStore,
    dir: &Path,
    run: RunId,
    fidelity: Option<&Fidelity>,
) -> Option<ReportFiles> {
    let report = match deskmove_report::Report::build(store, run, fidelity).await {
        Ok(report) => report,
        Err(e) => {
            eprintln!("warning: the report of run #{run} could not be built: {e}");
            return None;
        }
    };
    let folder = report_dir(dir, run);
    match tokio::task::spawn_blocking(move || deskmove_report::write(&report, &folder)).await {
        Ok(Ok((json, html))) => Some(ReportFiles { json, html }),
        Ok(Err(e)) => {
            eprintln!("warning: the report of run #{run} could not be written: {e}");
            None
        }
        Err(e) => {
            eprintln!("warning: the report of run #{run} could not be written: {e}");
            None
        }
    }
}
