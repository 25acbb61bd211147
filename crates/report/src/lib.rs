//! The run report: what one run did, as a JSON document and one self-contained HTML file.
//!
//! ```text
//! let report = Report::build(&store, run, Some(&target.fidelity())).await?;
//! let (json, html) = deskmove_report::write(&report, &report_dir)?;
//! println!("Report: {}", html.display());
//! ```
//!
//! - [`Report::build`] reads the run back from the staging store: per phase (extract, load or
//!   rollback) and kind, what was loaded, updated, skipped and failed; the problems grouped by
//!   kind and reason; every skipped or failed record with its reasons; throughput over time from
//!   the store's activity log; and, given the target's [`Fidelity`](deskmove_core::connector::Fidelity),
//!   what the load path could not keep and how many records that concerns.
//! - [`render_html`] renders it with inline CSS and static SVG charts: the page loads nothing
//!   from anywhere (tested in headless Chromium behind a proxy that counts connections).
//! - [`write`] writes `report.json` and `report.html` into a directory.
//!
//! The report holds record keys, problem codes and reasons, never record bodies or credentials.

#![deny(missing_docs)]

mod build;
mod error;
mod escape;
mod html;
mod model;
mod svg;
mod throughput;

use std::path::{Path, PathBuf};

pub use build::{ROLLBACK_COMMAND, VERIFY_COMMAND};
pub use error::ReportError;
pub use html::render_html;
pub use model::{
    FidelityGap, FidelityReport, IssueOutcome, KindCounts, NotLoadable, Phase, PhaseCounts, Point,
    ProblemGroup, REPORT_FORMAT, Reason, RecordIssue, Report, RunInfo, Series, Throughput,
};

/// The JSON report's file name inside the report directory.
pub const JSON_FILE: &str = "report.json";
/// The HTML report's file name inside the report directory.
pub const HTML_FILE: &str = "report.html";

/// Writes `report` as [`JSON_FILE`] (pretty JSON) and [`HTML_FILE`] ([`render_html`]) into
/// `dir`, creating it if needed and replacing earlier files, and returns their paths
/// `(json, html)`. Each file is written to a temporary name and renamed, so a reader never sees
/// half a report. Blocking (plain file I/O).
pub fn write(report: &Report, dir: &Path) -> Result<(PathBuf, PathBuf), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut json = serde_json::to_string_pretty(report)?;
    json.push('\n');
    let json_path = dir.join(JSON_FILE);
    let html_path = dir.join(HTML_FILE);
    replace(&json_path, json.as_bytes())?;
    replace(&html_path, render_html(report).as_bytes())?;
    Ok((json_path, html_path))
}

fn replace(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
