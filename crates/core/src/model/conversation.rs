//! Conversations, their messages and the files attached to them.

use serde::{Deserialize, Serialize};

use super::{Attributes, Extra, SourceKey, Timestamp};

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    /// Waiting on the team.
    Open,
    /// Waiting on the customer (what several helpdesks call "pending").
    Pending,
    /// Put aside until a time.
    Snoozed,
    /// Closed / resolved / solved.
    Closed,
}

/// A conversation or ticket thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Source identity.
    pub key: SourceKey,
    /// Title or subject, when the source has one.
    pub subject: Option<String>,
    /// The customers taking part; the first is the one who started it.
    pub contacts: Vec<SourceKey>,
    /// The agent it is assigned to.
    pub assignee: Option<SourceKey>,
    /// The team it is assigned to.
    pub team: Option<SourceKey>,
    /// Current state.
    pub state: ConversationState,
    /// Until when it is snoozed.
    pub snoozed_until: Option<Timestamp>,
    /// Priority as the source names it (`urgent`, `high`, `priority`, ...).
    pub priority: Option<String>,
    /// Tags on the conversation.
    pub tags: Vec<SourceKey>,
    /// Custom attribute values.
    pub attributes: Attributes,
    /// The number of messages the source says the conversation has. When larger than the messages
    /// extracted, the source truncated it (some APIs return only the most recent messages of a
    /// long conversation) and a problem says so.
    pub source_message_count: Option<u64>,
    /// When the source created it.
    pub created_at: Timestamp,
    /// When the source last changed it.
    pub updated_at: Option<Timestamp>,
    /// Vendor fields with no canonical home.
    pub extra: Extra,
}

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Visible to the customer.
    Reply,
    /// Internal, agents only.
    Note,
    /// A state change: assignment, open, close, snooze, tag...
    Event,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    /// A customer or lead.
    Contact,
    /// A human agent.
    Agent,
    /// A bot or automation (assistants, workflows, auto-replies).
    Bot,
    /// The system itself, with no person behind it.
    System,
}

/// The author of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// What kind of author.
    pub kind: AuthorKind,
    /// The author's record, when it is one we know (agent or contact).
    pub key: Option<SourceKey>,
    /// The name shown at the source, kept for authors with no record.
    pub name: Option<String>,
    /// The email shown at the source.
    pub email: Option<String>,
}

/// A state change carried by an event message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// What happened, as the source names it (`assignment`, `close`, `snoozed`, ...).
    pub action: String,
    /// Agent assigned to, for assignments.
    pub assigned_to: Option<SourceKey>,
    /// Further details as the source gave them.
    pub detail: Extra,
}

/// One part of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Source identity.
    pub key: SourceKey,
    /// The conversation it belongs to.
    pub conversation: SourceKey,
    /// Reply, note or event.
    pub kind: MessageKind,
    /// Who wrote it.
    pub author: Author,
    /// The body as received.
    pub body_html: Option<String>,
    /// The body as Markdown.
    pub body_markdown: Option<String>,
    /// Inline image sources found in the body, to be re-hosted.
    pub inline_images: Vec<String>,
    /// For events: what changed.
    pub event: Option<Event>,
    /// Files attached to it.
    pub attachments: Vec<SourceKey>,
    /// When it was written.
    pub created_at: Timestamp,
    /// When the source last changed it.
    pub updated_at: Option<Timestamp>,
    /// Vendor fields with no canonical home (the source's part type among them).
    pub extra: Extra,
}

/// Where an attachment's bytes are kept in the blob store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    /// blake3 of the content, hex; also the blob store key.
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
}

/// A file attached to a message or article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// Source identity.
    pub key: SourceKey,
    /// The message or article it belongs to.
    pub owner: SourceKey,
    /// File name.
    pub file_name: String,
    /// MIME type as the source reported it.
    pub content_type: Option<String>,
    /// Size the source reported.
    pub size: Option<u64>,
    /// Where the source served it (signed URLs expire; never a credential).
    pub source_url: Option<String>,
    /// The downloaded bytes, once in the blob store.
    pub blob: Option<BlobRef>,
    /// Vendor fields with no canonical home.
    pub extra: Extra,
}
