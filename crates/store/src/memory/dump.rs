//! The memory store's [`Dump`]: its tables rendered row by row exactly as the SQLite store renders
//! its own (`src/sqlite/read.rs`), in the column order the SQLite migrations leave
//! (`migrations/sqlite/`; schema 2 rebuilt `ledger` and appended the target columns of `runs`).

use crate::error::StoreError;
use crate::rows::{Cell, KeyColumns, blob_size, render_row};
use crate::types::Dump;

use super::state::State;

impl State {
    pub(super) fn dump(&self) -> Result<Dump, StoreError> {
        let mut d = Dump::default();
        let mut table = |name: &str, rows: Vec<Vec<Cell>>| {
            let mut rows: Vec<String> = rows.into_iter().map(render_row).collect();
            rows.sort();
            d.tables.insert(name.to_owned(), rows);
        };
        let text = |s: &str| Cell::Text(s.to_owned());
        let key_cells = |k: &KeyColumns| [text(&k.0), text(&k.1), text(&k.2)];
        table(
            "runs",
            self.runs
                .values()
                .map(|r| {
                    vec![
                        Cell::Int(r.id.0),
                        text(&r.command),
                        r.source_system.clone().into(),
                        r.target_system.clone().into(),
                        Cell::Text(r.started_at.to_string()),
                        r.finished_at.map(|t| t.to_string()).into(),
                        text(r.status.as_str()),
                        r.target.as_ref().map(|t| t.vendor.clone()).into(),
                        r.target.as_ref().map(|t| t.host.clone()).into(),
                        r.target.as_ref().map(|t| t.account.clone()).into(),
                        r.target.as_ref().map(|t| t.path.clone()).into(),
                    ]
                })
                .collect(),
        );
        table(
            "raw_payloads",
            self.raw
                .iter()
                .map(|(k, r)| {
                    let mut row = key_cells(k).to_vec();
                    row.extend([text(&r.hash), Cell::Blob(r.body.clone()), Cell::Int(r.run)]);
                    row
                })
                .collect(),
        );
        table(
            "records",
            self.records
                .iter()
                .map(|(k, r)| {
                    let mut row = key_cells(k).to_vec();
                    row.extend([
                        text(&r.hash),
                        r.updated_at.clone().into(),
                        text(&r.body),
                        Cell::Int(r.run),
                    ]);
                    row
                })
                .collect(),
        );
        table(
            "cursors",
            self.cursors
                .iter()
                .map(|(s, (c, run))| vec![text(s), text(c), Cell::Int(*run)])
                .collect(),
        );
        table(
            "ledger",
            self.ledger
                .iter()
                .map(|((target, k), r)| {
                    let mut row = key_cells(k).to_vec();
                    row.extend([
                        text(&target.vendor),
                        text(&target.host),
                        text(&target.account),
                        text(&target.path),
                        r.target_id.clone().into(),
                        r.content_hash.clone().into(),
                        text(r.outcome.as_str()),
                        Cell::Int(r.run),
                        r.created_run.map_or(Cell::Null, Cell::Int),
                    ]);
                    row
                })
                .collect(),
        );
        table(
            "problems",
            self.problems
                .iter()
                .map(|((k, stage, code), r)| {
                    let mut row = key_cells(k).to_vec();
                    row.extend([
                        text(stage),
                        text(code),
                        text(&r.reason),
                        text(&r.error_kind),
                        Cell::Int(r.run),
                    ]);
                    row
                })
                .collect(),
        );
        let mut blobs = Vec::new();
        for b in self.blobs.values() {
            blobs.push(vec![
                text(&b.hash),
                Cell::Int(blob_size(b.size)?),
                b.content_type.clone().into(),
                Cell::Text(b.first_seen.to_string()),
            ]);
        }
        table("blobs", blobs);
        Ok(d)
    }
}
