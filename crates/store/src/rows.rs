//! The row-level form of what a store holds, shared by every implementation so they agree on
//! semantics and on the exact bytes of a [`Dump`](crate::Dump): batches are validated and turned
//! into rows here once, then each backend applies the rows in the same order.

use deskmove_core::connector::TargetInstance;
use deskmove_core::{ErrorKind, Problem, Record, RecordKind, SourceKey, Stage, canonical_json};
use jiff::Timestamp;

use crate::error::StoreError;
use crate::types::{
    Activity, ActivityPhase, LoadBatch, Outcome, RunId, StagedBatch, StoredProblem, StoredRecord,
    ThreadPosition,
};

/// A source key as stored: (kind, system, id). Kind first, so one index both finds a key and
/// pages through a kind.
pub(crate) type KeyColumns = (String, String, String);

pub(crate) fn key_columns(key: &SourceKey) -> KeyColumns {
    (
        key.kind.as_str().to_owned(),
        key.system.clone(),
        key.id.clone(),
    )
}

pub(crate) fn source_key(kind: &str, system: String, id: String) -> Result<SourceKey, StoreError> {
    let kind: RecordKind = kind
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown record kind `{kind}`")))?;
    Ok(SourceKey { system, kind, id })
}

/// Stages whose problems are re-reported every time a record is staged, so staging a record
/// replaces them.
pub(crate) const STAGING_STAGES: [Stage; 2] = [Stage::Extract, Stage::Normalize];
/// Stages whose problems a successful load clears.
pub(crate) const LOADING_STAGES: [Stage; 2] = [Stage::Map, Stage::Load];

pub(crate) fn parse_stage(s: &str) -> Result<Stage, StoreError> {
    [
        Stage::Extract,
        Stage::Normalize,
        Stage::Map,
        Stage::Load,
        Stage::Verify,
    ]
    .into_iter()
    .find(|v| v.as_str() == s)
    .ok_or_else(|| StoreError::Corrupt(format!("unknown stage `{s}`")))
}

pub(crate) fn parse_error_kind(s: &str) -> Result<ErrorKind, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StoreError::Corrupt(format!("unknown error kind `{s}`")))
}

pub(crate) fn parse_outcome(s: &str) -> Result<Outcome, StoreError> {
    s.parse::<Outcome>()
        .ok()
        .ok_or_else(|| StoreError::Corrupt(format!("unknown outcome `{s}`")))
}

pub(crate) fn parse_time(s: &str) -> Result<Timestamp, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad timestamp `{s}`")))
}

/// When the source last changed a record, for the kinds that say.
fn updated_at(record: &Record) -> Option<Timestamp> {
    match record {
        Record::Company(r) => r.updated_at,
        Record::Contact(r) => r.updated_at,
        Record::Macro(r) => r.updated_at,
        Record::Collection(r) => r.updated_at,
        Record::Article(r) => r.updated_at,
        Record::Conversation(r) => r.updated_at,
        Record::Message(r) => r.updated_at,
        Record::Agent(_)
        | Record::Team(_)
        | Record::Tag(_)
        | Record::AttributeDefinition(_)
        | Record::Attachment(_) => None,
    }
}

/// A record's stored body: the canonical JSON of the variant's own struct, without the enum tag
/// (the `kind` column says which variant). Not `Record`'s own serde form, because its
/// `"kind"` tag collides with `Message::kind`, so a tagged message cannot be read back.
fn record_body(record: &Record) -> Result<Vec<u8>, serde_json::Error> {
    match record {
        Record::Agent(r) => canonical_json(r),
        Record::Team(r) => canonical_json(r),
        Record::Tag(r) => canonical_json(r),
        Record::AttributeDefinition(r) => canonical_json(r),
        Record::Company(r) => canonical_json(r),
        Record::Contact(r) => canonical_json(r),
        Record::Macro(r) => canonical_json(r),
        Record::Collection(r) => canonical_json(r),
        Record::Article(r) => canonical_json(r),
        Record::Conversation(r) => canonical_json(r),
        Record::Message(r) => canonical_json(r),
        Record::Attachment(r) => canonical_json(r),
    }
}

/// The inverse of [`record_body`].
fn parse_record(kind: RecordKind, body: &str) -> Result<Record, serde_json::Error> {
    use serde_json::from_str;
    Ok(match kind {
        RecordKind::Agent => Record::Agent(from_str(body)?),
        RecordKind::Team => Record::Team(from_str(body)?),
        RecordKind::Tag => Record::Tag(from_str(body)?),
        RecordKind::AttributeDefinition => Record::AttributeDefinition(from_str(body)?),
        RecordKind::Company => Record::Company(from_str(body)?),
        RecordKind::Contact => Record::Contact(from_str(body)?),
        RecordKind::Macro => Record::Macro(from_str(body)?),
        RecordKind::Collection => Record::Collection(from_str(body)?),
        RecordKind::Article => Record::Article(from_str(body)?),
        RecordKind::Conversation => Record::Conversation(from_str(body)?),
        RecordKind::Message => Record::Message(from_str(body)?),
        RecordKind::Attachment => Record::Attachment(from_str(body)?),
    })
}

pub(crate) struct RawRow {
    pub key: KeyColumns,
    pub hash: String,
    pub body: Vec<u8>,
}

pub(crate) struct RecordRow {
    pub key: KeyColumns,
    pub hash: String,
    pub updated_at: Option<String>,
    /// Canonical JSON (sorted keys), so equal records are equal bytes.
    pub body: String,
    /// Where a message sits in thread order; `None` for every other kind.
    pub thread: Option<ThreadColumns>,
}

/// A message's place in thread order as stored: (conversation system, conversation id, created
/// at in nanoseconds since the epoch). The record's own (system, id) breaks ties.
pub(crate) type ThreadColumns = (String, String, i64);

/// Nanoseconds since the epoch, clamped to what an `i64` holds (years 1678 to 2262).
pub(crate) fn thread_nanos(at: Timestamp) -> i64 {
    i64::try_from(at.as_nanosecond()).unwrap_or(if at.as_second() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

pub(crate) fn thread_columns(record: &Record) -> Option<ThreadColumns> {
    match record {
        Record::Message(m) => Some((
            m.conversation.system.clone(),
            m.conversation.id.clone(),
            thread_nanos(m.created_at),
        )),
        _ => None,
    }
}

/// The stored columns of a [`ThreadPosition`]: (conversation system, conversation id, created
/// at, message system, message id).
pub(crate) fn position_columns(p: &ThreadPosition) -> (String, String, i64, String, String) {
    (
        p.conversation.system.clone(),
        p.conversation.id.clone(),
        thread_nanos(p.created_at),
        p.key.system.clone(),
        p.key.id.clone(),
    )
}

pub(crate) struct ProblemRow {
    pub key: KeyColumns,
    pub stage: &'static str,
    pub code: String,
    pub reason: String,
    pub error_kind: &'static str,
}

pub(crate) struct LedgerRow {
    pub key: KeyColumns,
    pub target: TargetInstance,
    pub target_id: Option<String>,
    pub content_hash: Option<String>,
    pub outcome: Outcome,
}

/// A validated [`StagedBatch`], in rows. Apply in field order: raw, records (each replacing the
/// record's extract/normalize problems), problems, cursor.
pub(crate) struct PreparedBatch {
    pub run: RunId,
    pub stream: String,
    pub cursor: Option<String>,
    pub raw: Vec<RawRow>,
    pub records: Vec<RecordRow>,
    pub problems: Vec<ProblemRow>,
    /// Its activity log row.
    pub activity: ActivityRow,
}

/// A validated [`LoadBatch`], in rows. Apply in field order: ledger entries (a non-failed outcome
/// clears the key's map/load problems), then problems.
pub(crate) struct PreparedLoads {
    pub run: RunId,
    pub entries: Vec<LedgerRow>,
    pub problems: Vec<ProblemRow>,
    /// Its activity log row.
    pub activity: ActivityRow,
}

/// An activity log row, stamped when the batch is prepared (the store's clock).
pub(crate) struct ActivityRow {
    pub phase: ActivityPhase,
    pub at: Timestamp,
    pub records: u64,
    pub problems: u64,
}

impl ActivityRow {
    pub(crate) fn entry(&self, run: RunId) -> Activity {
        Activity {
            run,
            phase: self.phase,
            at: self.at,
            records: self.records,
            problems: self.problems,
        }
    }
}

fn problem_row(p: &Problem) -> Result<ProblemRow, StoreError> {
    if p.code.is_empty() {
        return Err(StoreError::Invalid(format!(
            "problem on {} has an empty code",
            p.key
        )));
    }
    Ok(ProblemRow {
        key: key_columns(&p.key),
        stage: p.stage.as_str(),
        code: p.code.clone(),
        reason: p.reason.clone(),
        error_kind: p.kind.as_str(),
    })
}

pub(crate) fn prepare_batch(batch: StagedBatch) -> Result<PreparedBatch, StoreError> {
    if batch.stream.is_empty() {
        return Err(StoreError::Invalid("batch has an empty stream name".into()));
    }
    let raw = batch
        .raw
        .into_iter()
        .map(|r| RawRow {
            key: key_columns(&r.key),
            hash: r.hash().0,
            body: r.body,
        })
        .collect();
    let records: Vec<RecordRow> = batch
        .records
        .iter()
        .map(|record| {
            let key = record.key();
            if record.kind() != key.kind {
                return Err(StoreError::Invalid(format!(
                    "record {key} is a {} but its key says {}",
                    record.kind(),
                    key.kind
                )));
            }
            let body = record_body(record).map_err(StoreError::serde(key))?;
            let body = String::from_utf8(body)
                .map_err(|_| StoreError::Invalid(format!("record {key} is not UTF-8 JSON")))?;
            Ok(RecordRow {
                key: key_columns(key),
                // The core hash, so callers may compare it with `Record::content_hash` directly.
                hash: record.content_hash().map_err(StoreError::serde(key))?.0,
                updated_at: updated_at(record).map(|t| t.to_string()),
                body,
                thread: thread_columns(record),
            })
        })
        .collect::<Result<_, _>>()?;
    let problems: Vec<ProblemRow> = batch
        .problems
        .iter()
        .map(problem_row)
        .collect::<Result<_, _>>()?;
    let activity = ActivityRow {
        phase: ActivityPhase::Extract,
        at: Timestamp::now(),
        records: records.len() as u64,
        problems: problems.len() as u64,
    };
    Ok(PreparedBatch {
        run: batch.run,
        stream: batch.stream,
        cursor: batch.cursor,
        raw,
        records,
        problems,
        activity,
    })
}

pub(crate) fn prepare_loads(batch: LoadBatch) -> Result<PreparedLoads, StoreError> {
    let entries: Vec<LedgerRow> = batch
        .entries
        .into_iter()
        .map(|e| {
            if e.run != batch.run {
                return Err(StoreError::Invalid(format!(
                    "ledger entry for {} names run {} inside a batch of run {}",
                    e.key, e.run, batch.run
                )));
            }
            if e.target.vendor.is_empty() {
                return Err(StoreError::Invalid(format!(
                    "ledger entry for {} has no target vendor",
                    e.key
                )));
            }
            if !matches!(e.outcome, Outcome::Failed | Outcome::Removed)
                && (e.target_id.is_none() || e.content_hash.is_none())
            {
                return Err(StoreError::Invalid(format!(
                    "ledger entry for {} is {} without a target id and hash",
                    e.key,
                    e.outcome.as_str()
                )));
            }
            Ok(LedgerRow {
                key: key_columns(&e.key),
                target: e.target,
                target_id: e.target_id,
                content_hash: e.content_hash.map(|h| h.0),
                outcome: e.outcome,
            })
        })
        .collect::<Result<_, _>>()?;
    let problems: Vec<ProblemRow> = batch
        .problems
        .iter()
        .map(problem_row)
        .collect::<Result<_, _>>()?;
    let handled: std::collections::BTreeSet<&KeyColumns> = entries
        .iter()
        .map(|e| &e.key)
        .chain(problems.iter().map(|p| &p.key))
        .collect();
    let activity = ActivityRow {
        phase: ActivityPhase::Load,
        at: Timestamp::now(),
        records: handled.len() as u64,
        problems: problems.len() as u64,
    };
    Ok(PreparedLoads {
        run: batch.run,
        entries,
        problems,
        activity,
    })
}

pub(crate) fn stored_record(
    kind: &str,
    body: &str,
    hash: String,
    updated_at: Option<&str>,
    run: i64,
) -> Result<StoredRecord, StoreError> {
    let parsed: RecordKind = kind
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown record kind `{kind}`")))?;
    let record = parse_record(parsed, body)
        .map_err(|e| StoreError::Corrupt(format!("a stored {kind} record does not parse: {e}")))?;
    Ok(StoredRecord {
        record,
        hash: deskmove_core::ContentHash(hash),
        updated_at: updated_at.map(parse_time).transpose()?,
        run: RunId(run),
    })
}

/// A problem row read back, in table column order after the key.
pub(crate) fn stored_problem(
    key: &KeyColumns,
    stage: &str,
    code: String,
    reason: String,
    error_kind: &str,
    run: i64,
) -> Result<StoredProblem, StoreError> {
    Ok(StoredProblem {
        problem: Problem {
            key: source_key(&key.0, key.1.clone(), key.2.clone())?,
            stage: parse_stage(stage)?,
            code,
            reason,
            kind: parse_error_kind(error_kind)?,
        },
        run: RunId(run),
    })
}

/// Blob sizes are stored as SQLite integers (i64).
pub(crate) fn blob_size(size: u64) -> Result<i64, StoreError> {
    i64::try_from(size).map_err(|_| StoreError::Invalid(format!("blob size {size} is too large")))
}

/// One cell of a dumped row.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Self {
        v.map_or(Cell::Null, Cell::Text)
    }
}

/// Renders a row as a JSON array; blobs as `{"blob": "<hex>"}` so they never collide with text.
pub(crate) fn render_row(cells: Vec<Cell>) -> String {
    let values: Vec<serde_json::Value> = cells
        .into_iter()
        .map(|c| match c {
            Cell::Null => serde_json::Value::Null,
            Cell::Int(i) => i.into(),
            Cell::Real(f) => serde_json::Number::from_f64(f)
                .map_or_else(|| serde_json::Value::String(f.to_string()), Into::into),
            Cell::Text(s) => s.into(),
            Cell::Blob(b) => {
                let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
                serde_json::json!({ "blob": hex })
            }
        })
        .collect();
    serde_json::Value::Array(values).to_string()
}
