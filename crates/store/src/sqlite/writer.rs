//! The single writer thread. It owns the only read-write connection, takes commands from a
//! channel, and applies whatever is queued (up to a limit) in ONE transaction — a group commit:
//! under load many batches share one commit (and, with `synchronous=FULL`, one fsync). Each
//! command runs in its own savepoint, so one bad command fails alone. Callers are answered only
//! after COMMIT returned, which is what makes "Ok means durable" true.

use std::sync::mpsc;

use rusqlite::{Connection, OptionalExtension, Savepoint, TransactionBehavior, params};
use tokio::sync::oneshot;

use crate::error::StoreError;
use crate::rows::blob_size;
use crate::rows::{
    ActivityRow, LOADING_STAGES, PreparedBatch, PreparedLoads, ProblemRow, STAGING_STAGES,
};
use crate::types::{BlobMeta, NewRun, Outcome, RunId, RunStatus};

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A write for the writer thread.
pub(super) enum Command {
    StartRun(NewRun, Reply<RunId>),
    FinishRun(RunId, RunStatus, jiff::Timestamp, Reply<()>),
    Batch(PreparedBatch, Reply<()>),
    Loads(PreparedLoads, Reply<()>),
    Blob(BlobMeta, Reply<BlobMeta>),
}

/// A command applied inside the open transaction, waiting for COMMIT to answer.
enum Done {
    Run(RunId, Reply<RunId>),
    Unit(Reply<()>),
    Blob(BlobMeta, Reply<BlobMeta>),
}

impl Done {
    fn answer(self, commit: &Result<(), StoreError>) {
        // A dropped receiver means the caller gave up waiting; the write still happened.
        match self {
            Done::Run(id, tx) => drop(tx.send(commit.clone().map(|()| id))),
            Done::Unit(tx) => drop(tx.send(commit.clone())),
            Done::Blob(b, tx) => drop(tx.send(commit.clone().map(|()| b))),
        }
    }
}

/// Runs until every sender is dropped, then returns (closing the connection checkpoints the WAL).
pub(super) fn run(mut conn: Connection, rx: mpsc::Receiver<Command>, max_group: usize) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < max_group {
            match rx.try_recv() {
                Ok(cmd) => group.push(cmd),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, group);
    }
    tracing::debug!("Staging store writer stopped.");
}

fn commit_group(conn: &mut Connection, group: Vec<Command>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let err = StoreError::sqlite("beginning a write transaction")(e);
            for cmd in group {
                fail(cmd, &err);
            }
            return;
        }
    };
    let mut tx = tx;
    let mut done: Vec<Done> = Vec::with_capacity(group.len());
    for cmd in group {
        let mut sp = match tx.savepoint() {
            Ok(sp) => sp,
            Err(e) => {
                fail(cmd, &StoreError::sqlite("opening a savepoint")(e));
                continue;
            }
        };
        // On error the caller was answered and the savepoint rolls back on drop.
        let Ok(d) = apply(&mut sp, cmd) else { continue };
        if let Err(e) = sp.commit() {
            // The transaction is in an unknown state: roll it all back and fail everyone.
            let err = Err(StoreError::sqlite("releasing a savepoint")(e));
            d.answer(&err);
            for d in done {
                d.answer(&err);
            }
            return;
        }
        done.push(d);
    }
    let commit = tx.commit().map_err(StoreError::sqlite("committing"));
    tracing::trace!(commands = done.len(), "Staging store group committed.");
    if let Err(e) = &commit {
        tracing::error!(error = %e, commands = done.len(), "Staging store commit failed.");
    }
    for d in done {
        d.answer(&commit);
    }
}

fn fail(cmd: Command, e: &StoreError) {
    match cmd {
        Command::StartRun(_, tx) => drop(tx.send(Err(e.clone()))),
        Command::FinishRun(.., tx) | Command::Batch(_, tx) | Command::Loads(_, tx) => {
            drop(tx.send(Err(e.clone())))
        }
        Command::Blob(_, tx) => drop(tx.send(Err(e.clone()))),
    }
}

/// Applies one command; on error answers its caller at once and returns `Err(())`.
fn apply(sp: &mut Savepoint<'_>, cmd: Command) -> Result<Done, ()> {
    macro_rules! answer_err {
        ($result:expr, $tx:expr) => {
            match $result {
                Ok(v) => v,
                Err(e) => {
                    drop($tx.send(Err(e)));
                    return Err(());
                }
            }
        };
    }
    match cmd {
        Command::StartRun(run, tx) => Ok(Done::Run(answer_err!(start_run(sp, &run), tx), tx)),
        Command::FinishRun(run, status, at, tx) => {
            answer_err!(finish_run(sp, run, status, at), tx);
            Ok(Done::Unit(tx))
        }
        Command::Batch(batch, tx) => {
            answer_err!(apply_batch(sp, batch), tx);
            Ok(Done::Unit(tx))
        }
        Command::Loads(loads, tx) => {
            answer_err!(apply_loads(sp, loads), tx);
            Ok(Done::Unit(tx))
        }
        Command::Blob(blob, tx) => Ok(Done::Blob(answer_err!(put_blob(sp, blob), tx), tx)),
    }
}

fn start_run(c: &Connection, run: &NewRun) -> Result<RunId, StoreError> {
    let target = run.target.as_ref();
    c.prepare_cached(
        "INSERT INTO runs (command, source_system, target_system, started_at, status,
                           target_vendor, target_host, target_account, target_path)
         VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut st| {
        st.execute(params![
            run.command,
            run.source_system,
            run.target_system,
            run.started_at.to_string(),
            target.map(|t| &t.vendor),
            target.map(|t| &t.host),
            target.map(|t| &t.account),
            target.map(|t| &t.path),
        ])
    })
    .map_err(StoreError::sqlite("starting a run"))?;
    Ok(RunId(c.last_insert_rowid()))
}

fn finish_run(
    c: &Connection,
    run: RunId,
    status: RunStatus,
    at: jiff::Timestamp,
) -> Result<(), StoreError> {
    let n = c
        .prepare_cached("UPDATE runs SET status = ?2, finished_at = ?3 WHERE id = ?1")
        .and_then(|mut st| st.execute(params![run.0, status.as_str(), at.to_string()]))
        .map_err(StoreError::sqlite("finishing a run"))?;
    if n == 0 {
        return Err(StoreError::UnknownRun(run));
    }
    Ok(())
}

fn check_run(c: &Connection, run: RunId) -> Result<(), StoreError> {
    let found: Option<i64> = c
        .prepare_cached("SELECT id FROM runs WHERE id = ?1")
        .and_then(|mut st| st.query_row([run.0], |r| r.get(0)).optional())
        .map_err(StoreError::sqlite("looking up a run"))?;
    found.map(|_| ()).ok_or(StoreError::UnknownRun(run))
}

fn clear_problems(
    c: &Connection,
    key: &(String, String, String),
    stages: &[deskmove_core::Stage; 2],
) -> Result<(), StoreError> {
    c.prepare_cached(
        "DELETE FROM problems WHERE kind = ?1 AND system = ?2 AND id = ?3 AND stage IN (?4, ?5)",
    )
    .and_then(|mut st| {
        st.execute(params![
            key.0,
            key.1,
            key.2,
            stages[0].as_str(),
            stages[1].as_str()
        ])
    })
    .map_err(StoreError::sqlite("clearing problems"))?;
    Ok(())
}

fn upsert_problems(c: &Connection, problems: &[ProblemRow], run: RunId) -> Result<(), StoreError> {
    let mut st = c
        .prepare_cached(
            "INSERT INTO problems (kind, system, id, stage, code, reason, error_kind, run_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (kind, system, id, stage, code) DO UPDATE SET
               reason = excluded.reason, error_kind = excluded.error_kind, run_id = excluded.run_id",
        )
        .map_err(StoreError::sqlite("preparing problems"))?;
    for p in problems {
        st.execute(params![
            p.key.0,
            p.key.1,
            p.key.2,
            p.stage,
            p.code,
            p.reason,
            p.error_kind,
            run.0
        ])
        .map_err(StoreError::sqlite("storing a problem"))?;
    }
    Ok(())
}

fn apply_batch(c: &Connection, b: PreparedBatch) -> Result<(), StoreError> {
    check_run(c, b.run)?;
    let run = b.run.0;
    {
        // `WHERE hash <>`: identical content is not rewritten, so a replay is a no-op.
        let mut st = c
            .prepare_cached(
                "INSERT INTO raw_payloads (kind, system, id, hash, body, run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (kind, system, id) DO UPDATE SET
                   hash = excluded.hash, body = excluded.body, run_id = excluded.run_id
                 WHERE raw_payloads.hash <> excluded.hash",
            )
            .map_err(StoreError::sqlite("preparing raw payloads"))?;
        for r in &b.raw {
            st.execute(params![r.key.0, r.key.1, r.key.2, r.hash, r.body, run])
                .map_err(StoreError::sqlite("storing a raw payload"))?;
        }
    }
    {
        let mut st = c
            .prepare_cached(
                "INSERT INTO records (kind, system, id, hash, updated_at, body, run_id,
                                      thread_system, thread_id, thread_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (kind, system, id) DO UPDATE SET
                   hash = excluded.hash, updated_at = excluded.updated_at,
                   body = excluded.body, run_id = excluded.run_id,
                   thread_system = excluded.thread_system, thread_id = excluded.thread_id,
                   thread_at = excluded.thread_at
                 WHERE records.hash <> excluded.hash",
            )
            .map_err(StoreError::sqlite("preparing records"))?;
        for r in &b.records {
            clear_problems(c, &r.key, &STAGING_STAGES)?;
            let (thread_system, thread_id, thread_at) = match &r.thread {
                Some((s, i, at)) => (Some(s), Some(i), Some(*at)),
                None => (None, None, None),
            };
            st.execute(params![
                r.key.0,
                r.key.1,
                r.key.2,
                r.hash,
                r.updated_at,
                r.body,
                run,
                thread_system,
                thread_id,
                thread_at
            ])
            .map_err(StoreError::sqlite("storing a record"))?;
        }
    }
    upsert_problems(c, &b.problems, b.run)?;
    if let Some(cursor) = &b.cursor {
        c.prepare_cached(
            "INSERT INTO cursors (stream, cursor, run_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (stream) DO UPDATE SET cursor = excluded.cursor, run_id = excluded.run_id",
        )
        .and_then(|mut st| st.execute(params![b.stream, cursor, run]))
        .map_err(StoreError::sqlite("storing a cursor"))?;
    }
    log_activity(c, b.run, &b.activity)
}

fn apply_loads(c: &Connection, b: PreparedLoads) -> Result<(), StoreError> {
    check_run(c, b.run)?;
    let mut st = c
        .prepare_cached(
            "INSERT INTO ledger (kind, system, id, target_vendor, target_host, target_account,
                                 target_path, target_id, content_hash, outcome, run_id, created_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, CASE WHEN ?10 = 'loaded' THEN ?11 END)
             ON CONFLICT (target_vendor, target_host, target_account, target_path, kind, system, id)
             DO UPDATE SET
               target_id = CASE WHEN excluded.outcome = 'removed' THEN NULL
                                ELSE coalesce(excluded.target_id, ledger.target_id) END,
               content_hash = CASE WHEN excluded.outcome = 'removed' THEN NULL
                                   ELSE coalesce(excluded.content_hash, ledger.content_hash) END,
               outcome = excluded.outcome, run_id = excluded.run_id,
               created_run = CASE WHEN excluded.outcome = 'removed' THEN NULL
                                  ELSE coalesce(excluded.created_run, ledger.created_run) END",
        )
        .map_err(StoreError::sqlite("preparing ledger entries"))?;
    for e in &b.entries {
        if e.outcome != Outcome::Failed {
            clear_problems(c, &e.key, &LOADING_STAGES)?;
        }
        st.execute(params![
            e.key.0,
            e.key.1,
            e.key.2,
            e.target.vendor,
            e.target.host,
            e.target.account,
            e.target.path,
            e.target_id,
            e.content_hash,
            e.outcome.as_str(),
            b.run.0
        ])
        .map_err(StoreError::sqlite("storing a ledger entry"))?;
    }
    upsert_problems(c, &b.problems, b.run)?;
    log_activity(c, b.run, &b.activity)
}

fn log_activity(c: &Connection, run: RunId, a: &ActivityRow) -> Result<(), StoreError> {
    let count = |n: u64| {
        i64::try_from(n).map_err(|_| StoreError::Invalid(format!("a batch of {n} is too large")))
    };
    let (records, problems) = (count(a.records)?, count(a.problems)?);
    c.prepare_cached(
        "INSERT INTO activity (run_id, phase, at, records, problems) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut st| {
        st.execute(params![
            run.0,
            a.phase.as_str(),
            a.at.to_string(),
            records,
            problems
        ])
    })
    .map_err(StoreError::sqlite("logging activity"))?;
    Ok(())
}

fn put_blob(c: &Connection, b: BlobMeta) -> Result<BlobMeta, StoreError> {
    let size = blob_size(b.size)?;
    c.prepare_cached(
        "INSERT INTO blobs (hash, size, content_type, first_seen) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (hash) DO NOTHING",
    )
    .and_then(|mut st| {
        st.execute(params![
            b.hash,
            size,
            b.content_type,
            b.first_seen.to_string()
        ])
    })
    .map_err(StoreError::sqlite("indexing a blob"))?;
    super::read::blob(c, &b.hash)?
        .ok_or_else(|| StoreError::Corrupt(format!("blob {} vanished after indexing", b.hash)))
}
