//! The canonical records: one vendor-neutral shape per kind, between every source and every
//! target. Each record carries its [`SourceKey`], its original timestamps in UTC, and an `extra`
//! map holding every vendor field that has no canonical home — nothing read is ever dropped.

mod conversation;
mod directory;
mod knowledge;
mod record;

pub use conversation::{
    Attachment, Author, AuthorKind, BlobRef, Conversation, ConversationState, Event, Message,
    MessageKind,
};
pub use directory::{
    Agent, AttributeDefinition, AttributeModel, AttributeType, Company, Contact, ContactRole, Tag,
    Team,
};
pub use knowledge::{Article, ArticleState, Collection, Macro};
pub use record::Record;

/// Vendor fields with no canonical home, kept verbatim.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// Custom attribute values by attribute name.
pub type Attributes = serde_json::Map<String, serde_json::Value>;

pub use crate::key::SourceKey;
pub use jiff::Timestamp;
