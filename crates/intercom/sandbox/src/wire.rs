//! Typed wire shapes for conversations (`conversation`, `conversation_list_item`,
//! `conversation_part` in the 2.16 spec), serialised straight to bytes: the hot path of an
//! export (one retrieve per conversation) must not build a `serde_json::Value` tree.

use serde::Serialize;

/// A part's author; conversations render each distinct author once.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AuthorOut {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) email: String,
    pub(crate) from_ai_agent: bool,
    pub(crate) is_ai_answer: bool,
}

/// A `{type, id}` reference (assignee, teammate, tagger).
#[derive(Debug, Serialize)]
pub(crate) struct RefOut {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) id: Option<String>,
}

/// An `upload` with its signed URL on the file host.
#[derive(Debug, Serialize)]
pub(crate) struct AttachmentOut<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) name: &'a str,
    pub(crate) url: String,
    pub(crate) content_type: &'static str,
    pub(crate) filesize: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) height: Option<u32>,
}

/// A `conversation_part`.
#[derive(Debug, Serialize)]
pub(crate) struct PartOut<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) id: String,
    pub(crate) part_type: &'static str,
    pub(crate) body: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) notified_at: i64,
    pub(crate) assigned_to: Option<RefOut>,
    pub(crate) author: &'a AuthorOut,
    pub(crate) attachments: Vec<AttachmentOut<'a>>,
    pub(crate) external_id: Option<()>,
    pub(crate) redacted: bool,
    pub(crate) state: &'static str,
    pub(crate) tags: [(); 0],
    pub(crate) app_package_code: Option<()>,
}

/// `conversation_part.list`: the retrieved parts and how many were returned.
#[derive(Debug, Serialize)]
pub(crate) struct PartsOut<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) total_count: usize,
    pub(crate) conversation_parts: Vec<PartOut<'a>>,
}

/// A tag as applied to a conversation.
#[derive(Debug, Serialize)]
pub(crate) struct TagOut {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) applied_at: i64,
    pub(crate) applied_by: RefOut,
}

/// `{type, <items>}`: Intercom's typed lists (`tag.list`, `contact.list`, `admin.list`).
#[derive(Debug, Serialize)]
pub(crate) struct TypedList<T> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(flatten)]
    pub(crate) items: T,
}

/// The items of a `tag.list`.
#[derive(Debug, Serialize)]
pub(crate) struct Tags {
    pub(crate) tags: Vec<TagOut>,
}

/// A contact reference with its external id.
#[derive(Debug, Serialize)]
pub(crate) struct ContactRefOut {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) id: String,
    pub(crate) external_id: Option<String>,
}

/// The items of a `contact.list`.
#[derive(Debug, Serialize)]
pub(crate) struct Contacts {
    pub(crate) contacts: Vec<ContactRefOut>,
}

/// The items of a teammates `admin.list`.
#[derive(Debug, Serialize)]
pub(crate) struct Teammates {
    pub(crate) teammates: Vec<RefOut>,
}

/// The author of a conversation's first message (always the contact).
#[derive(Debug, Serialize)]
pub(crate) struct SourceAuthorOut {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
}

/// A conversation's first message (`source`).
#[derive(Debug, Serialize)]
pub(crate) struct SourceOut<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) id: String,
    pub(crate) delivered_as: &'static str,
    pub(crate) subject: String,
    pub(crate) body: String,
    pub(crate) author: SourceAuthorOut,
    pub(crate) attachments: Vec<AttachmentOut<'a>>,
    pub(crate) url: Option<()>,
    pub(crate) redacted: bool,
}

/// `conversation_statistics`.
#[derive(Debug, Serialize)]
pub(crate) struct StatsOut {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) count_reopens: usize,
    pub(crate) count_assignments: usize,
    /// The true total, even when retrieval returns only the 500 most recent (§2).
    pub(crate) count_conversation_parts: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) first_admin_reply_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) time_to_admin_reply: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) last_close_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) last_closed_by_id: Option<String>,
}

/// `first_contact_reply`.
#[derive(Debug, Serialize)]
pub(crate) struct FirstReplyOut {
    pub(crate) created_at: i64,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) url: Option<()>,
}

/// `linked_objects`, always empty here.
#[derive(Debug, Serialize)]
pub(crate) struct LinkedOut {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) data: [(); 0],
    pub(crate) total_count: u64,
    pub(crate) has_more: bool,
}

/// `{}`.
#[derive(Debug, Serialize)]
pub(crate) struct EmptyObject {}

/// A conversation as listed, searched (no parts) or retrieved (at most the 500 most recent parts).
#[derive(Debug, Serialize)]
pub(crate) struct ConversationOut<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) id: &'a str,
    pub(crate) title: Option<&'a str>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) waiting_since: Option<i64>,
    pub(crate) snoozed_until: Option<i64>,
    pub(crate) open: bool,
    pub(crate) state: &'static str,
    pub(crate) read: bool,
    pub(crate) priority: &'static str,
    /// 2.16: 0 when unassigned (§0).
    pub(crate) admin_assignee_id: u64,
    pub(crate) team_assignee_id: u64,
    pub(crate) company: Option<()>,
    pub(crate) tags: TypedList<Tags>,
    pub(crate) conversation_rating: Option<()>,
    pub(crate) source: SourceOut<'a>,
    pub(crate) contacts: TypedList<Contacts>,
    pub(crate) teammates: TypedList<Teammates>,
    pub(crate) custom_attributes: EmptyObject,
    pub(crate) first_contact_reply: FirstReplyOut,
    pub(crate) statistics: StatsOut,
    pub(crate) linked_objects: LinkedOut,
    pub(crate) ai_agent_participated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) conversation_parts: Option<PartsOut<'a>>,
}

/// `conversation.list`: listed or searched conversations, without parts.
#[derive(Debug, Serialize)]
pub(crate) struct ConversationListOut<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) conversations: Vec<ConversationOut<'a>>,
    pub(crate) total_count: u64,
    pub(crate) pages: serde_json::Value,
}
