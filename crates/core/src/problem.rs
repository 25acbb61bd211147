//! Per-record problems. A record that cannot be taken as it is never stops a run and is never
//! silent: it gets a problem with a stable code and a human reason, shown by `status`, `verify` and
//! the report.

use serde::{Deserialize, Serialize};

use crate::error::ErrorKind;
use crate::key::SourceKey;

/// The phase in which a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Stage {
    /// Reading from the source.
    Extract,
    /// Turning vendor values into canonical ones.
    Normalize,
    /// Turning canonical records into target writes.
    Map,
    /// Writing to the target.
    Load,
    /// Comparing source and target.
    Verify,
}

impl Stage {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Something about one record that the operator should know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The record concerned.
    pub key: SourceKey,
    /// When it was found.
    pub stage: Stage,
    /// A stable snake_case code to group by, e.g. `invalid_email`.
    pub code: String,
    /// A sentence for a person: what is wrong and what was kept.
    pub reason: String,
    /// The error kind, which decides whether a later run may succeed on its own.
    pub kind: ErrorKind,
}

impl Problem {
    /// A problem with `code` and `reason` for `key`.
    pub fn new(
        key: SourceKey,
        stage: Stage,
        kind: ErrorKind,
        code: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            key,
            stage,
            code: code.into(),
            reason: reason.into(),
            kind,
        }
    }
}
