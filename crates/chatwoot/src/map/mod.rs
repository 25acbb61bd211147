//! From canonical records to Chatwoot's rows: pure functions shared by the load paths (the API
//! path of R2.2 and the PostgreSQL path of R2.3), so both write the same values.
//!
//! Each function takes a canonical record and what the target already resolved (ids of parents,
//! people and labels) and returns a row in Chatwoot's own terms — enum integers, lower-cased
//! email, label slugs — plus the problems found on the way. Facts: research/chatwoot.md §6
//! (enum integers, per-table rules) and §0.6, §0.9 (contact and label validation).

mod attribute;
mod canned;
mod contact;
mod conversation;
mod label;
mod message;

pub use attribute::{AttributeDefinitionRow, attribute_definition, attribute_key};
pub use canned::{CannedResponseRow, canned_response};
pub use contact::{ContactRow, contact, valid_phone};
pub use conversation::{ConversationRow, Refs as ConversationRefs, conversation, status};
pub use label::{LabelTitle, label_title};
pub use message::{MessageRow, Sender, content_type, message, message_type, source_id};

use deskmove_core::SourceKey;

/// The marker deskmove writes into the rows it creates, naming the source record
/// (`<system>:<kind>:<id>`); crash reconciliation and inspection find rows by it.
pub fn marker(key: &SourceKey) -> String {
    key.to_string()
}

/// Chatwoot stores `timestamp without time zone` holding UTC (research/chatwoot.md §6).
pub fn civil(t: jiff::Timestamp) -> jiff::civil::DateTime {
    t.to_zoned(jiff::tz::TimeZone::UTC).datetime()
}
