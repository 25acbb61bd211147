//! Record identity. Every record deskmove touches is named by where it came from, so the ledger can
//! answer "was this already loaded, and as what?" across runs and crashes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kinds of canonical records, in the order a load must respect (dependencies first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(
    serialize_all = "snake_case",
    parse_err_ty = UnknownKind,
    parse_err_fn = UnknownKind::from
)]
pub enum RecordKind {
    /// A support agent.
    Agent,
    /// A group of agents.
    Team,
    /// A tag or label.
    Tag,
    /// The definition of a custom attribute.
    AttributeDefinition,
    /// An organisation that contacts belong to.
    Company,
    /// A customer or lead.
    Contact,
    /// A saved reply with placeholders.
    Macro,
    /// A help-center collection (category); collections nest.
    Collection,
    /// A help-center article.
    Article,
    /// A conversation or ticket thread.
    Conversation,
    /// One part of a conversation: reply, note or event.
    Message,
    /// A file attached to a message or article.
    Attachment,
}

impl RecordKind {
    /// Every kind, in load order.
    pub const ALL: [RecordKind; 12] = [
        Self::Agent,
        Self::Team,
        Self::Tag,
        Self::AttributeDefinition,
        Self::Company,
        Self::Contact,
        Self::Macro,
        Self::Collection,
        Self::Article,
        Self::Conversation,
        Self::Message,
        Self::Attachment,
    ];

    /// The stable snake_case name used in the store, reports and the CLI.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returned when a string names no [`RecordKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown record kind `{0}`")]
pub struct UnknownKind(pub String);

impl From<&str> for UnknownKind {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Where a record came from: the source system, its kind there, and the source's own id.
///
/// The id is kept as the vendor's string form, never re-numbered, so reports and the archive can
/// always be traced back to the source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceKey {
    /// The source system: the source connector's name.
    pub system: String,
    /// What the record is.
    pub kind: RecordKind,
    /// The source system's id for it.
    pub id: String,
}

impl SourceKey {
    /// A key for `id` of `kind` in `system`.
    pub fn new(system: impl Into<String>, kind: RecordKind, id: impl Into<String>) -> Self {
        Self {
            system: system.into(),
            kind,
            id: id.into(),
        }
    }
}

impl fmt::Display for SourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.system, self.kind, self.id)
    }
}
