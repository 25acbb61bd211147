//! Read queries, run on pooled read-only connections (WAL lets them run beside the writer, each
//! on a consistent snapshot) — and by the writer for its own read-back.

use std::collections::BTreeMap;

use deskmove_core::connector::TargetInstance;
use deskmove_core::{ContentHash, Problem, RecordKind, SourceKey};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use crate::error::StoreError;
use crate::rows::{self, Cell, position_columns, render_row};
use crate::types::{
    Activity, ActivityPhase, BlobMeta, CursorState, Dump, KindStatus, LedgerEntry, ProblemGroup,
    RawPayload, Run, RunId, RunStatus, StatusReport, StoredProblem, StoredRaw, StoredRecord,
    ThreadPosition,
};

fn q(op: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    StoreError::sqlite(op)
}

pub(super) fn cursor(c: &Connection, stream: &str) -> Result<Option<String>, StoreError> {
    c.prepare_cached("SELECT cursor FROM cursors WHERE stream = ?1")
        .and_then(|mut st| st.query_row([stream], |r| r.get(0)).optional())
        .map_err(q("reading a cursor"))
}

type RecordCols = (String, String, Option<String>, String, i64);

fn to_record(cols: RecordCols) -> Result<StoredRecord, StoreError> {
    let (kind, hash, updated_at, body, run) = cols;
    rows::stored_record(&kind, &body, hash, updated_at.as_deref(), run)
}

pub(super) fn record(c: &Connection, key: &SourceKey) -> Result<Option<StoredRecord>, StoreError> {
    let cols: Option<RecordCols> = c
        .prepare_cached(
            "SELECT kind, hash, updated_at, body, run_id FROM records
             WHERE kind = ?1 AND system = ?2 AND id = ?3",
        )
        .and_then(|mut st| {
            st.query_row(params![key.kind.as_str(), key.system, key.id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()
        })
        .map_err(q("reading a record"))?;
    cols.map(to_record).transpose()
}

pub(super) fn records(
    c: &Connection,
    kind: RecordKind,
    after: Option<&SourceKey>,
    limit: usize,
) -> Result<Vec<StoredRecord>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let map = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?));
    // Row values compare lexicographically; BINARY collation = byte order = Rust `String` order,
    // the order the memory store pages in.
    let cols: Vec<RecordCols> = match after {
        Some(a) => c
            .prepare_cached(
                "SELECT kind, hash, updated_at, body, run_id FROM records
                 WHERE kind = ?1 AND (system, id) > (?2, ?3) ORDER BY kind, system, id LIMIT ?4",
            )
            .and_then(|mut st| {
                st.query_map(params![kind.as_str(), a.system, a.id, limit], map)?
                    .collect()
            }),
        None => c
            .prepare_cached(
                "SELECT kind, hash, updated_at, body, run_id FROM records
                 WHERE kind = ?1 ORDER BY kind, system, id LIMIT ?2",
            )
            .and_then(|mut st| st.query_map(params![kind.as_str(), limit], map)?.collect()),
    }
    .map_err(q("reading a records page"))?;
    cols.into_iter().map(to_record).collect()
}

const THREAD_PAGE_FIRST: &str = "SELECT kind, hash, updated_at, body, run_id
     FROM records INDEXED BY records_by_thread
     WHERE kind = 'message'
     ORDER BY thread_system, thread_id, thread_at, system, id LIMIT ?1";

const THREAD_PAGE_AFTER: &str = "SELECT kind, hash, updated_at, body, run_id
     FROM records INDEXED BY records_by_thread
     WHERE kind = 'message'
       AND (thread_system, thread_id, thread_at, system, id) > (?1, ?2, ?3, ?4, ?5)
     ORDER BY thread_system, thread_id, thread_at, system, id LIMIT ?6";

/// Messages in thread order after `after`, through the partial index `records_by_thread`. Named:
/// left to itself the planner takes the `(kind, system, id)` index for `kind = 'message'` and
/// sorts every message for each page, which made a load quadratic in its messages.
pub(super) fn messages_in_thread_order(
    c: &Connection,
    after: Option<&ThreadPosition>,
    limit: usize,
) -> Result<Vec<StoredRecord>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let map = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?));
    let cols: Vec<RecordCols> = match after {
        Some(a) => {
            let (ts, ti, at, s, i) = position_columns(a);
            c.prepare_cached(THREAD_PAGE_AFTER).and_then(|mut st| {
                st.query_map(params![ts, ti, at, s, i, limit], map)?
                    .collect()
            })
        }
        None => c
            .prepare_cached(THREAD_PAGE_FIRST)
            .and_then(|mut st| st.query_map(params![limit], map)?.collect()),
    }
    .map_err(q("reading messages in thread order"))?;
    cols.into_iter().map(to_record).collect()
}

/// Every message of `conversations`, conversation by conversation in the order given.
pub(super) fn thread_messages(
    c: &Connection,
    conversations: &[SourceKey],
) -> Result<Vec<StoredRecord>, StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT kind, hash, updated_at, body, run_id FROM records
             WHERE kind = 'message' AND thread_system = ?1 AND thread_id = ?2
             ORDER BY thread_at, system, id",
        )
        .map_err(q("reading a thread"))?;
    let mut out = Vec::new();
    for conversation in conversations {
        let cols: Vec<RecordCols> = st
            .query_map(params![conversation.system, conversation.id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .and_then(Iterator::collect)
            .map_err(q("reading a thread"))?;
        for col in cols {
            out.push(to_record(col)?);
        }
    }
    Ok(out)
}

pub(super) fn raw(c: &Connection, key: &SourceKey) -> Result<Option<StoredRaw>, StoreError> {
    let row: Option<(String, Vec<u8>, i64)> = c
        .prepare_cached(
            "SELECT hash, body, run_id FROM raw_payloads WHERE kind = ?1 AND system = ?2 AND id = ?3",
        )
        .and_then(|mut st| {
            st.query_row(params![key.kind.as_str(), key.system, key.id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
        })
        .map_err(q("reading a raw payload"))?;
    Ok(row.map(|(hash, body, run)| StoredRaw {
        payload: RawPayload::new(key.clone(), body),
        hash: ContentHash(hash),
        run: RunId(run),
    }))
}

pub(super) fn ledger(
    c: &Connection,
    key: &SourceKey,
    target: &TargetInstance,
) -> Result<Option<LedgerEntry>, StoreError> {
    let row: Option<(Option<String>, Option<String>, String, i64)> = c
        .prepare_cached(
            "SELECT target_id, content_hash, outcome, run_id FROM ledger
             WHERE target_vendor = ?1 AND target_host = ?2 AND target_account = ?3
               AND target_path = ?4 AND kind = ?5 AND system = ?6 AND id = ?7",
        )
        .and_then(|mut st| {
            st.query_row(
                params![
                    target.vendor,
                    target.host,
                    target.account,
                    target.path,
                    key.kind.as_str(),
                    key.system,
                    key.id
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
        })
        .map_err(q("reading the ledger"))?;
    row.map(|(target_id, hash, outcome, run)| {
        Ok(LedgerEntry {
            key: key.clone(),
            target: target.clone(),
            target_id,
            content_hash: hash.map(ContentHash),
            outcome: rows::parse_outcome(&outcome)?,
            run: RunId(run),
        })
    })
    .transpose()
}

/// A page of one instance's entries of `kind` in (system, id) order; only those `created_run`
/// created when given. Equality on the leading columns of the primary key or of
/// `ledger_by_created_run`, so either index serves the range and the order.
pub(super) fn ledger_page(
    c: &Connection,
    created_run: Option<RunId>,
    target: &TargetInstance,
    kind: RecordKind,
    after: Option<&SourceKey>,
    limit: usize,
) -> Result<Vec<LedgerEntry>, StoreError> {
    type Cols = (String, String, Option<String>, Option<String>, String, i64);
    let mut sql = String::from(
        "SELECT system, id, target_id, content_hash, outcome, run_id FROM ledger
         WHERE target_vendor = ? AND target_host = ? AND target_account = ? AND target_path = ?
           AND kind = ?",
    );
    let mut args: Vec<Value> = vec![
        target.vendor.clone().into(),
        target.host.clone().into(),
        target.account.clone().into(),
        target.path.clone().into(),
        kind.as_str().to_owned().into(),
    ];
    if let Some(run) = created_run {
        sql.push_str(" AND created_run = ?");
        args.push(run.0.into());
    }
    if let Some(a) = after {
        sql.push_str(" AND (system, id) > (?, ?)");
        args.extend([a.system.clone().into(), a.id.clone().into()]);
    }
    sql.push_str(" ORDER BY system, id LIMIT ?");
    args.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
    let cols: Vec<Cols> = c
        .prepare_cached(&sql)
        .and_then(|mut st| {
            st.query_map(params_from_iter(args), |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect()
        })
        .map_err(q("reading a ledger page"))?;
    cols.into_iter()
        .map(|(system, id, target_id, hash, outcome, run)| {
            Ok(LedgerEntry {
                key: SourceKey { system, kind, id },
                target: target.clone(),
                target_id,
                content_hash: hash.map(ContentHash),
                outcome: rows::parse_outcome(&outcome)?,
                run: RunId(run),
            })
        })
        .collect()
}

pub(super) fn blob(c: &Connection, hash: &str) -> Result<Option<BlobMeta>, StoreError> {
    let row: Option<(i64, Option<String>, String)> = c
        .prepare_cached("SELECT size, content_type, first_seen FROM blobs WHERE hash = ?1")
        .and_then(|mut st| {
            st.query_row([hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(q("reading the blob index"))?;
    row.map(|(size, content_type, first_seen)| {
        Ok(BlobMeta {
            hash: hash.to_owned(),
            size: u64::try_from(size)
                .map_err(|_| StoreError::Corrupt(format!("negative blob size {size}")))?,
            content_type,
            first_seen: rows::parse_time(&first_seen)?,
        })
    })
    .transpose()
}

type RunCols = (
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
    [Option<String>; 4],
);

pub(super) fn activity(c: &Connection, run: RunId) -> Result<Vec<Activity>, StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT phase, at, records, problems FROM activity WHERE run_id = ?1 ORDER BY rowid",
        )
        .map_err(q("preparing the activity log"))?;
    let cols: Vec<(String, String, i64, i64)> = st
        .query_map([run.0], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .and_then(Iterator::collect)
        .map_err(q("reading the activity log"))?;
    cols.into_iter()
        .map(|(phase, at, records, problems)| {
            let phase: ActivityPhase = phase
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("unknown activity phase `{phase}`")))?;
            Ok(Activity {
                run,
                phase,
                at: rows::parse_time(&at)?,
                records: records.max(0) as u64,
                problems: problems.max(0) as u64,
            })
        })
        .collect()
}

pub(super) fn runs(c: &Connection) -> Result<Vec<Run>, StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT id, command, source_system, target_system, started_at, finished_at, status,
                    target_vendor, target_host, target_account, target_path
             FROM runs ORDER BY id",
        )
        .map_err(q("preparing runs"))?;
    let cols: Vec<RunCols> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                [r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?],
            ))
        })
        .and_then(Iterator::collect)
        .map_err(q("reading runs"))?;
    cols.into_iter()
        .map(
            |(id, command, source_system, target_system, started, finished, status, target)| {
                Ok(Run {
                    id: RunId(id),
                    command,
                    source_system,
                    target_system,
                    target: run_target(target)?,
                    started_at: rows::parse_time(&started)?,
                    finished_at: finished.as_deref().map(rows::parse_time).transpose()?,
                    status: RunStatus::parse(&status).ok_or_else(|| {
                        StoreError::Corrupt(format!("unknown run status `{status}`"))
                    })?,
                })
            },
        )
        .collect()
}

/// A run's four target columns: all NULL (no instance) or all set.
fn run_target(cols: [Option<String>; 4]) -> Result<Option<TargetInstance>, StoreError> {
    match cols {
        [None, None, None, None] => Ok(None),
        [Some(vendor), Some(host), Some(account), Some(path)] => Ok(Some(TargetInstance {
            vendor,
            host,
            account,
            path,
        })),
        _ => Err(StoreError::Corrupt(
            "a run's target instance is partly missing".into(),
        )),
    }
}

fn counts(c: &Connection, sql: &str) -> Result<BTreeMap<String, u64>, StoreError> {
    let mut st = c.prepare_cached(sql).map_err(q("preparing counts"))?;
    let rows: Vec<(String, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(Iterator::collect)
        .map_err(q("counting"))?;
    Ok(rows
        .into_iter()
        .map(|(k, n)| (k, u64::try_from(n).unwrap_or(0)))
        .collect())
}

pub(super) fn status(c: &Connection, examples: usize) -> Result<StatusReport, StoreError> {
    // One read transaction, so every count comes from the same snapshot.
    let tx = c
        .unchecked_transaction()
        .map_err(q("starting a status read"))?;
    let staged = counts(&tx, "SELECT kind, count(*) FROM records GROUP BY kind")?;
    let loaded = counts(
        &tx,
        "SELECT kind, count(*) FROM ledger WHERE outcome NOT IN ('failed', 'removed') GROUP BY kind",
    )?;
    let failed = counts(
        &tx,
        "SELECT kind, count(*) FROM ledger WHERE outcome = 'failed' GROUP BY kind",
    )?;
    let problems = counts(&tx, "SELECT kind, count(*) FROM problems GROUP BY kind")?;
    let get = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    let kinds = RecordKind::ALL
        .into_iter()
        .map(|kind| KindStatus {
            kind,
            staged: get(&staged, kind.as_str()),
            loaded: get(&loaded, kind.as_str()),
            failed: get(&failed, kind.as_str()),
            problems: get(&problems, kind.as_str()),
        })
        .filter(|k| k.staged + k.loaded + k.failed + k.problems > 0)
        .collect();

    let by_code = counts(&tx, "SELECT code, count(*) FROM problems GROUP BY code")?;
    let mut groups = Vec::with_capacity(by_code.len());
    let limit = i64::try_from(examples).unwrap_or(i64::MAX);
    let mut st = tx
        .prepare_cached(
            "SELECT kind, system, id, stage, reason, error_kind, run_id FROM problems
             WHERE code = ?1 ORDER BY kind, system, id, stage LIMIT ?2",
        )
        .map_err(q("preparing problem examples"))?;
    for (code, count) in by_code {
        type Cols = (String, String, String, String, String, String, i64);
        let cols: Vec<Cols> = st
            .query_map(params![code, limit], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })
            .and_then(Iterator::collect)
            .map_err(q("reading problem examples"))?;
        let examples = cols
            .into_iter()
            .map(|(kind, system, id, stage, reason, error_kind, run)| {
                rows::stored_problem(
                    &(kind, system, id),
                    &stage,
                    code.clone(),
                    reason,
                    &error_kind,
                    run,
                )
            })
            .collect::<Result<_, _>>()?;
        groups.push(ProblemGroup {
            code,
            count,
            examples,
        });
    }
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));

    let mut st = tx
        .prepare_cached("SELECT stream, cursor, run_id FROM cursors ORDER BY stream")
        .map_err(q("preparing cursors"))?;
    let cursors = st
        .query_map([], |r| {
            Ok(CursorState {
                stream: r.get(0)?,
                cursor: r.get(1)?,
                run: RunId(r.get(2)?),
            })
        })
        .and_then(Iterator::collect)
        .map_err(q("reading cursors"))?;
    let runs = runs(&tx)?;
    Ok(StatusReport {
        kinds,
        problems: groups,
        cursors,
        runs,
    })
}

/// Every row of every deskmove table (not SQLite's internal tables, nor refinery's migration
/// history and the activity log, which record wall-clock times), rendered like the memory store
/// renders them.
pub(super) fn dump(c: &Connection) -> Result<Dump, StoreError> {
    let tx = c.unchecked_transaction().map_err(q("starting a dump"))?;
    let tables: Vec<String> = tx
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table'
             AND name NOT LIKE 'sqlite_%' AND name NOT IN ('refinery_schema_history', 'activity')
             AND name NOT LIKE 'archive_text%'
             ORDER BY name",
        )
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(q("listing tables"))?;
    let mut dump = Dump::default();
    for table in tables {
        // Table names come from sqlite_schema, not from input; quote them anyway. The thread
        // columns of `records` are derived from the body (schema 6), so the dump leaves them out.
        let sql = if table == "records" {
            "SELECT kind, system, id, hash, updated_at, body, run_id FROM records".to_owned()
        } else {
            format!("SELECT * FROM \"{}\"", table.replace('"', "\"\""))
        };
        let mut st = tx.prepare(&sql).map_err(q("preparing a dump"))?;
        let width = st.column_count();
        let mut out: Vec<String> = st
            .query_map([], |r| {
                let mut cells = Vec::with_capacity(width);
                for i in 0..width {
                    cells.push(match r.get_ref(i)? {
                        ValueRef::Null => Cell::Null,
                        ValueRef::Integer(v) => Cell::Int(v),
                        ValueRef::Real(v) => Cell::Real(v),
                        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
                    });
                }
                Ok(render_row(cells))
            })
            .and_then(Iterator::collect)
            .map_err(q("dumping a table"))?;
        out.sort();
        dump.tables.insert(table, out);
    }
    Ok(dump)
}

pub(super) fn problems(
    c: &Connection,
    after: Option<&Problem>,
    limit: usize,
) -> Result<Vec<StoredProblem>, StoreError> {
    type Cols = (String, String, String, String, String, String, String, i64);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let map = |r: &rusqlite::Row<'_>| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ))
    };
    let head = "SELECT kind, system, id, stage, code, reason, error_kind, run_id FROM problems";
    let tail = "ORDER BY kind, system, id, stage, code";
    let cols: Vec<Cols> = match after {
        Some(p) => c
            .prepare_cached(&format!(
                "{head} WHERE (kind, system, id, stage, code) > (?1, ?2, ?3, ?4, ?5) {tail} LIMIT ?6"
            ))
            .and_then(|mut st| {
                st.query_map(
                    params![p.key.kind.as_str(), p.key.system, p.key.id, p.stage.as_str(), p.code, limit],
                    map,
                )?
                .collect()
            }),
        None => c
            .prepare_cached(&format!("{head} {tail} LIMIT ?1"))
            .and_then(|mut st| st.query_map(params![limit], map)?.collect()),
    }
    .map_err(q("reading problems"))?;
    cols.into_iter()
        .map(|(kind, system, id, stage, code, reason, error_kind, run)| {
            rows::stored_problem(&(kind, system, id), &stage, code, reason, &error_kind, run)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query plan SQLite picks for `sql` on a store's schema (no statistics, as on a fresh
    /// store), one detail line per step.
    fn plan(sql: &str) -> Vec<String> {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::embedded::migrations::runner()
            .run(&mut c)
            .unwrap();
        let params = sql.matches('?').count();
        let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        st.query_map(params_from_iter(std::iter::repeat_n(1, params)), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    /// Regression: thread-order pages sorted every staged message for each page (the planner
    /// took the `(kind, system, id)` index), so a load's message pass grew with the square of
    /// its messages.
    #[test]
    fn thread_order_pages_walk_the_thread_index_without_sorting() {
        for sql in [THREAD_PAGE_FIRST, THREAD_PAGE_AFTER] {
            let steps = plan(sql);
            assert!(
                steps.iter().all(|s| !s.contains("TEMP B-TREE")),
                "{steps:?}"
            );
            assert!(
                steps.iter().any(|s| s.contains("records_by_thread")),
                "{steps:?}"
            );
        }
    }
}
